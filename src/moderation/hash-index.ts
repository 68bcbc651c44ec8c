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

/**
 * Entries live in typed arrays; each band is a CSR table (offsets by 16-bit key into one slot
 * array), so a probe is two array reads, no hashing and no allocation. The tables are rebuilt
 * (O(n), a few ms at 100,000 entries) on the first lookup after entries were added.
 */
export class HashIndex {
  private his = new Uint32Array(1024);
  private los = new Uint32Array(1024);
  private ids = new Float64Array(1024);
  private alive = new Uint8Array(1024);
  private count = 0;
  private offsets: Uint32Array[] = [];
  private slots: Uint32Array[] = [];
  private built = -1;
  private readonly masks: Uint32Array;
  private seen = new Uint32Array(1024);
  private stamp = 0;

  constructor(readonly maxDistance: number) {
    if (maxDistance < 0 || maxDistance > 15) throw new Error('maxDistance must be 0 to 15');
    this.masks = Uint32Array.from(masksWithin(Math.floor(maxDistance / BANDS)));
  }

  get size(): number {
    return this.count;
  }

  private grow(): void {
    const capacity = this.his.length * 2;
    const grown = <T extends Uint32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.his = grown(this.his, (n) => new Uint32Array(n));
    this.los = grown(this.los, (n) => new Uint32Array(n));
    this.ids = grown(this.ids, (n) => new Float64Array(n));
    this.alive = grown(this.alive, (n) => new Uint8Array(n));
    this.seen = new Uint32Array(capacity);
    this.stamp = 0;
  }

  add(id: number, hex: string): void {
    if (this.count === this.his.length) this.grow();
    const [hi, lo] = split(hex);
    this.his[this.count] = hi;
    this.los[this.count] = lo;
    this.ids[this.count] = id;
    this.alive[this.count] = 1;
    this.count++;
  }

  remove(id: number): void {
    for (let i = 0; i < this.count; i++) if (this.ids[i] === id) this.alive[i] = 0;
  }

  private build(): void {
    const n = this.count;
    this.offsets = [];
    this.slots = [];
    for (let b = 0; b < BANDS; b++) {
      const offsets = new Uint32Array(65537);
      const keyOf = (i: number) => (b === 0 ? this.his[i] >>> 16 : b === 1 ? this.his[i] & 0xffff : b === 2 ? this.los[i] >>> 16 : this.los[i] & 0xffff);
      for (let i = 0; i < n; i++) offsets[keyOf(i) + 1]++;
      for (let k = 0; k < 65536; k++) offsets[k + 1] += offsets[k];
      const fill = offsets.slice(0, 65536);
      const slots = new Uint32Array(n);
      for (let i = 0; i < n; i++) slots[fill[keyOf(i)]++] = i;
      this.offsets.push(offsets);
      this.slots.push(slots);
    }
    this.built = n;
  }

  /** The closest entry within maxDistance, or null. */
  nearest(hex: string): HashMatch | null {
    if (this.built !== this.count) this.build();
    const [hi, lo] = split(hex);
    const keys = bandsOf(hi, lo);
    this.stamp = (this.stamp + 1) >>> 0;
    if (this.stamp === 0) {
      this.seen.fill(0);
      this.stamp = 1;
    }
    const { his, los, alive, seen, masks, stamp, maxDistance } = this;
    let bestSlot = -1;
    let bestDistance = 65;
    for (let b = 0; b < BANDS; b++) {
      const offsets = this.offsets[b];
      const slots = this.slots[b];
      const key = keys[b];
      for (let m = 0; m < masks.length; m++) {
        const k = key ^ masks[m];
        const end = offsets[k + 1];
        for (let p = offsets[k]; p < end; p++) {
          const slot = slots[p];
          if (seen[slot] === stamp) continue;
          seen[slot] = stamp;
          if (!alive[slot]) continue;
          const distance = popcount32((his[slot] ^ hi) >>> 0) + popcount32((los[slot] ^ lo) >>> 0);
          if (distance <= maxDistance && distance < bestDistance) {
            bestDistance = distance;
            bestSlot = slot;
            if (distance === 0) return { id: this.ids[slot], distance };
          }
        }
      }
    }
    return bestSlot < 0 ? null : { id: this.ids[bestSlot], distance: bestDistance };
  }
}
