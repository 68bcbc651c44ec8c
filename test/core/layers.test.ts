import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layer table in docs/ARCHITECTURE.md is the rule: this test reads it (so the doc and the
 * rule cannot drift) and every import under src/, and names each import the table does not allow.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const src = path.join(root, 'src');
const DOC = 'docs/ARCHITECTURE.md';

interface Row {
  owns: string;
  mayImport: Set<string>;
}

/** The rows of the table under "## Layers": `name` → what it may import (backticked names in the third column). */
function readLayerTable(): Map<string, Row> {
  const doc = readFileSync(path.join(root, DOC), 'utf8');
  const section = doc.split(/^## /m).find((part) => part.startsWith('Layers'));
  if (!section) throw new Error(`${DOC} has no "## Layers" section`);
  const rows = new Map<string, Row>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | `name` | owns | may import |
    if (cells.length < 5 || !/^`[^`]+`$/.test(cells[1])) continue;
    const name = cells[1].slice(1, -1);
    const mayImport = new Set([...cells[3].matchAll(/`([^`]+)`/g)].map((m) => m[1]));
    rows.set(name, { owns: cells[2], mayImport });
  }
  return rows;
}

/** The layer a path under src/ belongs to: its first folder, or the file's own name at the root. */
function layerOf(file: string): string {
  const [first] = path.relative(src, file).split(path.sep);
  // Imports name the compiled file (`../context.js`); the row names the source (`context.ts`).
  return first.replace(/\.js$/, '.ts');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.(ts|mts|js)$/.test(entry) && !entry.endsWith('.d.ts') ? [full] : [];
  });
}

/** Relative module specifiers of static imports, re-exports and dynamic imports. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+['"]([^'"]+)['"]/gms),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]);
  return specifiers.filter((s) => s.startsWith('.'));
}

describe(`the layer table in ${DOC}`, () => {
  const table = readLayerTable();
  const layers = readdirSync(src).filter((entry) => statSync(path.join(src, entry)).isDirectory() || /\.ts$/.test(entry));

  it('is there and parses (a row per folder, with what it may import)', () => {
    expect(table.size).toBeGreaterThan(10);
    expect(table.get('config')?.mayImport.size).toBe(0);
    expect([...table.get('api')!.mayImport]).toContain('uploads');
  });

  it('has a row for every folder (and file) under src/, and none for what is gone', () => {
    const missing = layers
      .filter((layer) => !table.has(layer))
      .map((layer) => `src/${layer} has no row in the layer table of ${DOC}: add "| \`${layer}\` | what it owns | what it may import |" under "## Layers".`);
    const stale = [...table.keys()].filter((name) => !layers.includes(name)).map((name) => `${DOC} has a row for \`${name}\`, which is not under src/: remove the row.`);
    const unknownTargets = [...table].flatMap(([name, row]) =>
      [...row.mayImport].filter((target) => !table.has(target)).map((target) => `the row of \`${name}\` lets it import \`${target}\`, which has no row.`),
    );
    expect([...missing, ...stale, ...unknownTargets]).toEqual([]);
  });

  it('allows every import under src/ (imports point down the table)', () => {
    const refused: string[] = [];
    for (const file of sourceFiles(src)) {
      const from = layerOf(file);
      const row = table.get(from);
      if (!row) continue; // reported by the test above
      for (const specifier of importsOf(file)) {
        const target = path.resolve(path.dirname(file), specifier);
        const shown = path.relative(root, file);
        if (!target.startsWith(src + path.sep)) {
          refused.push(`${shown} imports ${specifier}, outside src/.`);
          continue;
        }
        const to = layerOf(target);
        if (to === from || row.mayImport.has(to)) continue;
        refused.push(
          `${shown} imports ${path.relative(root, target)}: \`${from}\` may import only ${[...row.mayImport].map((l) => `\`${l}\``).join(', ') || 'nothing of ours'} ` +
            `(${DOC}, "## Layers"). Move the code to a layer both may use, or, if the design really changes, edit that row in the same commit.`,
        );
      }
    }
    expect(refused).toEqual([]);
  });

  it('keeps SQL in src/db/ only: no query builder, no sql`` and no value import of kysely elsewhere', () => {
    const query = /\.(selectFrom|insertInto|deleteFrom|updateTable|replaceInto|mergeInto)\(|\bsql`|^\s*import\s+(?!type\b)[^;]*from\s+['"]kysely['"]/m;
    const outside = sourceFiles(src)
      .filter((file) => layerOf(file) !== 'db')
      .filter((file) => query.test(readFileSync(file, 'utf8')))
      .map((file) => `${path.relative(root, file)} writes SQL: move the query into src/db/ (a repository) and call it.`);
    expect(outside).toEqual([]);
    // The check itself works: the repositories are full of queries.
    expect(query.test(readFileSync(path.join(src, 'db/repositories/image-removal.ts'), 'utf8'))).toBe(true);
  });

  it('catches a forbidden import (the check itself works)', () => {
    const apiRow = table.get('api')!;
    expect(apiRow.mayImport.has('web')).toBe(false);
    expect(table.get('web')!.mayImport.has('api')).toBe(false);
    expect(importsOf(path.join(src, 'server.ts'))).toContain('./api/upload-route.js');
    expect(layerOf(path.join(src, 'web/uploader/resumable.ts'))).toBe('web');
    expect(layerOf(path.join(src, 'context.ts'))).toBe('context.ts');
  });
});
