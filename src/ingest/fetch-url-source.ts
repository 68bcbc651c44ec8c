import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import ipaddr from 'ipaddr.js';
import { errors, ShoeboxError } from '../core/errors.js';

/**
 * Fetching an upload `source` given as a URL (API-V1.md): the server downloads it itself,
 * so this is the one place a client can make Shoebox open connections. Every hop of the
 * fetch is checked against SSRF (only public unicast addresses, re-checked after each
 * redirect, and the connection goes to the exact address that was checked, so a DNS
 * answer that changes between the check and the connect can't redirect it), and the body
 * is streamed to the caller's sink under a byte cap and a total deadline.
 */

export interface UrlFetchOptions {
  /** Size cap, enforced while streaming (not only by Content-Length). */
  maxBytes: number;
  /** Total time for the whole fetch, all redirects and the body included. */
  timeoutMs: number;
  /** Skips only the address check (tests, and sites that fetch from their own network). */
  allowPrivateAddresses: boolean;
  /** How many redirects are followed; default 5. */
  maxRedirects?: number;
  /** Default 'Shoebox/0.1 (+url-upload)'. */
  userAgent?: string;
  /**
   * Resolves a hostname to all its addresses. Default: dns.lookup with `all: true`.
   * Injectable so tests can give a name "public" addresses without the internet.
   */
  lookup?: (hostname: string) => Promise<Array<{ address: string; family: number }>>;
  /**
   * Decides whether an address may be contacted when allowPrivateAddresses is false.
   * Default: isPublicAddress. Every address a host resolves to must pass.
   */
  isAllowedAddress?: (address: string) => boolean;
}

export interface FetchedUrl {
  filename: string | null;
  contentType: string | null;
  finalUrl: string;
}

const DEFAULT_MAX_REDIRECTS = 5;
const DEFAULT_USER_AGENT = 'Shoebox/0.1 (+url-upload)';
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Streams the body of `url` into the writable `sink` (the caller passes its hashing spool).
 * Resolves once the body has been written and the sink ended. Errors caused by the URL or
 * the remote server are ShoeboxErrors (`urlRefused`, `tooBig`); an error raised by the sink
 * itself (a full disk) is passed through unchanged. On any failure the sink is destroyed,
 * as stream.pipeline does, so the caller's file handle is released.
 */
export async function fetchUrlSource(
  url: string,
  sink: NodeJS.WritableStream | Writable,
  options: UrlFetchOptions,
): Promise<FetchedUrl> {
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
  // Which side failed first: the remote (request/response) or the caller's sink.
  let sinkFailedFirst = false;
  let remoteFailed = false;
  const onSinkError = () => {
    if (!remoteFailed && !deadline.signal.aborted) sinkFailedFirst = true;
  };
  sink.on('error', onSinkError);
  let piping = false;

  try {
    let current = parseTarget(url);
    for (let redirects = 0; ; redirects++) {
      const addresses = await abortable(resolveTarget(current, options), deadline.signal);
      const response = await request(current, addresses, options, deadline.signal, () => {
        remoteFailed = true;
      });
      const status = response.statusCode ?? 0;

      if (REDIRECT_STATUSES.has(status)) {
        const location = response.headers.location;
        response.destroy();
        if (!location) throw errors.urlRefused(`redirect (HTTP ${status}) without a Location`);
        if (redirects >= maxRedirects) throw errors.urlRefused('too many redirects');
        let next: URL;
        try {
          next = new URL(location, current);
        } catch {
          throw errors.urlRefused('invalid redirect location');
        }
        current = parseTarget(next.href);
        continue;
      }
      if (status < 200 || status > 299) {
        response.destroy();
        throw errors.urlRefused(`the server answered HTTP ${status}`);
      }

      const declared = response.headers['content-length'];
      if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > options.maxBytes) {
        response.destroy();
        throw errors.tooBig(options.maxBytes);
      }

      let received = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          received += chunk.length;
          if (received > options.maxBytes) return callback(errors.tooBig(options.maxBytes));
          callback(null, chunk);
        },
      });
      piping = true;
      await pipeline(response, counter, sink);

      return {
        filename: filenameFromDisposition(response.headers['content-disposition']) ?? filenameFromPath(current),
        contentType: response.headers['content-type'] ?? null,
        finalUrl: current.href,
      };
    }
  } catch (error) {
    // pipeline already destroyed the sink when it ran; otherwise do it here.
    if (!piping) destroyQuietly(sink);
    if (error instanceof ShoeboxError) throw error;
    if (deadline.signal.aborted) throw errors.urlRefused('timed out');
    if (sinkFailedFirst) throw error;
    throw errors.urlRefused(describeFailure(error));
  } finally {
    clearTimeout(timer);
    sink.removeListener('error', onSinkError);
  }
}

