import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hammingDistance } from '../../src/media/perceptual-hash.js';
import { HashIndex } from '../../src/moderation/hash-index.js';
import { flipBits } from '../support/hashes.js';

describe('the perceptual hash index', () => {
  it('answers like a linear scan: the nearest entry within the distance, or nothing', () => {
    const index = new HashIndex(10);
    expect(index.nearest('0123456789abcdef')).toBeNull();
    const hashes = Array.from({ length: 3000 }, () => randomBytes(8).toString('hex'));
    hashes.forEach((h, i) => index.add(i, h));
    for (let q = 0; q < 600; q++) {
      const query = q % 3 === 2 ? randomBytes(8).toString('hex') : flipBits(hashes[q * 3], q % 11);
      let best: { id: number; distance: number } | null = null;
      hashes.forEach((h, id) => {
        const d = hammingDistance(query, h);
        if (d <= 10 && (!best || d < best.distance)) best = { id, distance: d };
      });
      expect(index.nearest(query)?.distance ?? null).toBe((best as { distance: number } | null)?.distance ?? null);
    }
  });

  it('finds entries added after a lookup, and forgets removed ones', () => {
    const index = new HashIndex(6);
    index.add(1, 'ffffffff00000000');
    expect(index.nearest(flipBits('ffffffff00000000', 6))?.id).toBe(1);
    expect(index.nearest(flipBits('ffffffff00000000', 8))).toBeNull();
    index.add(2, '00000000ffffffff');
    expect(index.nearest('00000000ffffffff')).toEqual({ id: 2, distance: 0 });
    index.remove(2);
    expect(index.nearest('00000000ffffffff')).toBeNull();
  });
});
