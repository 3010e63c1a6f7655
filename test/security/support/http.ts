/**
 * Logging capture and a listening copy of the app for the HTTP security suites. A listening server
 * (rather than supertest's one-off server per request) gives the fixed URL a client JWT's `aud` names.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CdsApp } from '../../../src/app';
import { createLogger, type Logger } from '../../../src/logging/logger';

export interface LogLine {
  level: string;
  msg?: string;
  [field: string]: unknown;
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** The app's real logger (redaction included), keeping each raw line and its parsed form. */
export function capturingLogger(level = 'info'): Logger & { raw: string[]; lines(): LogLine[]; clear(): void } {
  const raw: string[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => void raw.push(line) } });
  return Object.assign(logger, {
    raw,
    lines: () =>
      raw.map((line) => {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        return { ...parsed, level: LEVELS[parsed.level as number] ?? String(parsed.level) } as LogLine;
      }),
    clear: () => void raw.splice(0, raw.length),
  });
}

export interface ListeningApp {
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  server: http.Server;
  close(): Promise<void>;
}

/**
 * Listens on a free loopback port. Pass a function to build the app once the base URL is known
 * (with client trust on, the app needs it as its public base URL: the JWT audience).
 */
export async function listen(appOrFactory: CdsApp | ((baseUrl: string) => CdsApp)): Promise<ListeningApp> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const app = 'closeResources' in appOrFactory ? appOrFactory : appOrFactory(baseUrl);
  server.on('request', app);
  return {
    baseUrl,
    server,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await app.closeResources();
    },
  };
}
