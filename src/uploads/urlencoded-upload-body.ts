import { parse as parseQueryString } from 'node:querystring';
import type { Readable } from 'node:stream';
import { errors } from '../core/errors.js';
import { TextSourceSpooler, type TextSourceResult } from '../ingest/text-source-stream.js';
import { SOURCE_FIELDS } from './upload-params.js';

/**
 * An `application/x-www-form-urlencoded` upload body read as it arrives, for the doors that take
 * base64 in a form (`source=<base64>`, as scripts written for Chevereto send it): the small
 * fields are kept (at most `maxFieldBytes` of them in all), the first non-empty `source` or
 * `image` is percent-decoded and handed to a TextSourceSpooler chunk by chunk, so its base64 is
 * decoded straight to disk. `beforeSource` sees the fields that came before the source, so a key
 * among them is checked before the big field is read.
 */

export interface UrlencodedUploadOptions {
  /** The whole body; past it, `tooBig` (a base64 file over the upload size). */
  maxBodyBytes: number;
  /** Everything but the source, names included; past it, `requestTooLarge`. */
  maxFieldBytes: number;
  /** The decoded file's limit. */
  maxUploadBytes: number;
  workDir: () => Promise<string>;
  beforeSource?: (fieldsSoFar: Record<string, unknown>) => Promise<void>;
}

export interface UrlencodedUpload {
  fields: Record<string, unknown>;
  source: { field: string; result: Exclude<TextSourceResult, { kind: 'empty' }> } | null;
}

const AMPERSAND = 0x26;
const EQUALS = 0x3d;

/** Percent-escapes and `+` decoded across chunk boundaries (an escape split between chunks waits for its end). */
class PercentDecoder {
  private carry = '';

  push(chunk: Buffer): Buffer {
    let text = this.carry + chunk.toString('latin1');
    this.carry = '';
    const lastPercent = text.lastIndexOf('%', text.length - 1);
    if (lastPercent !== -1 && lastPercent > text.length - 3) {
      this.carry = text.slice(lastPercent);
      text = text.slice(0, lastPercent);
    }
    if (!text.includes('%') && !text.includes('+')) return Buffer.from(text, 'latin1');
    return Buffer.from(text.replace(/\+|%([0-9A-Fa-f]{2})/g, (_m, hex: string | undefined) => (hex ? String.fromCharCode(parseInt(hex, 16)) : ' ')), 'latin1');
  }

  /** What is left at the end of the value: a broken escape stays as it was sent. */
  end(): Buffer {
    const rest = Buffer.from(this.carry, 'latin1');
    this.carry = '';
    return rest;
  }
}

function decodeName(raw: Buffer): string {
  const text = raw.toString('utf8').replace(/\+/g, ' ');
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export async function readUrlencodedUpload(stream: Readable, options: UrlencodedUploadOptions): Promise<UrlencodedUpload> {
  let state: 'name' | 'value' | 'source' | 'skip' = 'name';
  let total = 0;
  let fieldBytes = 0;
  let name: Buffer[] = [];
  let value: Buffer[] = [];
  const pairs: string[] = [];
  let spooler: TextSourceSpooler | null = null;
  let spoolerField = '';
  let percent = new PercentDecoder();
  let source: UrlencodedUpload['source'] = null;

  const fieldsSoFar = () => parseQueryString(pairs.join('&'));
  const countField = (bytes: number) => {
    fieldBytes += bytes;
    if (fieldBytes > options.maxFieldBytes) throw errors.requestTooLarge();
  };
  const endPair = async () => {
    if (state === 'name') {
      if (name.length > 0) pairs.push(Buffer.concat(name).toString('utf8'));
    } else if (state === 'value') {
      pairs.push(`${Buffer.concat(name).toString('utf8')}=${Buffer.concat(value).toString('utf8')}`);
    } else if (state === 'source' && spooler) {
      await spooler.write(percent.end());
      const result = await spooler.end();
      spooler = null;
      if (result.kind !== 'empty') source = { field: spoolerField, result };
    }
    name = [];
    value = [];
    state = 'name';
  };
  /** After a name's `=`: a source field (the first that has content) or a small one. */
  const startValue = async () => {
    const fieldName = decodeName(Buffer.concat(name));
    if (!(SOURCE_FIELDS as readonly string[]).includes(fieldName)) {
      state = 'value';
      return;
    }
    if (source) {
      state = 'skip';
      return;
    }
    await options.beforeSource?.(fieldsSoFar());
    spooler = new TextSourceSpooler(fieldName, options.maxUploadBytes, options.workDir);
    spoolerField = fieldName;
    percent = new PercentDecoder();
    state = 'source';
  };

  try {
    // Not destroyed when reading stops early (an error): the answer still goes out on this connection.
    for await (const chunk of stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > options.maxBodyBytes) throw errors.tooBig(options.maxUploadBytes);
      let pos = 0;
      while (pos < chunk.length) {
        const amp = chunk.indexOf(AMPERSAND, pos);
        const end = amp === -1 ? chunk.length : amp;
        if (state === 'name') {
          const eq = chunk.subarray(pos, end).indexOf(EQUALS);
          const nameEnd = eq === -1 ? end : pos + eq;
          countField(nameEnd - pos);
          name.push(chunk.subarray(pos, nameEnd));
          if (eq !== -1) {
            pos = nameEnd + 1;
            await startValue();
            continue;
          }
        } else if (state === 'value') {
          countField(end - pos);
          value.push(chunk.subarray(pos, end));
        } else if (state === 'source') {
          await spooler!.write(percent.push(chunk.subarray(pos, end)));
        }
        if (amp === -1) break;
        await endPair();
        pos = amp + 1;
      }
    }
    await endPair();
  } catch (error) {
    await (spooler as TextSourceSpooler | null)?.abort();
    throw error;
  }
  return { fields: fieldsSoFar(), source };
}
