/** `hex` (a 64-bit perceptual hash as 16 hex digits) with `bits` distinct random bits flipped: a near-duplicate. */
export function flipBits(hex: string, bits: number): string {
  let value = BigInt(`0x${hex}`);
  const chosen = new Set<number>();
  while (chosen.size < bits) chosen.add(Math.floor(Math.random() * 64));
  for (const b of chosen) value ^= 1n << BigInt(b);
  return value.toString(16).padStart(16, '0');
}
