/**
 * What the call record costs a hook call: the same order-sign call, sequentially over HTTP, to
 * the same policy engine in one process, through apps that differ only in storage:
 *   none          no call record (the baseline)
 *   pglite        call record in the embedded database (DATA_DIR in a temporary folder)
 *   postgres      call record in PostgreSQL, when BENCH_DATABASE_URL or TEST_DATABASE_URL is set
 * plus, for information, PostgreSQL with the shared rate limit on (one more round trip per call).
 * Modes take turns in rounds so that machine noise falls on all of them alike. Prints median,
 * p95, the median's difference to the baseline, and this process's CPU time per call (client,
 * service and, for PGlite, the database: the figure least disturbed by a busy machine), for a
 * small and a large record.
 *
 *   npm run bench:call-record [-- calls-per-mode [extra-resources,...]]
 *
 * A script that prints figures, not a test.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Bundle } from 'fhir/r4';
import { createApp, type CdsApp } from '../src/app';
import { silentLogger } from '../src/cds-hooks/logger';
import { loadConfig } from '../src/config';
import { loadPolicyEngine } from '../src/engine/engine';
import type { PolicyEngine } from '../src/engine/types';
import { loadSecurityConfig } from '../src/security/config';
import { loadStorageConfig } from '../src/storage/config';
import { openStorage, type Storage } from '../src/storage/storage';
import { prefetch } from './support/hook-load';

const CALLS = Number(process.argv[2] ?? 300);
const ROUNDS = 6;
const WARMUP = 20;
const FIXTURES = path.join(__dirname, '..', 'fixtures');
const PATIENT_ID = 'itp-cnmp-implant-met';
const POSTGRES_URL = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL;

/** The fixture patient plus `extra` old pain scores (outside every window the policy looks at). */
function requestBody(extra: number): string {
  const bundle: Bundle = JSON.parse(readFileSync(path.join(FIXTURES, 'patients', `${PATIENT_ID}.json`), 'utf8'));
  const record = (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
  for (let i = 0; i < extra; i++) {
    record.push({
      resourceType: 'Observation',
      id: `bench-nrs-${i}`,
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '72514-3', display: 'Pain severity - 0-10 verbal numeric rating [Score] - Reported' }] },
      subject: { reference: `Patient/${PATIENT_ID}` },
      effectiveDateTime: `${2010 + (i % 10)}-${String((i % 12) + 1).padStart(2, '0')}-05`,
      valueInteger: 6 + (i % 3),
    });
  }
  const body = JSON.parse(readFileSync(path.join(FIXTURES, 'requests', 'cnmp-implant-met.json'), 'utf8'));
  delete body.fhirServer;
  body.prefetch = prefetch(record);
  return JSON.stringify(body);
}

interface Mode {
  name: string;
  app: CdsApp;
  url: string;
  storage?: Storage;
  close(): Promise<void>;
  samples: number[];
  /** Process CPU time (user + system) spent in this mode's calls and record writes, µs. */
  cpuMicros: number;
}

async function mode(name: string, engine: PolicyEngine, storage: Storage | undefined, rateLimited: boolean): Promise<Mode> {
  const security = loadSecurityConfig(
    { CDS_RATE_LIMIT_PER_MINUTE: rateLimited ? '10000000' : '0', CDS_RATE_LIMIT_BURST: '1000000' },
    { trustClients: false, sandboxFhirPort: 8080 },
  );
  // The address limit would refuse a sequential benchmark from one address, and a cache hit would skip the
  // evaluation being measured beside the record's cost: both off.
  const config = loadConfig({ ADDRESS_RATE_LIMIT_PER_MINUTE: '0', EVAL_CACHE_MAX_ENTRIES: '0' });
  const app = createApp({ engine, config, logger: silentLogger, security, storage });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    name,
    app,
    storage,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cds-services/intrathecal-pump-order-sign`,
    samples: [],
    cpuMicros: 0,
    async close() {
      server.close();
      await app.closeResources();
    },
  };
}

async function call(url: string, payload: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: payload });
  const json = (await res.json()) as { cards?: unknown[] };
  const ms = performance.now() - started;
  if (res.status !== 200 || !Array.isArray(json.cards) || json.cards.length === 0) throw new Error(`unexpected answer: HTTP ${res.status}`);
  return ms;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function main(): Promise<void> {
  const engine = await loadPolicyEngine();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-call-record-'));
  const stores: Storage[] = [];
  const open = async (env: NodeJS.ProcessEnv) => {
    const storage = await openStorage(loadStorageConfig(env), silentLogger);
    stores.push(storage);
    return storage;
  };
  const pglite = await open({ DATA_DIR: path.join(dataDir, 'pglite') });
  const postgres = POSTGRES_URL ? await open({ DATABASE_URL: POSTGRES_URL, DATA_DIR: path.join(dataDir, 'pg') }) : undefined;

  const modes = [
    await mode('none (baseline)', engine, undefined, false),
    await mode('pglite call record', engine, pglite, false),
    ...(postgres ? [await mode('postgres call record', engine, postgres, false)] : []),
    ...(postgres ? [await mode('postgres + shared rate limit', engine, postgres, true)] : []),
  ];
  console.log(`call record cost, ${CALLS} sequential order-sign calls per mode in ${ROUNDS} interleaved rounds${postgres ? '' : ' (no PostgreSQL: set BENCH_DATABASE_URL)'}`);

  for (const extra of (process.argv[3] ?? '30,2000').split(',').map(Number)) {
    const payload = requestBody(extra);
    for (const m of modes) {
      m.samples = [];
      m.cpuMicros = 0;
      for (let i = 0; i < WARMUP; i++) await call(m.url, payload);
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const m of modes) {
        const cpu = process.cpuUsage();
        for (let i = 0; i < Math.ceil(CALLS / ROUNDS); i++) m.samples.push(await call(m.url, payload));
        await m.storage?.recorder.flush();
        const used = process.cpuUsage(cpu);
        m.cpuMicros += used.user + used.system;
      }
    }
    const baseline = percentile([...modes[0].samples].sort((a, b) => a - b), 50);
    console.log(`\nrequest body ${(payload.length / 1024).toFixed(0)} KiB (${extra} extra resources)`);
    for (const m of modes) {
      const sorted = [...m.samples].sort((a, b) => a - b);
      const median = percentile(sorted, 50);
      const delta = m === modes[0] ? '' : `  (median ${median - baseline >= 0 ? '+' : ''}${(median - baseline).toFixed(2)} ms vs baseline)`;
      const cpuPerCall = m.cpuMicros / 1000 / sorted.length;
      console.log(
        `  ${m.name.padEnd(30)} median ${median.toFixed(2)} ms, p95 ${percentile(sorted, 95).toFixed(2)} ms, CPU ${cpuPerCall.toFixed(2)} ms/call, n=${sorted.length}${delta}`,
      );
    }
  }
  for (const s of stores) console.log(`  ${s.db.engine}: ${JSON.stringify(s.recorder.stats())}`);

  for (const m of modes) await m.close();
  for (const s of stores) await s.close();
  await rm(dataDir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