/** True for a public unicast address: the only kind a URL upload may connect to. */
export function isPublicAddress(address: string): boolean {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address.trim());
  } catch {
    return false;
  }
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  if (parsed.kind() === 'ipv4') return (parsed as ipaddr.IPv4).range() === 'unicast';
  const v6 = parsed as ipaddr.IPv6;
  // Conservative: only global unicast (2000::/3) outside every special range ipaddr.js
  // knows. That also refuses 6to4, Teredo, NAT64 and IPv4-compatible (::a.b.c.d) forms,
  // which could embed a private IPv4 address.
  return v6.range() === 'unicast' && (v6.parts[0] & 0xe000) === 0x2000;
}

export interface PostedAnswer {
  status: number;
  /** The first `maxAnswerBytes` of the answer, as text. */
  answer: string;
}

/**
 * POSTs `body` to `url` with the same SSRF checks as fetchUrlSource (public addresses only
 * unless allowed, the connection pinned to the checked address, a total deadline). Redirects
 * are not followed (a 3xx is an answer like any other). Used by the webhooks. Errors are
 * `urlRefused` ShoeboxErrors; any HTTP status is returned, not thrown.
 */
export async function postToUrl(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  options: Pick<UrlFetchOptions, 'timeoutMs' | 'allowPrivateAddresses' | 'lookup' | 'isAllowedAddress' | 'userAgent'> & { maxAnswerBytes?: number },
): Promise<PostedAnswer> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
  const fetchOptions: UrlFetchOptions = { ...options, maxBytes: 0 };
  const maxAnswer = options.maxAnswerBytes ?? 4096;
  try {
    const target = parseTarget(url);
    const addresses = await abortable(resolveTarget(target, fetchOptions), deadline.signal);
    const response = await request(target, addresses, fetchOptions, deadline.signal, () => undefined, { method: 'POST', headers, body });
    const chunks: Buffer[] = [];
    let kept = 0;
    for await (const chunk of response) {
      if (kept < maxAnswer) {
        chunks.push(chunk as Buffer);
        kept += (chunk as Buffer).length;
      }
    }
    return { status: response.statusCode ?? 0, answer: Buffer.concat(chunks).subarray(0, maxAnswer).toString('utf8') };
  } catch (error) {
    if (error instanceof ShoeboxError) throw error;
    if (deadline.signal.aborted) throw errors.urlRefused('timed out');
    throw errors.urlRefused(describeFailure(error));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Checks a URL the site will contact later (a webhook) with the same rules as a fetch: http or
 * https, no credentials, and (unless private addresses are allowed) every address its host
 * resolves to public. Throws `urlRefused` with the reason.
 */
export async function checkOutgoingUrl(
  input: string,
  options: Pick<UrlFetchOptions, 'allowPrivateAddresses' | 'lookup' | 'isAllowedAddress'>,
): Promise<URL> {
  const url = parseTarget(input);
  await resolveTarget(url, { maxBytes: 0, timeoutMs: 0, ...options });
  return url;
}

// ---------------------------------------------------------------------------------------

function parseTarget(input: string): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw errors.urlRefused('invalid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw errors.urlRefused('only http and https URLs are allowed');
  }
  if (url.username !== '' || url.password !== '') {
    throw errors.urlRefused('credentials in the URL are not allowed');
  }
  if (bareHostname(url) === '') throw errors.urlRefused('invalid URL');
  return url;
}

/** The hostname without the brackets of an IPv6 literal. */
function bareHostname(url: URL): string {
  const host = url.hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function isIpLiteral(host: string): boolean {
  // The WHATWG parser has already normalized every IPv4 form (2130706433, 0x7f.1, ...)
  // to four decimal parts, and IPv6 literals to their canonical text.
  return ipaddr.IPv4.isValidFourPartDecimal(host) || ipaddr.IPv6.isValid(host);
}

/** Resolves the host of `url` and checks every address; returns the addresses to connect to. */
async function resolveTarget(url: URL, options: UrlFetchOptions): Promise<LookupAddress[]> {
  const host = bareHostname(url);
  let addresses: LookupAddress[];
  if (isIpLiteral(host)) {
    addresses = [{ address: host, family: ipaddr.IPv4.isValidFourPartDecimal(host) ? 4 : 6 }];
  } else {
    try {
      addresses = await (options.lookup ?? defaultLookup)(host);
    } catch {
      throw errors.urlRefused('could not resolve the host');
    }
    if (addresses.length === 0) throw errors.urlRefused('could not resolve the host');
  }
  if (!options.allowPrivateAddresses) {
    const allowed = options.isAllowedAddress ?? isPublicAddress;
    if (!addresses.every((entry) => allowed(entry.address))) {
      throw errors.urlRefused('the address is not public');
    }
  }
  return addresses;
}

function defaultLookup(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)));
  });
}

