import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import i18next, { type TFunction } from 'i18next';
import { webPaths } from './paths.js';

/**
 * The languages of the web site. Each has one catalog, `locales/<code>/translation.json`,
 * plus one file per area of the site (`translation.<area>.json`, e.g. `translation.dashboard.json`)
 * merged into it, so a translator can edit each on its own; i18next does interpolation and plurals (with the
 * language's own plural rules: Korean, Chinese and Indonesian have a single form).
 */
export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'ko', name: '한국어' },
  { code: 'zh-CN', name: '简体中文' },
  { code: 'nl', name: 'Nederlands' },
  { code: 'id', name: 'Bahasa Indonesia' },
  { code: 'el', name: 'Ελληνικά' },
] as const;

export type LanguageCode = (typeof LANGUAGES)[number]['code'];
const CODES: readonly string[] = LANGUAGES.map((l) => l.code);

export function isLanguage(code: unknown): code is LanguageCode {
  return typeof code === 'string' && CODES.includes(code);
}

/** A language tag from a browser or a form (`ko-KR`, `zh-Hans`, `EN`) as one of ours, or null. */
export function matchLanguage(tag: string): LanguageCode | null {
  const lower = tag.trim().toLowerCase();
  const exact = LANGUAGES.find((l) => l.code.toLowerCase() === lower);
  if (exact) return exact.code;
  const primary = lower.split(/[-_]/)[0];
  // Chinese in any script goes to the one Chinese catalog we have; `in` is the old code for Indonesian.
  if (primary === 'zh') return 'zh-CN';
  if (primary === 'in') return 'id';
  return LANGUAGES.find((l) => l.code === primary)?.code ?? null;
}

/** The best of our languages for an Accept-Language header, by quality then order. */
export function languageFromAcceptHeader(header: string | undefined, offered?: readonly string[]): LanguageCode | null {
  if (!header) return null;
  const ranges = header
    .split(',')
    .map((part, index) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p)).find(Boolean);
      return { tag: tag.trim(), quality: q ? Number(q[1]) : 1, index };
    })
    .filter((r) => r.tag && r.tag !== '*' && r.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.index - b.index);
  for (const range of ranges) {
    const match = matchLanguage(range.tag);
    if (match && (!offered || offered.includes(match))) return match;
  }
  return null;
}

export interface Translator {
  lang: LanguageCode;
  t: TFunction;
}

/**
 * i18next's t() costs several microseconds a call (option objects, key parsing, nesting and
 * interpolation passes) and a page makes dozens. A string asked for with no options is always
 * the same for a language, so it is looked up once and kept (the catalogs never change while
 * the server runs); calls with options (counts, values) go to i18next every time.
 */
function withPlainCache(t: TFunction): TFunction {
  const plain = new Map<string, string>();
  const cached = (key: unknown, ...rest: unknown[]) => {
    if (rest.length > 0 || typeof key !== 'string') return (t as unknown as (...args: unknown[]) => unknown)(key, ...rest);
    let text = plain.get(key);
    if (text === undefined) {
      text = (t as unknown as (k: string) => string)(key);
      // Keys are the templates' and code's own: a bounded set, but keep the map bounded anyway.
      if (plain.size < 10_000) plain.set(key, text);
    }
    return text;
  };
  return cached as unknown as TFunction;
}

type Catalog = { [key: string]: string | Catalog };

function mergeCatalog(into: Catalog, from: Catalog, file: string, prefix = ''): void {
  for (const [key, value] of Object.entries(from)) {
    const existing = into[key];
    if (typeof value === 'object' && typeof existing === 'object') mergeCatalog(existing, value, file, `${prefix}${key}.`);
    else if (existing !== undefined) throw new Error(`${file}: key ${prefix}${key} is already defined in another catalog file`);
    else into[key] = value;
  }
}

/** A language's whole site catalog: `translation.json` and every `translation.<area>.json` beside it. */
export function siteCatalog(code: string): Catalog {
  const folder = path.join(webPaths.locales, code);
  const files = readdirSync(folder)
    .filter((name) => /^translation(\.[a-z0-9-]+)?\.json$/.test(name))
    .sort();
  const catalog: Catalog = {};
  for (const name of files) mergeCatalog(catalog, JSON.parse(readFileSync(path.join(folder, name), 'utf8')) as Catalog, `${code}/${name}`);
  return catalog;
}

export async function createTranslations(): Promise<(lang: LanguageCode) => Translator> {
  const resources = Object.fromEntries(
    LANGUAGES.map((l) => [l.code, { translation: siteCatalog(l.code) }]),
  );
  const i18n = i18next.createInstance();
  await i18n.init({
    resources,
    supportedLngs: [...CODES],
    fallbackLng: 'en',
    load: 'currentOnly',
    // Templates escape every value on output; escaping here too would show &amp;lt; on the page.
    interpolation: { escapeValue: false },
    returnNull: false,
    initAsync: false,
  });
  const cache = new Map<LanguageCode, Translator>();
  return (lang) => {
    let translator = cache.get(lang);
    if (!translator) {
      translator = { lang, t: withPlainCache(i18n.getFixedT(lang)) };
      cache.set(lang, translator);
    }
    return translator;
  };
}

/**
 * Numbers, sizes and dates written the way the language writes them. Each formatter is made
 * when first used (the first one of a process loads ICU's data for it: tens of milliseconds that a
 * page without dates or numbers, such as the first page of a new site, does not need).
 */
export class Formats {
  private number: Intl.NumberFormat | undefined;
  private dateTime: Intl.DateTimeFormat | undefined;
  private date: Intl.DateTimeFormat | undefined;
  private readonly units = new Map<string, Intl.NumberFormat>();

  constructor(readonly lang: LanguageCode, private readonly timeZone: string) {}

  count(n: number): string {
    this.number ??= new Intl.NumberFormat(this.lang);
    return this.number.format(n);
  }

  /** Decimal units, as the API's size_formatted: 1.2 MB, 1,2 MB, 1.2MB... */
  size(bytes: number): string {
    const steps: [number, string][] = [[1e12, 'terabyte'], [1e9, 'gigabyte'], [1e6, 'megabyte'], [1e3, 'kilobyte']];
    const [divisor, unit] = steps.find(([d]) => bytes >= d) ?? [1, 'byte'];
    let format = this.units.get(unit);
    if (!format) {
      // Bytes are spelled out, so the language's plural applies ("0 bytes", "1 byte"; the short form says "0 byte").
      format = new Intl.NumberFormat(this.lang, { style: 'unit', unit, unitDisplay: unit === 'byte' ? 'long' : 'short', maximumFractionDigits: 1 });
      this.units.set(unit, format);
    }
    return format.format(bytes / divisor);
  }

  /** A `YYYY-MM-DD HH:MM:SS` UTC database date. */
  dateTimeOf(utcText: string): string {
    this.dateTime ??= new Intl.DateTimeFormat(this.lang, { dateStyle: 'long', timeStyle: 'short', timeZone: this.timeZone });
    return this.dateTime.format(new Date(`${utcText.replace(' ', 'T')}Z`));
  }

  dateOf(utcText: string): string {
    this.date ??= new Intl.DateTimeFormat(this.lang, { dateStyle: 'medium', timeZone: this.timeZone });
    return this.date.format(new Date(`${utcText.replace(' ', 'T')}Z`));
  }

  /** ISO 8601 for <time datetime>. */
  isoOf(utcText: string): string {
    return `${utcText.replace(' ', 'T')}Z`;
  }
}
