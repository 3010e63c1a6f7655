/**
 * The FHIR fetcher against real HTTP servers that misbehave on purpose: paging, links and
 * redirects to other hosts, oversized and non-JSON answers, silence. (Ordinary FHIR traffic is
 * covered against the embedded FHIR server in test/hooks/prefetch.test.ts.)
 */
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { createFhirFetcher, FhirFetchError, type FhirFetcher } from './fhir-fetch';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, base: string) => void;

interface TestServer {
  base: string;
  requests: { url: string; authorization?: string }[];
  close(): Promise<void>;
}

async function serve(handler: Handler): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  let base = '';
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
    handler(req, res, base);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
  return {
    base,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: http.ServerResponse, body: unknown, status = 200): void {
  res.writeHead(status, { 'Content-Type': 'application/fhir+json' });
  res.end(JSON.stringify(body));
}

const page = (ids: string[], next?: string) => ({
  resourceType: 'Bundle',
  type: 'searchset',
  entry: ids.map((id) => ({ resource: { resourceType: 'Condition', id }, search: { mode: 'match' } })),
  ...(next && { link: [{ relation: 'next', url: next }] }),
});

const servers: TestServer[] = [];
let fetcher: FhirFetcher;

beforeEach(() => {
  fetcher = createFhirFetcher({ timeoutMs: 1000, maxPages: 3, maxResponseBytes: 64 * 1024 });
});
afterEach(async () => {
  await fetcher.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(handler: Handler): Promise<TestServer> {
  const s = await serve(handler);
  servers.push(s);
  return s;
}

async function failure(promise: Promise<unknown>): Promise<FhirFetchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FhirFetchError);
  return error as FhirFetchError;
}

it('reads a resource with the bearer token', async () => {
  const s = await server((_req, res) => json(res, { resourceType: 'Patient', id: 'p1' }));
  const result = await fetcher.fetch({ fhirServer: s.base, accessToken: 'tok-1', query: 'Patient/p1' });
  expect(result.resources).toEqual([{ resourceType: 'Patient', id: 'p1' }]);
  expect(s.requests).toEqual([{ url: '/fhir/Patient/p1', authorization: 'Bearer tok-1' }]);
});

it('treats a read the server does not have (404) as no data', async () => {
  const s = await server((_req, res) => json(res, { resourceType: 'OperationOutcome', issue: [] }, 404));
  expect(await fetcher.fetch({ fhirServer: s.base, query: 'Patient/none' })).toEqual({ resources: [], pages: 1, truncated: false });
});

it('fails a search answered 404 (the endpoint itself is wrong)', async () => {
  const s = await server((_req, res) => json(res, { resourceType: 'OperationOutcome', issue: [] }, 404));
  const error = await failure(fetcher.fetch({ fhirServer: s.base, query: 'Condition?patient=p1' }));
  expect(error.reason).toBe('http-error');
});

it('follows next links on the same server up to the page limit and skips outcome entries', async () => {
  const s = await server((req, res, base) => {
    const n = Number(new URL(req.url!, 'http://x').searchParams.get('page') ?? '1');
    const body = page([`c${n}`], `${base}/Condition?patient=p1&page=${n + 1}`);
    if (n === 1) body.entry.push({ resource: { resourceType: 'OperationOutcome', id: 'oo' }, search: { mode: 'outcome' } });
    json(res, body);
  });
  const result = await fetcher.fetch({ fhirServer: s.base, accessToken: 'tok', query: 'Condition?patient=p1' });
  expect(result.resources.map((r) => r.id)).toEqual(['c1', 'c2', 'c3']);
  expect(result).toMatchObject({ pages: 3, truncated: true });
  expect(s.requests.every((r) => r.authorization === 'Bearer tok')).toBe(true);
});

