import { createHash } from 'node:crypto';

/**
 * Short public ids, the same encoding Chevereto uses (FIELDS.md, `id_encoded`), so a site
 * migrated from Chevereto with its crypt_salt and id_padding keeps every link it handed out.
 * The alphabet is the 62 base chars reordered by the sha256 of the salt; ids are multiplied
 * by the padding and written in base 62, most significant digit first.
 */
const BASE_INDEX = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export class PublicIdCodec {
  private readonly alphabet: string;
  private readonly positions = new Map<string, number>();

  constructor(
    salt: string,
    private readonly padding: number,
  ) {
    this.alphabet = shuffledAlphabet(salt);
    [...this.alphabet].forEach((ch, i) => this.positions.set(ch, i));
  }

  encode(id: number): string {
    if (!Number.isSafeInteger(id) || id < 1) throw new RangeError(`cannot encode id ${id}`);
    let n = BigInt(id) * BigInt(this.padding > 0 ? this.padding : 1);
    let out = '';
    do {
      out = this.alphabet[Number(n % 62n)] + out;
      n /= 62n;
    } while (n > 0n);
    return out;
  }

  /** The numeric id, or null when the text is not an id this site could have issued. */
  decode(text: string): number | null {
    if (!/^[a-zA-Z0-9]{1,12}$/.test(text)) return null;
    let n = 0n;
    for (const ch of text) n = n * 62n + BigInt(this.positions.get(ch)!);
    if (this.padding > 0) {
      if (n % BigInt(this.padding) !== 0n) return null;
      n /= BigInt(this.padding);
    }
    const id = Number(n);
    return Number.isSafeInteger(id) && id > 0 ? id : null;
  }
}

export function shuffledAlphabet(salt: string): string {
  let hash = createHash('sha256').update(salt).digest('hex');
  if (hash.length < BASE_INDEX.length) hash = createHash('sha512').update(salt).digest('hex');
  const pairs = [...BASE_INDEX].map((ch, i) => ({ ch, key: hash[i] }));
  // PHP array_multisort($p, SORT_DESC, $i): hash char descending, ties by index char ascending (byte order).
  pairs.sort((a, b) => (a.key === b.key ? (a.ch < b.ch ? -1 : 1) : a.key < b.key ? 1 : -1));
  return pairs.map((p) => p.ch).join('');
}
