import type { UploaderStrings } from '../../src/web/uploader/uploader-config-types.js';

type Vars = Record<string, string | number>;

/**
 * The page language's catalog (already completed from English by the server). Plural keys
 * follow i18next: `key_one`, `key_other`, ... chosen with the language's own rules.
 */
export class Strings {
  private readonly plural: Intl.PluralRules;

  constructor(private readonly tree: UploaderStrings, readonly lang: string) {
    this.plural = new Intl.PluralRules(lang);
  }

  private lookup(key: string): string | UploaderStrings | undefined {
    let node: string | UploaderStrings | undefined = this.tree;
    for (const part of key.split('.')) node = typeof node === 'object' ? node[part] : undefined;
    return node;
  }

  t(key: string, vars: Vars = {}): string {
    let text: unknown;
    if (typeof vars.count === 'number') {
      text = this.lookup(`${key}_${this.plural.select(vars.count)}`) ?? this.lookup(`${key}_other`);
    }
    text ??= this.lookup(key);
    if (typeof text !== 'string') return key;
    return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (match, name: string) => (name in vars ? String(vars[name]) : match));
  }

  /**
   * Uppy's locale object: its strings use %{name} and {0: singular, 1: plural}. `fixed` fills
   * variables ahead of Uppy (it would list every allowed extension and MIME type for %{types}).
   */
  uppyLocale(fixed: Record<string, string> = {}) {
    const tree = this.lookup('uppy');
    const strings: Record<string, string | UploaderStrings> = typeof tree === 'object' ? { ...tree } : {};
    for (const [key, value] of Object.entries(strings)) {
      if (typeof value === 'string') strings[key] = value.replace(/%\{(\w+)\}/g, (match, name: string) => fixed[name] ?? match);
    }
    return {
      strings: strings as Record<string, string | Record<number, string>>,
      pluralize: (n: number) => (this.plural.select(n) === 'one' ? 0 : 1),
    };
  }
}