it('stops paging in time for the call deadline, keeping the pages read', async () => {
  const many = createFhirFetcher({ timeoutMs: 5000, maxPages: 100, maxResponseBytes: 64 * 1024 });
  const s = await server((req, res, base) => {
    const n = Number(new URL(req.url!, 'http://x').searchParams.get('page') ?? '1');
    setTimeout(() => json(res, page([`c${n}`], `${base}/Condition?patient=p1&page=${n + 1}`)), 100);
  });
  try {
    // Each page takes at least 100 ms: without the deadline all 100 pages would be read.
    const result = await many.fetch({ fhirServer: s.base, query: 'Condition?patient=p1', pageUntil: Date.now() + 450 });
    expect(result.truncated).toBe(true);
    expect(result.pages).toBeGreaterThanOrEqual(1);
    expect(result.pages).toBeLessThan(6);
    expect(result.resources.map((r) => r.id)).toEqual(Array.from({ length: result.pages }, (_, i) => `c${i + 1}`));
  } finally {
    await many.close();
  }
});

it('refuses a next link to another server, so the token never travels there', async () => {
  const other = await server((_req, res) => json(res, page(['stolen'])));
  const s = await server((_req, res) => json(res, page(['c1'], `${other.base}/Condition?page=2`)));
  const error = await failure(fetcher.fetch({ fhirServer: s.base, accessToken: 'tok', query: 'Condition?patient=p1' }));
  expect(error.reason).toBe('foreign-link');
  expect(other.requests).toHaveLength(0);
});

it('follows a redirect on the same server', async () => {
  const s = await server((req, res, base) => {
    if (req.url === '/fhir/Patient/old') {
      res.writeHead(301, { Location: `${base}/Patient/new` });
      res.end();
    } else json(res, { resourceType: 'Patient', id: 'new' });
  });
  const result = await fetcher.fetch({ fhirServer: s.base, accessToken: 'tok', query: 'Patient/old' });
  expect(result.resources).toEqual([{ resourceType: 'Patient', id: 'new' }]);
});

it('refuses a redirect to another server', async () => {
  const other = await server((_req, res) => json(res, { resourceType: 'Patient', id: 'x' }));
  const s = await server((_req, res) => {
    res.writeHead(302, { Location: `${other.base}/Patient/x` });
    res.end();
  });
  const error = await failure(fetcher.fetch({ fhirServer: s.base, accessToken: 'tok', query: 'Patient/x' }));
  expect(error.reason).toBe('redirect');
  expect(other.requests).toHaveLength(0);
});

it('stops reading a response larger than the cap', async () => {
  const s = await server((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/fhir+json' });
    res.end(JSON.stringify({ resourceType: 'Patient', id: 'p1', text: { div: 'x'.repeat(200 * 1024) } }));
  });
  expect((await failure(fetcher.fetch({ fhirServer: s.base, query: 'Patient/p1' }))).reason).toBe('too-large');
});

