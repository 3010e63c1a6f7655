/**
 * Graceful shutdown on SIGTERM/SIGINT: stop accepting connections, let requests in flight finish
 * (each is bounded by the hook deadline anyway), then exit. If they have not finished within the
 * grace period the remaining connections are cut and the process exits with status 1. A second
 * signal cuts at once. The process object and exit function are injected so tests can drive it.
 */
import type { Server } from 'node:http';
import type { Logger } from '../logging/logger';

export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
}

export interface ShutdownOptions {
  /** Longest wait for requests in flight; default 10 s (above the 4.5 s hook deadline). */
  graceMs?: number;
  signals?: NodeJS.Signals[];
  /** Defaults to `process`. */
  processLike?: SignalSource;
  /** Defaults to `process.exit`. */
  exit?: (code: number) => void;
  logger: Logger;
  /** Runs after the server has closed (e.g. stop the embedded FHIR server); bounded by the same grace period. */
  onClosed?: () => Promise<void> | void;
}

export interface ShutdownControl {
  /** Starts the shutdown as a signal would; resolves when exit has been called. */
  shutdown(reason: string): Promise<void>;
  /** True once shutdown started: /ready should then answer 503 so no new traffic is routed here. */
  isShuttingDown(): boolean;
}

export function installGracefulShutdown(server: Server, options: ShutdownOptions): ShutdownControl {
  const graceMs = options.graceMs ?? 10_000;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const source: SignalSource = options.processLike ?? process;
  const { logger } = options;
  let started: Promise<void> | undefined;
  let forceNow: (() => void) | undefined;

  const shutdown = (reason: string): Promise<void> => {
    if (started) {
      forceNow?.();
      return started;
    }
    logger.info({ reason, graceMs }, 'shutting down: no new connections, waiting for requests in flight');
    started = new Promise<void>((resolve) => {
      let done = false;
      const finish = (code: number, message: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (code !== 0) server.closeAllConnections();
        logger[code === 0 ? 'info' : 'warn']({ code }, message);
        exit(code);
        resolve();
      };
      const timer = setTimeout(() => finish(1, 'grace period over: open connections cut'), graceMs);
      forceNow = () => finish(1, 'second signal: open connections cut');
      server.close(() => {
        Promise.resolve()
          .then(() => options.onClosed?.())
          .then(
            () => finish(0, 'shut down cleanly'),
            () => finish(1, 'shut down, but the close hook failed'),
          );
      });
      // Keep-alive connections with no request in flight would otherwise hold close() open.
      server.closeIdleConnections();
    });
    return started;
  };

  // A keep-alive connection whose last request finishes after close() would stay open until its
  // idle timeout; close it as soon as its response is out.
  server.on('request', (_req, res) => {
    res.on('finish', () => {
      if (started) setImmediate(() => server.closeIdleConnections());
    });
  });

  for (const signal of options.signals ?? (['SIGTERM', 'SIGINT'] as NodeJS.Signals[])) {
    source.on(signal, () => void shutdown(signal));
  }
  return { shutdown, isShuttingDown: () => started !== undefined };
}
