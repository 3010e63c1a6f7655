import { EventEmitter } from 'node:events';
import { Agent, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createLogger } from '../logging/logger';
import { installGracefulShutdown } from './shutdown';

interface Harness {
  server: Server;
  port: number;
  signals: EventEmitter;
  exited: Promise<number>;
  exit: jest.Mock;
  handlerReached: Promise<void>;
  release: () => void;
  logLines: string[];
}

/** A real HTTP server whose /slow handler waits until the test releases it. */
async function harness(graceMs: number, onClosed?: () => Promise<void>): Promise<Harness & { control: ReturnType<typeof installGracefulShutdown> }> {
  let reached!: () => void;
  const handlerReached = new Promise<void>((resolve) => (reached = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const app = express();
  app.get('/slow', async (_req, res) => {
    reached();
    await released;
    res.json({ done: true });
  });
  app.get('/fast', (_req, res) => {
    res.json({ fast: true });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const signals = new EventEmitter();
  let exitWith!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (exitWith = resolve));
  const exit = jest.fn((code: number) => exitWith(code));
  const logLines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } });
  const control = installGracefulShutdown(server, { graceMs, processLike: signals, exit, logger, onClosed });
  return { server, port: (server.address() as AddressInfo).port, signals, exited, exit, handlerReached, release, logLines, control };
}

function fetchStatus(port: number, path: string, agent?: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

async function cleanUp(server: Server): Promise<void> {
  server.closeAllConnections();
  if (server.listening) await new Promise((resolve) => server.close(resolve));
}

describe('installGracefulShutdown', () => {
  it('on SIGTERM refuses new connections, finishes the request in flight, then exits 0', async () => {
    const h = await harness(10_000);
    const agent = new Agent({ keepAlive: true });
    try {
      expect(await fetchStatus(h.port, '/fast', agent)).toBe(200); // leaves an idle keep-alive connection
      const inFlight = fetchStatus(h.port, '/slow', agent);
      await h.handlerReached;

      h.signals.emit('SIGTERM');
      expect(h.control.isShuttingDown()).toBe(true);
      await expect(fetchStatus(h.port, '/fast')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      expect(h.exit).not.toHaveBeenCalled();

      h.release();
      expect(await inFlight).toBe(200);
      expect(await h.exited).toBe(0);
      expect(h.exit).toHaveBeenCalledTimes(1);
      expect(h.logLines.map((l) => JSON.parse(l).msg)).toEqual([
        'shutting down: no new connections, waiting for requests in flight',
        'shut down cleanly',
      ]);
    } finally {
      agent.destroy();
      await cleanUp(h.server);
    }
  });

  it('cuts connections and exits 1 when requests outlast the grace period', async () => {
    const h = await harness(50);
    try {
      const inFlight = fetchStatus(h.port, '/slow');
      await h.handlerReached;
      h.signals.emit('SIGINT');
      expect(await h.exited).toBe(1);
      await expect(inFlight).rejects.toMatchObject({ code: 'ECONNRESET' });
    } finally {
      h.release();
      await cleanUp(h.server);
    }
  });

  it('cuts at once on a second signal', async () => {
    const h = await harness(10_000);
    try {
      const inFlight = fetchStatus(h.port, '/slow');
      await h.handlerReached;
      h.signals.emit('SIGTERM');
      h.signals.emit('SIGINT');
      expect(await h.exited).toBe(1);
      expect(h.exit).toHaveBeenCalledTimes(1);
      await expect(inFlight).rejects.toMatchObject({ code: 'ECONNRESET' });
    } finally {
      h.release();
      await cleanUp(h.server);
    }
  });

  it('runs the close hook after the server closed and before exiting', async () => {
    const order: string[] = [];
    const h = await harness(10_000, async () => {
      order.push(`hook (listening: ${h.server.listening})`);
    });
    try {
      h.exit.mockImplementation((code: number) => order.push(`exit ${code}`));
      await h.control.shutdown('test');
      expect(order).toEqual(['hook (listening: false)', 'exit 0']);
    } finally {
      await cleanUp(h.server);
    }
  });
});