it('refuses a compressed answer at its headers, so a small gzip body cannot inflate past the cap', async () => {
  // 0.1 MB on the wire, 16 MB once inflated: a cap counted on the wire alone would let it in.
  const bomb = gzipSync(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', total: 0, padding: ' '.repeat(16 * 1024 * 1024) }));
  expect(bomb.length).toBeLessThan(64 * 1024);
  const s = await server((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/fhir+json', 'Content-Encoding': 'gzip' });
    res.end(bomb);
  });
  const error = await failure(fetcher.fetch({ fhirServer: s.base, query: 'Condition?patient=p1' }));
  expect(error.reason).toBe('invalid-response');
  expect(error.message).toMatch(/compressed/);
});

it.each(['Patient/..', 'Patient/.', '..;/admin/Patient?x=1', 'Patient/%2e%2e'])('refuses the dot-segment query %s before any request', async (query) => {
  const s = await server((_req, res) => json(res, { resourceType: 'Patient', id: 'p1' }));
  expect((await failure(fetcher.fetch({ fhirServer: s.base, query }))).reason).toBe('not-allowed');
  expect(s.requests).toHaveLength(0);
});

it('refuses a next link with a ..; segment (a path escape on Tomcat-hosted servers)', async () => {
  const s = await server((req, res, base) => json(res, page(['c1'], req.url?.includes('admin') ? undefined : `${base}/..;/admin/Condition`)));
  expect((await failure(fetcher.fetch({ fhirServer: s.base, query: 'Condition?patient=p1' }))).reason).toBe('foreign-link');
  expect(s.requests).toHaveLength(1);
});

it('fails on an answer that is not JSON', async () => {
  const s = await server((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<html>login</html>');
  });
  expect((await failure(fetcher.fetch({ fhirServer: s.base, query: 'Patient/p1' }))).reason).toBe('invalid-response');
});

it('fails on JSON that is not a FHIR search Bundle', async () => {
  const s = await server((_req, res) => json(res, { resourceType: 'Patient', id: 'p1' }));
  expect((await failure(fetcher.fetch({ fhirServer: s.base, query: 'Condition?patient=p1' }))).reason).toBe('invalid-response');
});

it('reports 401 as refused access', async () => {
  const s = await server((_req, res) => json(res, { resourceType: 'OperationOutcome', issue: [] }, 401));
  const error = await failure(fetcher.fetch({ fhirServer: s.base, query: 'Patient/p1' }));
  expect(error).toMatchObject({ reason: 'unauthorized', status: 401 });
});

it('sends a read once more when the server closes the connection under it, and fails when it does so again', async () => {
  let served = 0;
  const flaky = await server((req, res) => {
    served++;
    if (served === 1) return req.socket.destroy();
    json(res, { resourceType: 'Patient', id: 'p1' });
  });
  const result = await fetcher.fetch({ fhirServer: flaky.base, query: 'Patient/p1' });
  expect(result.resources).toEqual([{ resourceType: 'Patient', id: 'p1' }]);
  expect(flaky.requests).toHaveLength(2);

  const closing = await server((req) => req.socket.destroy());
  expect((await failure(fetcher.fetch({ fhirServer: closing.base, query: 'Patient/p1' }))).reason).toBe('unreachable');
  expect(closing.requests).toHaveLength(2);
});

it('gives up on a server that never answers', async () => {
  const s = await server(() => undefined);
  expect((await failure(fetcher.fetch({ fhirServer: s.base, query: 'Patient/p1' }))).reason).toBe('timeout');
});

it('stops when the caller aborts', async () => {
  const s = await server(() => undefined);
  const controller = new AbortController();
  const pending = fetcher.fetch({ fhirServer: s.base, query: 'Patient/p1', signal: controller.signal });
  controller.abort();
  expect((await failure(pending)).reason).toBe('timeout');
});

it('asks allowServer before any request', async () => {
  const s = await server((_req, res) => json(res, { resourceType: 'Patient', id: 'p1' }));
  const guarded = createFhirFetcher({ timeoutMs: 1000, maxPages: 1, maxResponseBytes: 1024, allowServer: (url) => url.hostname === 'ehr.example.org' });
  try {
    expect((await failure(guarded.fetch({ fhirServer: s.base, query: 'Patient/p1' }))).reason).toBe('not-allowed');
    expect(s.requests).toHaveLength(0);
  } finally {
    await guarded.close();
  }
});

it('keeps fhir-kit-client debug output (URLs with patient ids, error bodies) off even when DEBUG enables it', async () => {
  const debug = require('debug') as { enable(namespaces: string): void; disable(): string };
  const before = debug.disable();
  debug.enable('fhir-kit-client:*');
  const written: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  const quiet = createFhirFetcher({ timeoutMs: 1000, maxPages: 1, maxResponseBytes: 64 * 1024 });
  try {
    const s = await server((_req, res) => json(res, { resourceType: 'OperationOutcome', issue: [{ diagnostics: 'born 1970-01-01' }] }, 500));
    await failure(quiet.fetch({ fhirServer: s.base, accessToken: 'tok-secret', query: 'Patient/pt-unique-77' }));
    expect(written.join('')).not.toMatch(/tok-secret|pt-unique-77|1970-01-01/);
  } finally {
    spy.mockRestore();
    await quiet.close();
    debug.disable();
    if (before) debug.enable(before);
  }
});
