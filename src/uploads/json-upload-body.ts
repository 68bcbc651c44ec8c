import type { Readable } from 'node:stream';
import { errors } from '../core/errors.js';
import { TextSourceSpooler } from '../ingest/text-source-stream.js';
import { SOURCE_FIELDS } from './upload-params.js';
import type { UrlencodedUpload, UrlencodedUploadOptions } from './urlencoded-upload-body.js';

/**
 * A JSON upload body (`{"key": "…", "source": "<base64>"}`) read as it arrives, as forms are
 * (urlencoded-upload-body.ts): the top-level object's members are kept as their JSON text (at
 * most `maxFieldBytes` in all) and parsed at the end, except the first string `source` or
 * `image`, whose characters are unescaped and handed to a TextSourceSpooler chunk by chunk, so
 * its base64 is decoded straight to disk. A body that is not an object is parsed whole (within
 * `maxFieldBytes`), as before. Broken JSON is a 400.
 */

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const badJson = () => errors.badRequest('Body is not valid JSON');

/** Unescapes a JSON string's characters across chunks (an escape split between chunks waits for its end). */
class JsonStringDecoder {
  private carry = '';

  /** `text` holds no unescaped quote. */
  push(text: string): Buffer {
    let s = this.carry + text;
    this.carry = '';
    // An escape cut at the end of the chunk (`\` or `\uXX`): an odd run of backslashes starts it.
    const cut = /\\+(u[0-9A-Fa-f]{0,3})?$/.exec(s);
    if (cut) {
      const run = /^\\+/.exec(cut[0])![0].length;
      // An even run is escaped backslashes (`\\\\u12` is a backslash, then text).
      if (run % 2 === 1) {
        const start = cut.index + run - 1;
        this.carry = s.slice(start);
        s = s.slice(0, start);
      }
    }
    if (!s.includes('\\')) return Buffer.from(s, 'latin1');
    const escapes = /\\(u[0-9A-Fa-f]{4}|["\\/bfnrt])/g;
    if (s.replace(escapes, '').includes('\\')) throw badJson();
    const out = s.replace(escapes, (_m, esc: string) => {
      if (esc.length === 5) {
        const code = parseInt(esc.slice(1), 16);
        return code < 0x80 ? String.fromCharCode(code) : Buffer.from(String.fromCharCode(code), 'utf8').toString('latin1');
      }
      return ({ b: ' ', f: ' ', n: '\n', r: '\r', t: '\t' } as Record<string, string>)[esc] ?? esc;
    });
    return Buffer.from(out, 'latin1');
  }

  end(): void {
    if (this.carry) throw badJson();
  }
}

export async function readJsonUpload(stream: Readable, options: UrlencodedUploadOptions): Promise<UrlencodedUpload> {
  type State = 'start' | 'member' | 'key' | 'colon' | 'value-start' | 'value' | 'source' | 'after-value' | 'done' | 'whole';
  let state: State = 'start';
  let total = 0;
  let fieldBytes = 0;
  const members: string[] = [];
  let key: Buffer[] = [];
  let value: Buffer[] = [];
  let escaped = false;
  let inString = false;
  let depth = 0;
  let spooler: TextSourceSpooler | null = null;
  let spoolerField = '';
  let strings = new JsonStringDecoder();
  let source: UrlencodedUpload['source'] = null;
  /** A member was read (an empty source leaves no trace in `members`): `}` may no longer follow a comma. */
  let sawSource = false;

  const count = (bytes: number) => {
    fieldBytes += bytes;
    if (fieldBytes > options.maxFieldBytes) throw errors.requestTooLarge();
  };
  const parseMembers = (): Record<string, unknown> => {
    try {
      return JSON.parse(`{${members.join(',')}}`) as Record<string, unknown>;
    } catch {
      throw badJson();
    }
  };
  const keyText = () => {
    try {
      return JSON.parse(Buffer.concat(key).toString('utf8')) as string;
    } catch {
      throw badJson();
    }
  };
  const endValue = () => {
    members.push(`${Buffer.concat(key).toString('utf8')}:${Buffer.concat(value).toString('utf8')}`);
    key = [];
    value = [];
    state = 'after-value';
  };

  try {
    for await (const chunk of stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > options.maxBodyBytes) throw errors.tooBig(options.maxUploadBytes);
      let i = 0;
      while (i < chunk.length) {
        const c = chunk[i];
        switch (state) {
          case 'whole':
            count(chunk.length - i);
            value.push(chunk.subarray(i));
            i = chunk.length;
            continue;
          case 'start':
            if (WS.has(c)) break;
            if (c !== 0x7b) {
              // Not an object (an array, a string…): read whole, within the small limit, as before.
              state = 'whole';
              continue;
            }
            state = 'member';
            break;
          case 'member':
            if (WS.has(c)) break;
            if (c === 0x7d && members.length === 0 && !source && !sawSource) {
              state = 'done';
              break;
            }
            if (c !== QUOTE) throw badJson();
            state = 'key';
            escaped = false;
            key = [chunk.subarray(i, i + 1)];
            count(1);
            break;
          case 'key': {
            let j = i;
            for (; j < chunk.length; j++) {
              if (escaped) escaped = false;
              else if (chunk[j] === BACKSLASH) escaped = true;
              else if (chunk[j] === QUOTE) break;
            }
            const end = j < chunk.length ? j + 1 : j;
            count(end - i);
            key.push(chunk.subarray(i, end));
            i = end;
            if (j < chunk.length) state = 'colon';
            continue;
          }
          case 'colon':
            if (WS.has(c)) break;
            if (c !== 0x3a) throw badJson();
            state = 'value-start';
            break;
          case 'value-start': {
            if (WS.has(c)) break;
            const name = keyText();
            if (c === QUOTE && (SOURCE_FIELDS as readonly string[]).includes(name) && !source && !spooler) {
              await options.beforeSource?.(parseMembers());
              spooler = new TextSourceSpooler(name, options.maxUploadBytes, options.workDir);
              spoolerField = name;
              sawSource = true;
              strings = new JsonStringDecoder();
              key = [];
              state = 'source';
              break;
            }
            state = 'value';
            inString = false;
            escaped = false;
            depth = 0;
            continue;
          }
          case 'value': {
            let j = i;
            let ended = false;
            for (; j < chunk.length; j++) {
              const d = chunk[j];
              if (inString) {
                if (escaped) escaped = false;
                else if (d === BACKSLASH) escaped = true;
                else if (d === QUOTE) inString = false;
              } else if (d === QUOTE) inString = true;
              else if (d === 0x7b || d === 0x5b) depth++;
              else if ((d === 0x7d || d === 0x5d) && depth > 0) depth--;
              else if ((d === 0x2c || d === 0x7d) && depth === 0) {
                ended = true;
                break;
              }
            }
            count(j - i);
            value.push(chunk.subarray(i, j));
            i = j;
            if (ended) endValue();
            continue;
          }
          case 'source': {
            let j = i;
            for (; j < chunk.length; j++) {
              if (escaped) escaped = false;
              else if (chunk[j] === BACKSLASH) escaped = true;
              else if (chunk[j] === QUOTE) break;
            }
            await spooler!.write(strings.push(chunk.subarray(i, j).toString('latin1')));
            i = j;
            if (j < chunk.length) {
              strings.end();
              const result = await spooler!.end();
              spooler = null;
              if (result.kind !== 'empty') source = { field: spoolerField, result };
              i++;
              state = 'after-value';
            }
            continue;
          }
          case 'after-value':
            if (WS.has(c)) break;
            if (c === 0x2c) state = 'member';
            else if (c === 0x7d) state = 'done';
            else throw badJson();
            break;
          case 'done':
            if (!WS.has(c)) throw badJson();
            break;
        }
        i++;
      }
    }
    if (state === 'whole') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.concat(value).toString('utf8'));
      } catch {
        throw badJson();
      }
      return { fields: parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {}, source: null };
    }
    if (state !== 'done') throw badJson();
  } catch (error) {
    await (spooler as TextSourceSpooler | null)?.abort();
    throw error;
  }
  return { fields: parseMembers(), source };
}
