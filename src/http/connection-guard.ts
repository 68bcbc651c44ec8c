import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * What keeps slow and greedy clients from holding connections forever (settings in
 * config/settings.ts, README "Settings"):
 *
 * - headers must arrive within `headersTimeoutMs` (Node's own headersTimeout, checked every second);
 * - a socket on which nothing moves for `idleTimeoutMs` is closed when the stall is the client's:
 *   it is sending a request body and stopped, or it stopped reading a response. While the server
 *   itself works (a video being probed after its body arrived) the connection is left alone: every
 *   step of that work has its own time limit;
 * - a request body must keep coming at `minBodyBytesPerSecond` on average over each window of
 *   `bodyRateWindowMs` (a byte a minute is not an upload). A slow phone on a poor link sends
 *   kilobytes a second and finishes; resumable uploads carry on after a cut;
 * - at most `maxConnectionsPerAddress` open connections per client address. Connections from a
 *   trusted proxy (SHOEBOX_TRUST_PROXY) are not counted: the proxy's clients are behind one address.
 */
export interface ConnectionLimits {
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  minBodyBytesPerSecond: number;
  bodyRateWindowMs: number;
  maxConnectionsPerAddress: number;
}

/** The options for Node's http.createServer that Fastify passes on (`http` option). */
export function httpServerOptions(limits: ConnectionLimits) {
  return {
    headersTimeout: limits.headersTimeoutMs,
    // Node checks header and request timeouts on this interval (30 s by default).
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
  };
}

/** Whether a socket's peer is a proxy the site trusts (SHOEBOX_TRUST_PROXY: 1, or a comma list of addresses/CIDRs). */
export function trustedProxyMatcher(trustProxy: boolean | string): (address: string | undefined) => boolean {
  if (trustProxy === true) return () => true;
  if (!trustProxy) return () => false;
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const item of trustProxy.split(',').map((s) => s.trim()).filter(Boolean)) {
    try {
      if (item.includes('/')) ranges.push(ipaddr.parseCIDR(item));
      else {
        const address = ipaddr.parse(item);
        ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
      }
    } catch {
      // Names such as "loopback" are Fastify's (proxy-addr) presets.
      if (item === 'loopback') ranges.push(ipaddr.parseCIDR('127.0.0.1/8'), ipaddr.parseCIDR('::1/128'));
      else if (item === 'linklocal') ranges.push(ipaddr.parseCIDR('169.254.0.0/16'), ipaddr.parseCIDR('fe80::/10'));
      else if (item === 'uniquelocal') ranges.push(ipaddr.parseCIDR('10.0.0.0/8'), ipaddr.parseCIDR('172.16.0.0/12'), ipaddr.parseCIDR('192.168.0.0/16'), ipaddr.parseCIDR('fc00::/7'));
    }
  }
  return (address) => {
    if (!address || !ipaddr.isValid(address)) return false;
    let parsed = ipaddr.parse(address);
    if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
    return ranges.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits));
  };
}

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  windowStartedAt: number;
  windowStartBytes: number;
}

/** Installs the limits on a server; returns what stops its timer (the server's close does too). */
export function guardConnections(server: Server, limits: ConnectionLimits, isTrustedProxy: (address: string | undefined) => boolean): () => void {
  const perAddress = new Map<string, number>();
  const current = new WeakMap<Socket, Exchange>();
  const receiving = new Set<Exchange>();

  if (limits.maxConnectionsPerAddress > 0) {
    server.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress;
      if (!address || isTrustedProxy(address)) return;
      const open = (perAddress.get(address) ?? 0) + 1;
      if (open > limits.maxConnectionsPerAddress) {
        socket.destroy();
        return;
      }
      perAddress.set(address, open);
      socket.once('close', () => {
        const left = (perAddress.get(address) ?? 1) - 1;
        if (left <= 0) perAddress.delete(address);
        else perAddress.set(address, left);
      });
    });
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const exchange: Exchange = { req, res, windowStartedAt: Date.now(), windowStartBytes: socket.bytesRead };
    current.set(socket, exchange);
    const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && limits.minBodyBytesPerSecond > 0 && !req.complete) {
      receiving.add(exchange);
      req.once('end', () => receiving.delete(exchange));
    }
    res.once('close', () => {
      receiving.delete(exchange);
      if (current.get(socket) === exchange) current.delete(socket);
    });
  });

  if (limits.idleTimeoutMs > 0) {
    server.timeout = limits.idleTimeoutMs;
    // With a listener, Node leaves the decision to us: close only when the client is the one stalling.
    server.on('timeout', (socket: Socket) => {
      const exchange = current.get(socket);
      if (!exchange) return socket.destroy();
      const { req, res } = exchange;
      const clientStalled = (!req.complete && !req.isPaused()) || (res.headersSent && res.writableNeedDrain);
      if (clientStalled) socket.destroy();
    });
  }

  let timer: NodeJS.Timeout | null = null;
  if (limits.minBodyBytesPerSecond > 0) {
    const tickMs = Math.max(100, Math.min(1000, Math.floor(limits.bodyRateWindowMs / 4)));
    timer = setInterval(() => {
      const now = Date.now();
      for (const exchange of receiving) {
        const { req } = exchange;
        const bytes = req.socket.bytesRead;
        // A body the server is not reading (paused while it writes to disk) is not the client's fault.
        if (req.isPaused() || req.socket.isPaused()) {
          exchange.windowStartedAt = now;
          exchange.windowStartBytes = bytes;
          continue;
        }
        const elapsed = now - exchange.windowStartedAt;
        if (elapsed < limits.bodyRateWindowMs) continue;
        if (bytes - exchange.windowStartBytes < (limits.minBodyBytesPerSecond * elapsed) / 1000) {
          receiving.delete(exchange);
          req.socket.destroy();
          continue;
        }
        exchange.windowStartedAt = now;
        exchange.windowStartBytes = bytes;
      }
    }, tickMs);
    timer.unref();
  }
  const stop = () => {
    if (timer) clearInterval(timer);
    timer = null;
  };
  server.once('close', stop);
  return stop;
}
