import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PublicIdCodec, shuffledAlphabet } from '../../src/core/public-id.js';

const INDEX = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** The alphabet as FIELDS.md describes it, grouped by hash character from f down to 0. */
function alphabetByGroups(salt: string): string {
  const hash = createHash('sha256').update(salt).digest('hex');
  let out = '';
  for (const group of 'fedcba9876543210') {
    out += [...INDEX].filter((_, i) => hash[i] === group).sort().join('');
  }
  return out;
}

describe('public ids (Chevereto encoding)', () => {
  it('shuffles the 62 characters by the salt as array_multisort does', () => {
    for (const salt of ['', '751b13d3', 'a1b2c3d4', 'shoebox']) {
      const alphabet = shuffledAlphabet(salt);
      expect(alphabet).toBe(alphabetByGroups(salt));
      expect([...alphabet].sort().join('')).toBe([...INDEX].sort().join(''));
    }
    expect(shuffledAlphabet('one')).not.toBe(shuffledAlphabet('two'));
  });

  it('writes id × padding in base 62, most significant digit first', () => {
    const codec = new PublicIdCodec('751b13d3', 999);
    const alphabet = shuffledAlphabet('751b13d3');
    // 1 × 999 = 16·62 + 7
    expect(codec.encode(1)).toBe(alphabet[16] + alphabet[7]);
    expect(new PublicIdCodec('x', 0).encode(61)).toBe(shuffledAlphabet('x')[61]);
    expect(new PublicIdCodec('x', 0).encode(62)).toBe(shuffledAlphabet('x')[1] + shuffledAlphabet('x')[0]);
  });

  it('decodes what it encodes, and nothing else', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 2 ** 40 }), (salt, padding, id) => {
        const codec = new PublicIdCodec(salt, padding);
        expect(codec.decode(codec.encode(id))).toBe(id);
      }),
    );
    const codec = new PublicIdCodec('s', 999);
    expect(codec.decode('')).toBeNull();
    expect(codec.decode('ab-c')).toBeNull();
    // Not a multiple of the padding: an id this site never issued.
    const alphabet = shuffledAlphabet('s');
    expect(codec.decode(alphabet[1])).toBeNull();
  });

  it('does not reveal sequence: neighbouring ids look unrelated', () => {
    const codec = new PublicIdCodec('secret-salt', 999);
    const ids = Array.from({ length: 20 }, (_, i) => codec.encode(i + 1000));
    expect(new Set(ids).size).toBe(20);
    expect(ids.slice(1).filter((id, i) => id.slice(0, -1) === ids[i].slice(0, -1)).length).toBeLessThan(19);
  });
});
