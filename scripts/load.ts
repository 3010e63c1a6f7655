/**
 * `npm run load`: the service under overload and hostile clients, as an overloaded EHR and an
 * attacker meet it, on loopback only, bounded in calls and time (about 3 minutes by default).
 *
 *   npm run load -- [--overload-seconds 30] [--soak-seconds 45] [--root /path/to/other/checkout]
 *
 * 1. starts the service (scripts/support/serve-loopback.ts) as its own process, with the per-client
 *    rate limits off (every call comes from 127.0.0.1; the limits have their own tests);
 * 2. finds the clean rate: a closed-loop probe gives the capacity, then open-loop steps below it;
 *    the clean rate is the highest step with every call answered 200 and p99 under 1 s;
 * 3. offers 3x the clean rate: counts 200, 503 and client timeouts (10 s, as an EHR gives up),
 *    the p99 of served calls and how fast refusals came;
 * 4. a soak at the clean rate, RSS sampled;
 * 5. the fault suite: gzip FHIR answers that inflate to 100 MB, gzip request bodies that inflate to
 *    20 MB while normal calls run, and slow sockets (partial headers, partial body); then RSS
 *    against its baseline, 3 s after the suite and again after 12 s without calls.
 * Each call's record differs from every other (uniqueBody), so none is answered from the cache.
 * `--root` runs another checkout's service (e.g. main before a change) the same way.
 */
import net from 'node:net';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { Pool } from 'undici';
import { hookBody, largerRecord, ms, percentile, rssMiB, startService, uniqueBody, type RunningService } from './support/hook-load';

const SIGN = '/cds-services/intrathecal-pump-order-sign';
const CLIENT_TIMEOUT_MS = 10_000;
const HEADERS_TIMEOUT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 5_000;
/** Seconds without calls after the fault suite's RSS figure, before RSS is read once more. */
const QUIET_SECONDS = 12;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const ROOT = (() => {
  const i = process.argv.indexOf('--root');
  return i >= 0 ? process.argv[i + 1] : undefined;
})();
const OVERLOAD_SECONDS = Math.min(120, arg('overload-seconds', 30));
const SOAK_SECONDS = Math.min(300, arg('soak-seconds', 45));

type Outcome = { status: number | 'timeout' | 'error'; ms: number };

const template = JSON.stringify(hookBody(largerRecord(50)));
let callNumber = 0;

async function call(pool: Pool, body = uniqueBody(template, callNumber++), headers: Record<string, string> = {}): Promise<Outcome> {
  const started = performance.now();
  try {
    const res = await pool.request({
      path: SIGN,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
    });
    await res.body.dump({ limit: 1 << 24 });
    return { status: res.statusCode, ms: performance.now() - started };
  } catch (error) {
    const name = (error as { name?: string }).name;
    return { status: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'error', ms: performance.now() - started };
  }
}

/** Open loop: `rate` calls a second for `seconds`, sent on schedule whatever the answers do. */
async function openLoop(pool: Pool, rate: number, seconds: number, sample?: () => void): Promise<Outcome[]> {
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const t0 = performance.now();
  const pending: Promise<Outcome>[] = [];
  let nextSample = t0 + 5000;
  while (pending.length < total) {
    const now = performance.now();
    while (pending.length < total && t0 + pending.length * interval <= now) pending.push(call(pool));
    if (sample && now >= nextSample) {
      sample();
      nextSample += 5000;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(10, t0 + pending.length * interval - now))));
  }
  return Promise.all(pending);
}

/** Closed loop: `concurrency` callers back to back for `seconds`; the answered rate is the capacity. */
async function closedLoop(pool: Pool, concurrency: number, seconds: number): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let ok = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) if ((await call(pool)).status === 200) ok++;
    }),
  );
  return ok / seconds;
}

interface PhaseFigures {
  label: string;
  offered: number;
  sent: number;
  ok: number;
  refused503: number;
  other: number;
  timeouts: number;
  servedP50: number;
  servedP99: number;
  refusedP99: number;
  refusedMax: number;
  refusedWithin100: number;
}

function figures(label: string, offered: number, outcomes: Outcome[]): PhaseFigures {
  const served = outcomes.filter((o) => o.status === 200).map((o) => o.ms).sort((a, b) => a - b);
  const refused = outcomes.filter((o) => o.status === 503).map((o) => o.ms).sort((a, b) => a - b);
  return {
    label,
    offered,
    sent: outcomes.length,
    ok: served.length,
    refused503: refused.length,
    other: outcomes.filter((o) => typeof o.status === 'number' && o.status !== 200 && o.status !== 503).length + outcomes.filter((o) => o.status === 'error').length,
    timeouts: outcomes.filter((o) => o.status === 'timeout').length,
    servedP50: percentile(served, 50),
    servedP99: percentile(served, 99),
    refusedP99: percentile(refused, 99),
    refusedMax: refused.length ? refused[refused.length - 1] : NaN,
    refusedWithin100: refused.filter((m) => m <= 100).length,
  };
}

