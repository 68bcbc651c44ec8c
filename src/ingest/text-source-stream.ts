import { errors, type ShoeboxError } from '../core/errors.js';
import { SpoolWriter, type SpooledFile } from './spool.js';

/**
 * A text `source` (what Chevereto takes in `source` besides a file: a URL, base64, or a
 * `data:…;base64,` URI) read as it arrives, never held whole: the first bytes tell which it is;
 * a URL (short) is kept as text, base64 is decoded a chunk at a time straight into the spool
 * file, hashed and counted there, stopping at the size limit. The doors feed it the field's
 * bytes (a form's value after percent-decoding, a multipart text part), so a 100 MB base64
 * upload costs a few chunks of memory, as a multipart file does.
 */

/** A URL longer than this is not a URL anyone sends: refused instead of kept in memory. */
export const MAX_URL_SOURCE_BYTES = 64 * 1024;

/** How much of the start is looked at to tell a URL or a data: URI from bare base64. */
const HEAD_BYTES = 512;

const WHITESPACE = /[ \t\r\n\f\v]+/g;
const BASE64_CHARS = /^[A-Za-z0-9+/_-]*$/;
const DATA_URI_PREFIX = /^data:([^,]*?);base64,/i;

/**
 * Base64 decoded a piece at a time, with the rules of a whole string: ASCII whitespace
 * anywhere is ignored, both alphabets (standard and URL-safe) are taken, at most two `=` and
 * only at the end, and a lone last character (a length of 4n + 1) is an error.
 */
export class Base64Decoder {
  private pending = '';
  private padding = 0;
  private invalid = false;
  decodedBytes = 0;

  /** The bytes these characters complete; null once the text is not base64 (nothing more is decoded). */
  push(text: string): Buffer | null {
    if (this.invalid) return null;
    let chars = text;
    if (/[ \t\r\n\f\v]/.test(chars)) chars = chars.replace(WHITESPACE, '');
    if (chars.length === 0) return Buffer.alloc(0);
    const pad = chars.indexOf('=');
    if (this.padding > 0 || pad !== -1) {
      const data = pad === -1 ? chars : chars.slice(0, pad);
      const pads = pad === -1 ? '' : chars.slice(pad);
      if ((this.padding > 0 && data.length > 0) || !/^=*$/.test(pads) || this.padding + pads.length > 2) return this.fail();
      this.padding += pads.length;
      chars = data;
    }
    if (!BASE64_CHARS.test(chars)) return this.fail();
    const all = this.pending + chars;
    const whole = all.length - (all.length % 4);
    this.pending = all.slice(whole);
    return this.decode(all.slice(0, whole));
  }

  /** The last bytes; null when the text as a whole was not base64 (or decoded to nothing). */
  end(): Buffer | null {
    if (this.invalid || this.pending.length === 1) return this.fail();
    const last = this.decode(this.pending);
    this.pending = '';
    return this.decodedBytes === 0 ? this.fail() : last;
  }

  get failed(): boolean {
    return this.invalid;
  }

  private decode(chars: string): Buffer {
    if (chars.length === 0) return Buffer.alloc(0);
    // Node's base64 decoder takes the URL-safe alphabet too.
    const bytes = Buffer.from(chars, 'base64');
    this.decodedBytes += bytes.length;
    return bytes;
  }

  private fail(): null {
    this.invalid = true;
    this.pending = '';
    return null;
  }
}

export type TextSourceResult =
  /** Only whitespace (or nothing): as if the field were not sent. */
  | { kind: 'empty' }
  /** Not base64: a URL (or some other scheme, refused later as before), as text. */
  | { kind: 'text'; text: string }
  /** Base64 (bare or in a data: URI), decoded into the spool folder. */
  | { kind: 'decoded'; file: SpooledFile; mime: string | null }
  /** Not valid base64: the error is raised after the key is checked, as when the body was read whole. */
  | { kind: 'invalid'; error: ShoeboxError };

/**
 * Takes a text source's bytes as they come (`write`, awaiting each for back-pressure) and says
 * what it was at the `end`. `workDir` is called once, when base64 starts, for the folder the
 * decoded file goes to. A decoded size past `maxBytes` throws `tooBig` at once; everything else
 * wrong is answered by `end()`.
 */
