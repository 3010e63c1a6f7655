/**
 * A small HTTP server on 127.0.0.1 that stands in for an EHR's FHIR server: each answer is scripted by
 * the test (a record to serve, or a fault: errors, loops, slowness, a cut connection), and every request
 * it receives is recorded (method, URL, Authorization header), so a test can show what reached it and
 * what did not.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Bundle, FhirResource, Resource } from 'fhir/r4';

export interface Hit {
  method: string;
  /** Path and query as received, e.g. `/fhir/Condition?patient=p1`. */
  url: string;
  authorization?: string;
}

export type Script = (req: IncomingMessage, res: ServerResponse, server: ScriptedServer) => void;

export interface ScriptedServer {
  /** http://127.0.0.1:PORT */
  origin: string;
  /** The FHIR base the service is pointed at: origin + /fhir. */
  baseUrl: string;
  hits: Hit[];
  /** What the next requests get; tests swap it between calls. */
  script: Script;
  /** Runs `fn` after `ms` unless the server closes first (slow answers must not outlive the suite). */
  later(ms: number, fn: () => void): void;
  close(): Promise<void>;
}

export async function startScriptedServer(script: Script): Promise<ScriptedServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    scripted.hits.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    // The request body (none for GET) is not read; drain it so the connection stays usable.
    req.resume();
    scripted.script(req, res, scripted);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  const scripted: ScriptedServer = {
    origin,
    baseUrl: `${origin}/fhir`,
    hits: [],
    script,
    later(ms, fn) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        fn();
      }, ms);
      timers.add(timer);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return scripted;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/fhir+json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function searchset(resources: Resource[], next?: string): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: resources.length,
    ...(next ? { link: [{ relation: 'next', url: next }] } : {}),
    entry: resources.map((resource) => ({ resource: resource as FhirResource, search: { mode: 'match' } })),
  };
}

/** The resource type a FHIR request names: `Patient` for `/fhir/Patient/p1` and `/fhir/Patient?x=y`. */
export function resourceTypeOf(req: IncomingMessage): string {
  const path = (req.url ?? '').split('?')[0];
  return path.replace(/^\/fhir\/?/, '').split('/')[0];
}

/**
 * Answers reads and searches from a fixed record the way a plain FHIR server would: a read by id
 * returns the resource or 404, a search returns every resource of the type (search parameters are
 * not applied: each test record holds one patient).
 */
export function serveRecord(record: Resource[]): Script {
  return (req, res) => {
    const [path] = (req.url ?? '').split('?');
    const type = resourceTypeOf(req);
    const id = path.replace(/^\/fhir\/?/, '').split('/')[1];
    if (id !== undefined) {
      const found = record.find((r) => r.resourceType === type && r.id === id);
      if (found) return sendJson(res, 200, found);
      return sendJson(res, 404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
    }
    sendJson(res, 200, searchset(record.filter((r) => r.resourceType === type)));
  };
}