function printPhase(f: PhaseFigures): void {
  console.log(
    `${f.label.padEnd(22)} offered ${f.offered.toFixed(1).padStart(6)}/s  sent ${String(f.sent).padStart(5)}  200 ${String(f.ok).padStart(5)}  ` +
      `503 ${String(f.refused503).padStart(5)}  other ${String(f.other).padStart(3)}  client timeouts ${String(f.timeouts).padStart(4)}  ` +
      `served p50/p99 ${ms(f.servedP50)}/${ms(f.servedP99)} ms  503 p99/max ${ms(f.refusedP99)}/${ms(f.refusedMax)} ms (${f.refusedWithin100}/${f.refused503} within 100 ms)`,
  );
}

/** A FHIR server whose every answer is 0.1 MB of gzip that inflates to 100 MB. */
async function gzipBombServer(): Promise<{ base: string; close(): Promise<void> }> {
  const inflated = `{"resourceType":"Bundle","type":"searchset","total":0,"entry":[],"padding":"${' '.repeat(100 * 1024 * 1024)}"}`;
  const bomb = gzipSync(inflated, { level: 9 });
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/fhir+json', 'content-encoding': 'gzip', 'content-length': bomb.length });
    res.end(bomb);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/fhir`;
  console.log(`gzip FHIR answer: ${(bomb.length / 1024).toFixed(0)} KiB on the wire, ${(inflated.length / 1024 / 1024).toFixed(0)} MiB inflated`);
  return {
    base,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sockets that start a request and never finish it; resolves with how many the service still holds after `waitMs`. */
async function slowSockets(baseUrl: string, count: number, waitMs: number): Promise<{ partialHeaders: number; partialBody: number; maxOpenMs: number }> {
  const { port } = new URL(baseUrl);
  const sockets: { socket: net.Socket; kind: 'headers' | 'body'; closedAt?: number }[] = [];
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const kind = i % 2 === 0 ? 'headers' : 'body';
    const socket = net.connect(Number(port), '127.0.0.1');
    const entry: (typeof sockets)[number] = { socket, kind };
    socket.on('error', () => undefined);
    // Read what the server sends (its 408), or the socket never sees the end and never closes.
    socket.resume();
    socket.on('close', () => (entry.closedAt = performance.now()));
    socket.on('connect', () =>
      socket.write(
        kind === 'headers' ? `POST ${SIGN} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ` : `POST ${SIGN} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 40000\r\n\r\n{"hook":`,
      ),
    );
    sockets.push(entry);
  }
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  const open = (kind: 'headers' | 'body') => sockets.filter((s) => s.kind === kind && s.closedAt === undefined).length;
  const result = {
    partialHeaders: open('headers'),
    partialBody: open('body'),
    maxOpenMs: Math.max(...sockets.map((s) => (s.closedAt ?? performance.now()) - started)),
  };
  for (const s of sockets) s.socket.destroy();
  return result;
}

async function faultSuite(service: RunningService, pool: Pool, bombBase: string): Promise<void> {
  // 1. Six calls at once whose record comes from a FHIR server answering with gzip bombs.
  const noPrefetch = JSON.parse(template) as Record<string, unknown>;
  delete noPrefetch.prefetch;
  noPrefetch.fhirServer = bombBase;
  let peak = rssMiB(service.pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(service.pid))), 50);
  const bombs = await Promise.all(Array.from({ length: 6 }, () => call(pool, JSON.stringify(noPrefetch))));
  clearInterval(sampler);
  console.log(`gzip FHIR answers x6:   statuses ${bombs.map((b) => b.status).join(',')}; slowest ${ms(Math.max(...bombs.map((b) => b.ms)))} ms; service peak RSS ${peak.toFixed(0)} MiB`);

  // 2. Gzip request bodies inflating to 20 MB, sent while three normal calls run.
  const gzBody = gzipSync(`{"hook":"order-sign","padding":"${' '.repeat(20 * 1024 * 1024)}"}`);
  const normal = Array.from({ length: 3 }, () => call(pool));
  const gz = await Promise.all(Array.from({ length: 6 }, () => call(pool, gzBody as unknown as string, { 'content-encoding': 'gzip' })));
  await Promise.all(normal);
  console.log(`gzip bodies (20 MB) x6:  statuses ${gz.map((g) => g.status).join(',')}; slowest ${ms(Math.max(...gz.map((g) => g.ms)))} ms (${(gzBody.length / 1024).toFixed(0)} KiB on the wire)`);

  // 3. Slow sockets: half send partial headers, half a partial body; counted after the request timeout and 2 s.
  const slow = await slowSockets(service.baseUrl, 200, REQUEST_TIMEOUT_MS + 2000);
  console.log(
    `slow sockets x200:       still open after ${(REQUEST_TIMEOUT_MS + 2000) / 1000} s: ${slow.partialHeaders} with partial headers, ${slow.partialBody} with a partial body ` +
      `(configured: headers ${HEADERS_TIMEOUT_MS} ms, request ${REQUEST_TIMEOUT_MS} ms)`,
  );
}

/** A difference in MiB with its sign: +74, -3. */
function signed(mib: number): string {
  return `${mib >= 0 ? '+' : ''}${mib.toFixed(0)}`;
}

async function main(): Promise<void> {
  const bomb = await gzipBombServer();
  const service = await startService(
    {
      CDS_RATE_LIMIT_PER_MINUTE: '0',
      ADDRESS_RATE_LIMIT_PER_MINUTE: '0',
      HTTP_MAX_CONNECTIONS_PER_ADDRESS: '1024',
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      CDS_FHIR_ALLOWLIST: bomb.base,
      WORKERS: '1',
    },
    ROOT,
  );
  const pool = new Pool(service.baseUrl, { connections: 512, headersTimeout: CLIENT_TIMEOUT_MS, bodyTimeout: CLIENT_TIMEOUT_MS });
  const run0 = performance.now();
  try {
    console.log(`service ${ROOT ?? '(this checkout)'} pid ${service.pid}, cold start ${ms(service.coldStartMs)} ms; request ${(template.length / 1024).toFixed(1)} KiB, 50 resources, full prefetch`);
    await openLoop(pool, 10, 3);
    const baseline = rssMiB(service.pid);
    console.log(`RSS baseline (after warm-up): ${baseline.toFixed(0)} MiB`);

    const capacity = await closedLoop(pool, 8, 5);
    console.log(`capacity probe (closed loop, 8 callers, 5 s): ${capacity.toFixed(1)} calls/s`);
    let clean = 0;
    for (const share of [0.5, 0.75, 1.0, 1.25, 1.5]) {
      const rate = Math.max(1, capacity * share);
      const f = figures(`step ${Math.round(share * 100)}% of capacity`, rate, await openLoop(pool, rate, 6));
      printPhase(f);
      if (f.ok === f.sent && f.servedP99 < 1000) clean = rate;
      else break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    if (clean === 0) clean = Math.max(1, capacity * 0.5);
    console.log(`clean rate: ${clean.toFixed(1)} calls/s`);

    const overload = figures(`3x overload ${OVERLOAD_SECONDS} s`, clean * 3, await openLoop(pool, clean * 3, OVERLOAD_SECONDS));
    printPhase(overload);
    console.log(`  served ${(overload.ok / OVERLOAD_SECONDS).toFixed(1)} calls/s during overload; RSS ${rssMiB(service.pid).toFixed(0)} MiB`);
    await new Promise((resolve) => setTimeout(resolve, 2000));

    const rss: number[] = [];
    const soak = figures(`soak ${SOAK_SECONDS} s at clean`, clean, await openLoop(pool, clean, SOAK_SECONDS, () => rss.push(rssMiB(service.pid))));
    printPhase(soak);
    console.log(`  RSS during soak (every 5 s): ${rss.map((r) => r.toFixed(0)).join(', ')} MiB`);

    await faultSuite(service, pool, bomb.base);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const after = rssMiB(service.pid);
    console.log(`RSS after the fault suite: ${after.toFixed(0)} MiB (baseline ${baseline.toFixed(0)} MiB, ${signed(after - baseline)} MiB)`);
    // V8 gives unused heap back once the process has been quiet for a while (its memory reducer starts after 8 s).
    await new Promise((resolve) => setTimeout(resolve, QUIET_SECONDS * 1000));
    const quiet = rssMiB(service.pid);
    console.log(`RSS ${QUIET_SECONDS + 3} s after the fault suite, no calls: ${quiet.toFixed(0)} MiB (${signed(quiet - baseline)} MiB)`);
    console.log(
      `DONE-WHEN under 3x: client timeouts ${overload.timeouts}; 503 within 100 ms ${overload.refusedWithin100}/${overload.refused503}; served p99 ${ms(overload.servedP99)} ms; ` +
        `RSS after faults ${signed(after - baseline)} MiB (${signed(quiet - baseline)} MiB once quiet); run took ${((performance.now() - run0) / 1000).toFixed(0)} s`,
    );
  } finally {
    await pool.close();
    await service.stop();
    await bomb.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