export class TextSourceSpooler {
  private mode: 'head' | 'text' | 'base64' | 'invalid' = 'head';
  private head = '';
  private text: Buffer[] = [];
  private textBytes = 0;
  private readonly decoder = new Base64Decoder();
  private writer: SpoolWriter | null = null;
  private failure: Error | null = null;
  private mime: string | null = null;

  constructor(
    private readonly field: string,
    private readonly maxBytes: number,
    private readonly workDir: () => Promise<string>,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    if (this.mode === 'invalid' || chunk.length === 0) return;
    if (this.mode === 'text') return this.keepText(chunk);
    if (this.mode === 'base64') return this.decode(chunk.toString('latin1'));
    // Leading whitespace is dropped; the rest of the start is looked at once there is enough of it.
    this.head = (this.head + chunk.toString('latin1')).replace(/^[ \t\r\n\f\v]+/, '');
    if (this.head.length >= HEAD_BYTES) await this.decide();
  }

  async end(): Promise<TextSourceResult> {
    if (this.mode === 'head') {
      if (this.head.length === 0) return { kind: 'empty' };
      await this.decide();
    }
    if (this.mode === 'text') return { kind: 'text', text: Buffer.concat(this.text).toString('utf8') };
    if (this.mode === 'base64') {
      const last = this.decoder.end();
      if (last) await this.send(last);
      if (this.decoder.failed) this.mode = 'invalid';
      else return { kind: 'decoded', file: await this.finishFile(), mime: this.mime };
    }
    await this.abandonFile();
    return { kind: 'invalid', error: errors.invalidBase64() };
  }

  /** Stops writing (the request failed): the caller removes the folder. */
  async abort(): Promise<void> {
    await this.abandonFile();
  }

  private async decide(): Promise<void> {
    const head = this.head;
    this.head = '';
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(head)) {
      this.mode = 'text';
      return this.keepText(Buffer.from(head, 'latin1'));
    }
    let rest = head;
    if (/^data:/i.test(head)) {
      const prefix = DATA_URI_PREFIX.exec(head);
      if (!prefix) {
        this.mode = 'invalid';
        return;
      }
      this.mime = prefix[1].toLowerCase() || null;
      rest = head.slice(prefix[0].length);
    }
    this.mode = 'base64';
    return this.decode(rest);
  }

  private keepText(chunk: Buffer): void {
    this.textBytes += chunk.length;
    if (this.textBytes > MAX_URL_SOURCE_BYTES) throw errors.badParameter(this.field, `a URL of at most ${MAX_URL_SOURCE_BYTES} bytes`);
    this.text.push(chunk);
  }

  private async decode(chars: string): Promise<void> {
    const bytes = this.decoder.push(chars);
    if (bytes === null) {
      this.mode = 'invalid';
      await this.abandonFile();
      return;
    }
    if (bytes.length > 0) await this.send(bytes);
  }

  private async send(bytes: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.writer) {
      this.writer = new SpoolWriter(await this.workDir(), this.maxBytes);
      this.writer.sink.on('error', (error) => (this.failure ??= error));
    }
    const sink = this.writer.sink;
    if (!sink.write(bytes)) {
      await new Promise<void>((resolve, reject) => {
        const done = () => {
          sink.off('drain', done);
          sink.off('error', done);
          sink.off('close', done);
          if (this.failure) reject(this.failure);
          else resolve();
        };
        sink.on('drain', done);
        sink.on('error', done);
        sink.on('close', done);
      });
    }
    if (this.failure) throw this.failure;
  }

  private async finishFile(): Promise<SpooledFile> {
    if (!this.writer) throw errors.invalidBase64();
    this.writer.sink.end();
    try {
      return await this.writer.finish();
    } catch (error) {
      throw this.failure ?? error;
    }
  }

  private async abandonFile(): Promise<void> {
    const writer = this.writer;
    this.writer = null;
    if (!writer) return;
    // Destroyed with an error, so the spool also stops its hashing (SpoolWriter).
    writer.sink.destroy(new Error('text source abandoned'));
    await writer.finish().catch(() => undefined);
  }
}