/**
 * Sends the GET for one hop and waits for the response head. The socket connects to one of
 * the `addresses` already validated (never a fresh DNS answer); Host and TLS SNI keep the
 * URL's own hostname.
 */
function request(
  url: URL,
  addresses: LookupAddress[],
  options: UrlFetchOptions,
  signal: AbortSignal,
  onRemoteError: () => void,
  send?: { method: string; headers: Record<string, string>; body: Buffer },
): Promise<IncomingMessage> {
  const host = bareHostname(url);
  const literal = isIpLiteral(host);
  const pinnedLookup = (
    _hostname: string,
    lookupOptions: LookupOptions,
    callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    const family = lookupOptions.family === 4 || lookupOptions.family === 6 ? lookupOptions.family : 0;
    const candidates = family ? addresses.filter((entry) => entry.family === family) : addresses;
    if (candidates.length === 0) {
      const error: NodeJS.ErrnoException = new Error(`no IPv${family} address for ${host}`);
      error.code = 'ENOTFOUND';
      return callback(error, '', undefined);
    }
    if (lookupOptions.all) return callback(null, candidates);
    callback(null, candidates[0].address, candidates[0].family);
  };

  const transport = url.protocol === 'https:' ? https : http;
  const requestOptions: https.RequestOptions = {
    method: send?.method ?? 'GET',
    protocol: url.protocol,
    hostname: host,
    port: url.port === '' ? undefined : Number(url.port),
    path: `${url.pathname}${url.search}`,
    headers: {
      Host: url.host,
      'User-Agent': options.userAgent ?? DEFAULT_USER_AGENT,
      Accept: '*/*',
      'Accept-Encoding': 'identity',
      ...(send ? { ...send.headers, 'Content-Length': String(send.body.length) } : {}),
    },
    // One connection per hop, closed afterwards: no pooled socket outlives its check.
    agent: false,
    signal,
    ...(literal ? {} : { lookup: pinnedLookup, servername: host }),
  };

  return new Promise<IncomingMessage>((resolve, reject) => {
    let req: ClientRequest;
    try {
      req = transport.request(requestOptions);
    } catch (error) {
      reject(error);
      return;
    }
    req.on('error', (error) => {
      onRemoteError();
      reject(error);
    });
    req.on('response', (response) => {
      response.on('error', onRemoteError);
      response.on('aborted', onRemoteError);
      resolve(response);
    });
    req.end(send?.body);
  });
}

/** Rejects as soon as `signal` aborts, without waiting for `promise` (a DNS lookup can't be cancelled). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function destroyQuietly(sink: NodeJS.WritableStream | Writable): void {
  const destroy = (sink as Partial<Writable>).destroy;
  if (typeof destroy !== 'function') return;
  if ((sink as Writable).destroyed) return;
  destroy.call(sink);
}

function describeFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection reset';
    case 'ERR_STREAM_PREMATURE_CLOSE':
      return 'the connection closed early';
    case 'ETIMEDOUT':
      return 'timed out';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return 'could not resolve the host';
  }
  if (code.startsWith('HPE_')) return 'invalid HTTP response';
  if (/CERT|TLS|SSL/.test(code)) return `TLS error (${code})`;
  return code ? `connection failed (${code})` : 'connection failed';
}

// ---------------------------------------------------------------------------------------

/** The file name of a Content-Disposition header: filename* (RFC 5987/6266) first, then filename. */
function filenameFromDisposition(header: string | undefined): string | null {
  if (!header) return null;
  const extended = /(?:^|;)\s*filename\*\s*=\s*([^']*)'[^']*'([^;]*)/i.exec(header);
  if (extended) {
    const charset = extended[1].trim().toLowerCase();
    const raw = extended[2].trim().replace(/^"(.*)"$/, '$1');
    let decoded: string | null = null;
    try {
      decoded =
        charset === 'iso-8859-1' || charset === 'latin1'
          ? unescape(raw)
          : decodeURIComponent(raw);
    } catch {
      decoded = null;
    }
    const name = decoded === null ? null : baseName(decoded);
    if (name) return name;
  }
  const plain = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/i.exec(header);
  if (plain) {
    const value = plain[1] !== undefined ? plain[1].replace(/\\(.)/g, '$1') : (plain[2] ?? '').trim();
    const name = baseName(value);
    if (name) return name;
  }
  return null;
}

function filenameFromPath(url: URL): string | null {
  const segment = url.pathname.split('/').pop() ?? '';
  let decoded = segment;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    // keep the raw segment
  }
  return baseName(decoded);
}

/** Drops any directory part (either slash) and control characters; null when nothing is left. */
function baseName(value: string): string | null {
  const name = value
    .split(/[/\\]/)
    .pop()!
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim();
  return name === '' || name === '.' || name === '..' ? null : name;
}
