import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LANGUAGES, type LanguageCode } from '../i18n.js';
import { webPaths } from '../paths.js';

/**
 * The uploader's strings, one catalog per language in `locales/<lang>/uploader.json` (beside
 * the site's `translation.json`, so a translator finds both). The browser gets the catalog of
 * the page's language, completed from English where a key is missing; plural keys follow
 * i18next's `_one`/`_other` convention and are chosen in the browser with Intl.PluralRules.
 */
export type StringTree = { [key: string]: string | StringTree };

function readCatalog(lang: string): StringTree {
  return JSON.parse(readFileSync(path.join(webPaths.locales, lang, 'uploader.json'), 'utf8')) as StringTree;
}

/** `base` with every key of `over` laid on top (nested objects merged, not replaced). */
function overlay(base: StringTree, over: StringTree): StringTree {
  const out: StringTree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = typeof value === 'object' && typeof current === 'object' ? overlay(current, value) : value;
  }
  return out;
}

let cache: Map<LanguageCode, StringTree> | null = null;

export function uploaderStrings(lang: LanguageCode): StringTree {
  if (!cache) {
    const english = readCatalog('en');
    cache = new Map(LANGUAGES.map((l) => [l.code, l.code === 'en' ? english : overlay(english, readCatalog(l.code))]));
  }
  return cache.get(lang) ?? cache.get('en')!;
}
