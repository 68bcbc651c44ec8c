import { popcount32 } from '../media/perceptual-hash.js';

/**
 * Nearest-neighbour lookup of 64-bit perceptual hashes by Hamming distance, by multi-index
 * hashing: each hash is cut into four 16-bit bands and each band is a key of its own map.
 * If two hashes differ in at most `maxDistance` bits, then by the pigeonhole principle at
 * least one of the four bands differs in at most floor(maxDistance / 4) bits. So a query
 * looks up, in each band, its own 16-bit value and every value within that many bits
 * (1 + 16 + 120 = 137 keys per band for a radius of 2, i.e. distances up to 11), and checks
 * the few candidates found by XOR and popcount. No entry within `maxDistance` is missed, and
 * with 100,000 entries a band key holds about 1.5 of them, so a lookup touches some hundreds
 * of candidates instead of every entry (bench/blocklist.ts measures it).
 */

export interface HashMatch {
  id: number;
  distance: number;
}

const BANDS = 4;

function masksWithin(radius: number): number[] {
  const masks = [0];
  if (radius >= 1) for (let a = 0; a < 16; a++) masks.push(1 << a);
  if (radius >= 2) for (let a = 0; a < 16; a++) for (let b = a + 1; b < 16; b++) masks.push((1 << a) | (1 << b));
  if (radius >= 3) for (let a = 0; a < 16; a++) for (let b = a + 1; b < 16; b++) for (let c = b + 1; c < 16; c++) masks.push((1 << a) | (1 << b) | (1 << c));
  if (radius > 3) throw new Error('distances above 15 bits are not indexed');
  return masks;
}

function split(hex: string): [number, number] {
  return [parseInt(hex.slice(0, 8), 16) >>> 0, parseInt(hex.slice(8, 16), 16) >>> 0];
}

function bandsOf(hi: number, lo: number): [number, number, number, number] {
  return [hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff];
}

export class HashIndex {
  private his: number[] = [];
  private los: number[] = [];
  private ids: number[] = [];
  private alive: boolean[] = [];
  private readonly bands: Map<number, number[]>[] = Array.from({ length: BANDS }, () => new Map());
  private readonly masks: number[];
  private seen = new Uint32Array(1024);
  private stamp = 0;

  constructor(readonly maxDistance: number) {
    if (maxDistance < 0 || maxDistance > 15) throw new Error('maxDistance must be 0 to 15');
    this.masks = masksWithin(Math.floor(maxDistance / BANDS));
  }

  get size(): number {
    return this.ids.length;
  }

  add(id: number, hex: string): void {
    const [hi, lo] = split(hex);
    const slot = this.ids.length;
    this.his.push(hi);
    this.los.push(lo);
    this.ids.push(id);
    this.alive.push(true);
    const keys = bandsOf(hi, lo);
    for (let b = 0; b < BANDS; b++) {
      const list = this.bands[b].get(keys[b]);
      if (list) list.push(slot);
      else this.bands[b].set(keys[b], [slot]);
    }
    if (this.seen.length < this.ids.length) {
      const grown = new Uint32Array(this.seen.length * 2);
      grown.set(this.seen);
      this.seen = grown;
    }
  }

  remove(id: number): void {
    for (let i = 0; i < this.ids.length; i++) if (this.ids[i] === id) this.alive[i] = false;
  }

  /** The closest entry within maxDistance, or null. */
  nearest(hex: string): HashMatch | null {
    const [hi, lo] = split(hex);
    const keys = bandsOf(hi, lo);
    this.stamp = (this.stamp + 1) >>> 0 || 1;
    let best: HashMatch | null = null;
    for (let b = 0; b < BANDS; b++) {
      const band = this.bands[b];
      for (const mask of this.masks) {
        const list = band.get(keys[b] ^ mask);
        if (!list) continue;
        for (const slot of list) {
          if (this.seen[slot] === this.stamp) continue;
          this.seen[slot] = this.stamp;
          if (!this.alive[slot]) continue;
          const distance = popcount32((this.his[slot] ^ hi) >>> 0) + popcount32((this.los[slot] ^ lo) >>> 0);
          if (distance <= this.maxDistance && (!best || distance < best.distance)) {
            best = { id: this.ids[slot], distance };
            if (distance === 0) return best;
          }
        }
      }
    }
    return best;
  }
}
