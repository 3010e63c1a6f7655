/**
 * The HTTP server around the app, with the socket limits a service facing unknown clients needs.
 * Node's defaults let a client hold a connection for a minute with half its headers (headersTimeout
 * 60 s, requestTimeout 300 s, and both are only checked every 30 s), and any one address open as
 * many connections as it likes. Here every limit comes from configuration (config.http), timeouts
 * are checked at least once a second, and connections beyond an address's share are closed on
 * arrival, before any byte is parsed.
 */
import http, { type RequestListener } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpLimits } from '../config';

export type SocketLimits = Pick<HttpLimits, 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs' | 'maxRequestsPerSocket' | 'maxConnectionsPerAddress'>;

/** How often Node checks the header and request timeouts: a tenth of the shortest, at most a second. */
function checkingInterval(limits: SocketLimits): number {
  const shortest = Math.min(limits.headersTimeoutMs || Infinity, limits.requestTimeoutMs || Infinity);
  return Math.max(50, Math.min(1000, Math.floor(shortest / 10)));
}

export function createCdsHttpServer(handler: RequestListener, limits: SocketLimits): http.Server {
  const server = http.createServer(
    {
      // Node requires requestTimeout >= headersTimeout (0 turns a limit off).
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: checkingInterval(limits),
      keepAliveTimeout: limits.keepAliveTimeoutMs,
    },
    handler,
  );
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  limitConnectionsPerAddress(server, limits.maxConnectionsPerAddress);
  return server;
}

/** Closes a new connection when its address already holds `max` (0: no limit). */
export function limitConnectionsPerAddress(server: http.Server, max: number): void {
  if (max <= 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = open.get(address) ?? 0;
    if (count >= max) {
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
