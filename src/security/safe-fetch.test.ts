import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FhirFetchError, safeFetchJson, type FhirFetchErrorKind } from './safe-fetch';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(handler: Handler): Promise<{ server: Server; origin: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

const patient = { resourceType: 'Patient', id: 'p1' };
let fhir: { server: Server; origin: string };
let other: { server: Server; origin: string };
const seen: Array<{ method?: string; url?: string; authorization?: string; body: string }> = [];

beforeAll(async () => {
  other = await listen((_req, res) => {
    res.setHeader('Content-Type', 'application/fhir+json');
    res.end(JSON.stringify(patient));
  });
  fhir = await listen((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization, body });
      const json = (status: number, value: unknown) => {
        res.statusCode = status;
        res.setHeader('Content-Type', 'application/fhir+json');
        res.end(JSON.stringify(value));
      };
      const redirect = (status: number, location: string) => {
        res.statusCode = status;
        res.setHeader('Location', location);
        res.end();
      };
      switch (req.url) {
        case '/fhir/Patient/p1':
          return json(200, patient);
        case '/fhir/moved':
          return redirect(302, '/fhir/Patient/p1');
        case '/fhir/see-other':
          return redirect(303, '/fhir/Patient/p1');
        case '/fhir/elsewhere':
          return redirect(307, `${other.origin}/fhir/Patient/p1`);
        case '/fhir/loop':
          return redirect(302, '/fhir/loop');
        case '/fhir/broken-location':
          return redirect(302, 'http://[not a url');
        case '/fhir/missing':
          return json(404, { resourceType: 'OperationOutcome' });
        case '/fhir/error':
          return json(500, { resourceType: 'OperationOutcome' });
        case '/fhir/not-json':
          res.setHeader('Content-Type', 'text/html');
          return res.end('<html>login</html>');
        case '/fhir/declared-huge':
          res.setHeader('Content-Length', String(10_000_000));
          return res.write('{');
        case '/fhir/streamed-huge': {
          // No Content-Length: the cap has to be enforced while reading.
          res.setHeader('Content-Type', 'application/fhir+json');
          res.write('{"resourceType":"Bundle","entry":[');
          const chunk = `${'{"resource":{"resourceType":"Basic"}},'.repeat(100)}`;
          for (let i = 0; i < 100; i++) res.write(chunk);
          return res.end('{}]}');
        }
        case '/fhir/hang':
          return; // never answers
        case '/fhir/hang-mid-body':
          res.setHeader('Content-Type', 'application/fhir+json');
          return res.write('{"resourceType":');
        default:
          return json(404, {});
      }
    });
  });
});

afterAll(async () => {
  await stop(fhir.server);
  await stop(other.server);
});

beforeEach(() => {
  seen.length = 0;
});

const limits = { timeoutMs: 2000, maxBytes: 64 * 1024 };

async function failure(promise: Promise<unknown>): Promise<FhirFetchError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FhirFetchError) return error;
    throw error;
  }
  throw new Error('expected a FhirFetchError');
}

async function expectKind(promise: Promise<unknown>, kind: FhirFetchErrorKind): Promise<FhirFetchError> {
  const error = await failure(promise);
  expect(error.kind).toBe(kind);
  expect(error.origin).toBe(fhir.origin);
  return error;
}

describe('safeFetchJson', () => {
  it('returns the parsed body and sends the given headers', async () => {
    const result = await safeFetchJson(`${fhir.origin}/fhir/Patient/p1`, { ...limits, headers: { Authorization: 'Bearer abc' } });
    expect(result).toEqual({ status: 200, url: `${fhir.origin}/fhir/Patient/p1`, body: patient });
    expect(seen[0].authorization).toBe('Bearer abc');
  });

  it('follows a redirect on the same origin', async () => {
    const result = await safeFetchJson(`${fhir.origin}/fhir/moved`, limits);
    expect(result.body).toEqual(patient);
    expect(result.url).toBe(`${fhir.origin}/fhir/Patient/p1`);
  });

  it('turns a POST into a GET on 303', async () => {
    await safeFetchJson(`${fhir.origin}/fhir/see-other`, { ...limits, method: 'POST', body: '{"resourceType":"Bundle"}' });
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['POST', '/fhir/see-other', '{"resourceType":"Bundle"}'],
      ['GET', '/fhir/Patient/p1', ''],
    ]);
  });

  it('refuses a redirect to another origin without contacting it', async () => {
    const error = await expectKind(safeFetchJson(`${fhir.origin}/fhir/elsewhere`, { ...limits, headers: { Authorization: 'Bearer abc' } }), 'redirect');
    expect(error.message).not.toContain('/fhir/');
  });

  it('refuses endless and unparseable redirects', async () => {
    await expectKind(safeFetchJson(`${fhir.origin}/fhir/loop`, limits), 'redirect');
    await expectKind(safeFetchJson(`${fhir.origin}/fhir/broken-location`, limits), 'redirect');
  });

  it('refuses a URL outside the allowed origin', async () => {
    const error = await failure(safeFetchJson(`${other.origin}/fhir/Patient/p1`, { ...limits, allowedOrigin: fhir.origin }));
    expect(error.kind).toBe('redirect');
  });

  it('reports HTTP errors with their status', async () => {
    expect((await expectKind(safeFetchJson(`${fhir.origin}/fhir/missing`, limits), 'http')).status).toBe(404);
    expect((await expectKind(safeFetchJson(`${fhir.origin}/fhir/error`, limits), 'http')).status).toBe(500);
  });

  it('reports a body that is not JSON', async () => {
    await expectKind(safeFetchJson(`${fhir.origin}/fhir/not-json`, limits), 'invalid-json');
  });

  it('refuses a response declared larger than the cap', async () => {
    await expectKind(safeFetchJson(`${fhir.origin}/fhir/declared-huge`, limits), 'too-large');
  });

  it('stops reading a streamed response once it passes the cap', async () => {
    await expectKind(safeFetchJson(`${fhir.origin}/fhir/streamed-huge`, limits), 'too-large');
    const result = await safeFetchJson<{ entry: unknown[] }>(`${fhir.origin}/fhir/streamed-huge`, { ...limits, maxBytes: 1024 * 1024 });
    expect(result.body.entry).toHaveLength(10_001);
  });

  it('times out a server that does not answer, or stops halfway', async () => {
    const error = await expectKind(safeFetchJson(`${fhir.origin}/fhir/hang`, { ...limits, timeoutMs: 100 }), 'timeout');
    expect(error.message).toBe('FHIR server did not answer within 100 ms');
    await expectKind(safeFetchJson(`${fhir.origin}/fhir/hang-mid-body`, { ...limits, timeoutMs: 100 }), 'timeout');
  });

  it('stops when the caller’s signal aborts (the hook deadline)', async () => {
    const controller = new AbortController();
    const pending = safeFetchJson(`${fhir.origin}/fhir/hang`, { ...limits, signal: controller.signal });
    controller.abort();
    const error = await expectKind(pending, 'timeout');
    expect(error.message).toBe('FHIR request cancelled by the hook deadline');
  });

  it('reports a server that cannot be reached', async () => {
    const closed = await listen(() => undefined);
    await stop(closed.server);
    const error = await failure(safeFetchJson(`${closed.origin}/fhir/metadata`, limits));
    expect(error.kind).toBe('unreachable');
  });
});
