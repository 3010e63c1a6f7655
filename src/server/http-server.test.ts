/**
 * Slow and greedy clients against the real HTTP server on loopback: half-sent headers, a body that
 * never completes, a silent connection, and one address opening more connections than its share.
 */
import type http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createCdsHttpServer, type SocketLimits } from './http-server';

const LIMITS: SocketLimits = {
  headersTimeoutMs: 300,
  requestTimeoutMs: 600,
  keepAliveTimeoutMs: 200,
  maxRequestsPerSocket: 3,
  maxConnectionsPerAddress: 4,
};

let server: http.Server;
let port: number;
const sockets: net.Socket[] = [];

beforeEach(async () => {
  server = createCdsHttpServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  }, LIMITS);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
});

/** Opens a connection, writes `data`, and resolves with the ms until the server closed it (or `giveUpMs`). */
function openAndTime(data: string, giveUpMs = 5000): Promise<{ closedAfterMs: number | null; received: string }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect(port, '127.0.0.1', () => socket.write(data));
    sockets.push(socket);
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('error', () => undefined);
    const timer = setTimeout(() => resolve({ closedAfterMs: null, received }), giveUpMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closedAfterMs: performance.now() - started, received });
    });
  });
}

it('closes a connection whose headers never complete within the header timeout', async () => {
  const { closedAfterMs } = await openAndTime('POST /cds-services/x HTTP/1.1\r\nHost: a\r\nX-Slow: ');
  expect(closedAfterMs).not.toBeNull();
  expect(closedAfterMs as number).toBeLessThan(LIMITS.headersTimeoutMs + 500);
});

it('closes a connection that sends nothing at all', async () => {
  const { closedAfterMs } = await openAndTime('');
  expect(closedAfterMs).not.toBeNull();
  expect(closedAfterMs as number).toBeLessThan(LIMITS.requestTimeoutMs + 500);
});

it('closes a connection whose body never completes within the request timeout', async () => {
  const { closedAfterMs } = await openAndTime('POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n{"partial":');
  expect(closedAfterMs).not.toBeNull();
  expect(closedAfterMs as number).toBeGreaterThanOrEqual(LIMITS.headersTimeoutMs - 50);
  expect(closedAfterMs as number).toBeLessThan(LIMITS.requestTimeoutMs + 500);
});

it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
  const { closedAfterMs, received } = await openAndTime('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  expect(received).toMatch(/^HTTP\/1.1 200/);
  // Node keeps an idle socket up to a second past keepAliveTimeout (its timer granularity).
  expect(closedAfterMs as number).toBeLessThan(LIMITS.keepAliveTimeoutMs + 1500);
});

it('serves at most maxRequestsPerSocket requests on one connection', async () => {
  const request = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
  const { received } = await openAndTime(request.repeat(5));
  expect(received.match(/HTTP\/1.1 200/g)).toHaveLength(3);
  expect(received).toMatch(/Connection: close/i);
});

it('closes connections beyond the per-address limit at once, and accepts again once one closes', async () => {
  const held = await Promise.all(
    Array.from({ length: LIMITS.maxConnectionsPerAddress }, () => {
      return new Promise<net.Socket>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => resolve(s));
        s.on('error', () => undefined);
        sockets.push(s);
      });
    }),
  );
  // Give the server time to count them.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const extra = await openAndTime('GET / HTTP/1.1\r\nHost: a\r\n\r\n', 2000);
  expect(extra.received).toBe('');
  expect(extra.closedAfterMs as number).toBeLessThan(100);

  held[0].destroy();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const after = await openAndTime('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', 2000);
  expect(after.received).toMatch(/^HTTP\/1.1 200/);
});
