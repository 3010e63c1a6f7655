/**
 * `npm run bench:hooks`: hook calls through HTTP, the service beside an Express floor (the same body
 * parsed, a fixed card answered: scripts/support/express-floor.ts), both as their own processes on
 * loopback, in one run. Prints median, p95 and p99 and the ratio to the floor for 50 and 5,000
 * resources, sequential and at concurrency 8, the second call of an order-select/order-sign pair
 * (evaluation cache), cold start and RSS; at concurrency 8 also the service's CPU time per call, which other load on a
 * shared machine disturbs less than it does throughput.
 *
 *   npm run bench:hooks -- [--workers N] [--calls 200] [--root /path/to/other/checkout]
 *
 * Every call's record differs (uniqueBody), so the evaluation cache answers none of them except
 * in the line that measures it. More than one worker needs DATABASE_URL (src/server/workers.ts).
 * A script that prints figures, not a test.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Pool } from 'undici';
import { childPids, cpuMs, freePort, hookBody, largerRecord, ms, percentile, rssMiB, startService, uniqueBody, type RunningService } from './support/hook-load';

const SIGN = '/cds-services/intrathecal-pump-order-sign';
const SELECT = '/cds-services/intrathecal-pump-order-select';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const CALLS = Math.min(2000, Number(arg('calls') ?? 200));
const WORKERS = arg('workers') ?? process.env.WORKERS ?? '1';
const ROOT = arg('root');

interface Target {
  name: string;
  pool: Pool;
}

let n = 0;
/** Answers other than 200 (503 from admission control or the deadline, transport errors), by target. */
const refused: Record<string, Record<string, number>> = {};

/** ms of a call answered 200, or NaN (counted in `refused`) for any other outcome. */
async function post(target: Target, body: string, route = SIGN): Promise<number> {
  const started = performance.now();
  let outcome: string;
  try {
    const res = await target.pool.request({ path: route, method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await res.body.dump({ limit: 1 << 24 });
    if (res.statusCode === 200) return performance.now() - started;
    outcome = String(res.statusCode);
  } catch (error) {
    outcome = (error as { code?: string }).code ?? 'error';
  }
  const counts = (refused[target.name] ??= {});
  counts[outcome] = (counts[outcome] ?? 0) + 1;
  return NaN;
}

/** The refusals since the last call, as text, and reset. */
function takeRefused(): string {
  const text = Object.entries(refused)
    .map(([name, counts]) => `${name} ${Object.entries(counts).map(([k, v]) => `${v}x ${k}`).join(', ')}`)
    .join('; ');
  for (const key of Object.keys(refused)) delete refused[key];
  return text ? `   not 200: ${text}` : '';
}

async function sequential(target: Target, template: string, calls: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) times.push(await post(target, uniqueBody(template, n++)));
  return times;
}

async function concurrent(target: Target, template: string, calls: number, concurrency: number): Promise<{ times: number[]; perSecond: number }> {
  const times: number[] = [];
  let left = calls;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) times.push(await post(target, uniqueBody(template, n++)));
    }),
  );
  // Throughput counts answers of 200 only.
  return { times, perSecond: times.filter((t) => !Number.isNaN(t)).length / ((performance.now() - started) / 1000) };
}

function stats(times: number[]) {
  const sorted = times.filter((t) => !Number.isNaN(t)).sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) };
}

function row(label: string, service: number[], floor: number[], extra = ''): void {
  const s = stats(service);
  const f = stats(floor);
  console.log(
    `${label.padEnd(34)} service p50/p95/p99 ${ms(s.p50)}/${ms(s.p95)}/${ms(s.p99)} ms   floor ${ms(f.p50)}/${ms(f.p95)}/${ms(f.p99)} ms   ratio p50 ${(s.p50 / f.p50).toFixed(1)}x${extra}${takeRefused()}`,
  );
}

async function startFloor(): Promise<RunningService> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'support', 'express-floor.ts')], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${baseUrl}/health`)).ok) break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    baseUrl,
    pid: child.pid as number,
    coldStartMs: performance.now() - started,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function main(): Promise<void> {
  const service = await startService(
    { CDS_RATE_LIMIT_PER_MINUTE: '0', ADDRESS_RATE_LIMIT_PER_MINUTE: '0', MAX_BODY_BYTES: String(16 * 1024 * 1024), WORKERS },
    ROOT,
  );
  const floor = await startFloor();
  const targets = {
    service: { name: 'service', pool: new Pool(service.baseUrl, { connections: 16 }) },
    floor: { name: 'floor', pool: new Pool(floor.baseUrl, { connections: 16 }) },
  };
  try {
    const workers = childPids(service.pid).length || 1;
    console.log(`service ${ROOT ?? '(this checkout)'}: ${workers} worker(s), cold start ${ms(service.coldStartMs)} ms (spawn to first /health); floor cold start ${ms(floor.coldStartMs)} ms`);
    for (const size of [50, 5000]) {
      const template = JSON.stringify(hookBody(largerRecord(size)));
      const calls = size > 1000 ? Math.max(20, Math.round(CALLS / 4)) : CALLS;
      // Warm-up: JIT and connection pools of both.
      await sequential(targets.service, template, 10);
      await sequential(targets.floor, template, 10);
      takeRefused();
      console.log(`-- ${size} resources, request ${(template.length / 1024).toFixed(0)} KiB, ${calls} calls per line`);
      row('sequential', await sequential(targets.service, template, calls), await sequential(targets.floor, template, calls));
      const cpuBefore = cpuMs(service.pid);
      const sc = await concurrent(targets.service, template, calls * 2, 8);
      const serviceCpu = (cpuMs(service.pid) - cpuBefore) / (calls * 2);
      const fc = await concurrent(targets.floor, template, calls * 2, 8);
      row('concurrency 8', sc.times, fc.times, `   throughput ${sc.perSecond.toFixed(1)} vs ${fc.perSecond.toFixed(1)} calls/s; service CPU ${ms(serviceCpu)} ms/call`);
    }
    // order-select then order-sign with the same record: the second is answered from the evaluation cache.
    const pair = hookBody(largerRecord(50));
    const selectBody = JSON.stringify({
      ...pair,
      hook: 'order-select',
      context: { ...(pair.context as object), selections: [`ServiceRequest/${(pair.context as { draftOrders: { entry: { resource: { id: string } }[] } }).draftOrders.entry[0].resource.id}`] },
    });
    const seconds: number[] = [];
    const firsts: number[] = [];
    for (let i = 0; i < Math.min(CALLS, 100); i++) {
      const unique = uniqueBody(selectBody, n);
      firsts.push(await post(targets.service, unique, SELECT));
      seconds.push(await post(targets.service, uniqueBody(JSON.stringify(pair), n++)));
    }
    const f = stats(firsts);
    const s = stats(seconds);
    console.log(`order-select then order-sign, same record (50): select p50 ${ms(f.p50)} ms, sign p50/p99 ${ms(s.p50)}/${ms(s.p99)} ms${takeRefused()}`);
    const workerRss = childPids(service.pid).map((pid) => rssMiB(pid));
    console.log(
      `RSS: service ${rssMiB(service.pid).toFixed(0)} MiB in all${workerRss.length ? ` (workers ${workerRss.map((r) => r.toFixed(0)).join(', ')} MiB)` : ''}; floor ${rssMiB(floor.pid).toFixed(0)} MiB`,
    );
  } finally {
    await targets.service.pool.close();
    await targets.floor.pool.close();
    await service.stop();
    await floor.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
