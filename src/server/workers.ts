/**
 * One worker process per core for `npm run serve` (Node cluster: the workers share the listening
 * port and the kernel spreads connections over them). Each worker evaluates in its own threads
 * (src/engine/evaluation-threads.ts, EVALUATION_THREADS: by default the cores shared out among the
 * workers), so one worker already uses every core; more workers add event loops for the transport
 * (parsing, fetching, the call record) when the database is PostgreSQL.
 *
 * Workers share nothing in memory: whatever must hold across workers (replay cache, rate limits,
 * the call record) belongs in the database. PGlite, the embedded default, lets only one process own
 * its data folder, so more than one worker needs DATABASE_URL (PostgreSQL): without it the default
 * is one worker, and an explicit WORKERS above 1 is refused at startup.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { envInt } from '../env-values';

export function workerCount(env: NodeJS.ProcessEnv, cores: number = availableParallelism()): number {
  const shared = Boolean(env.DATABASE_URL);
  const explicit = env.WORKERS === undefined || env.WORKERS === '' ? undefined : envInt(env, 'WORKERS', 1);
  if (explicit === 0) throw new Error('WORKERS must be at least 1');
  if (explicit !== undefined && explicit > 1 && !shared) {
    throw new Error(
      `WORKERS=${explicit} needs DATABASE_URL: without it the data lives in PGlite, which one process only may open; set DATABASE_URL (PostgreSQL) or WORKERS=1`,
    );
  }
  return explicit ?? (shared ? cores : 1);
}

/** Restarts of crashed workers allowed per minute before the primary gives up (a crash loop). */
const MAX_RESTARTS_PER_MINUTE = 10;

/**
 * Runs in the primary: forks `count` workers, replaces one that dies unexpectedly, and on
 * SIGTERM/SIGINT passes the signal on and exits once every worker has finished its calls.
 */
export function runPrimary(count: number, log: (message: string) => void): void {
  let stopping = false;
  const restarts: number[] = [];
  const fork = (): Worker => cluster.fork();
  for (let i = 0; i < count; i++) fork();

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    const now = Date.now();
    while (restarts.length > 0 && restarts[0] < now - 60_000) restarts.shift();
    if (restarts.length >= MAX_RESTARTS_PER_MINUTE) {
      log(`worker ${worker.process.pid} exited (${signal ?? code}); ${MAX_RESTARTS_PER_MINUTE} restarts in a minute, stopping`);
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      process.exitCode = 1;
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(1);
      return;
    }
    restarts.push(now);
    log(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    fork();
  });

  for (const name of ['SIGTERM', 'SIGINT'] as const) {
    process.on(name, () => {
      if (stopping) return;
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(name);
    });
  }
}
