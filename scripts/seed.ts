/**
 * `npm run seed -- --fhir-url <base> [--dir fixtures/patients] [--wait <seconds>] [--timeout <ms>] [--chunk <n>]`
 * Loads every *.json transaction Bundle of the folder (fixture patients, Synthea output of any size) into the
 * FHIR server, repeatably (PUT with fixed ids). --wait first polls <base>/metadata for up to that many seconds
 * (docker-compose starts it next to HAPI). --chunk sends bundles of more than n entries as several
 * transactions in dependency order, for servers that limit transaction size.
 * Exit code 0 when every file loaded, 1 with one clear line otherwise, 2 for bad arguments.
 */
import path from 'node:path';
import { SeedError, listBundleFiles, seedFhirServer, waitForFhirServer } from '../src/sandbox/fhir-server/seed';

const USAGE = 'usage: npm run seed -- --fhir-url <FHIR base URL> [--dir <folder>] [--wait <seconds>] [--timeout <ms>] [--chunk <entries>]';

interface Args {
  fhirUrl: string;
  dir: string;
  waitSeconds: number;
  timeoutMs?: number;
  chunk?: number;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Args {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    if (!['--fhir-url', '--dir', '--wait', '--timeout', '--chunk'].includes(flag)) throw new UsageError(`unknown argument ${argv[i]}`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') throw new UsageError(`${flag} needs a value`);
    values.set(flag, value);
  }
  const fhirUrl = values.get('--fhir-url');
  if (!fhirUrl) throw new UsageError('--fhir-url is required');
  return {
    fhirUrl,
    dir: path.resolve(values.get('--dir') ?? path.join(__dirname, '..', 'fixtures', 'patients')),
    waitSeconds: number(values, '--wait') ?? 0,
    timeoutMs: number(values, '--timeout'),
    chunk: positive(values, '--chunk'),
  };
}

function number(values: Map<string, string>, flag: string): number | undefined {
  const raw = values.get(flag);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`${flag} must be a whole number, got ${raw}`);
  return Number(raw);
}

function positive(values: Map<string, string>, flag: string): number | undefined {
  const n = number(values, flag);
  if (n === 0) throw new UsageError(`${flag} must be at least 1`);
  return n;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const files = listBundleFiles(args.dir);
  if (args.waitSeconds > 0) {
    console.log(`waiting up to ${args.waitSeconds} s for ${args.fhirUrl}/metadata`);
    await waitForFhirServer(args.fhirUrl, { timeoutMs: args.waitSeconds * 1000 });
  }
  const started = performance.now();
  const results = await seedFhirServer(args.fhirUrl, files, {
    timeoutMs: args.timeoutMs,
    maxEntriesPerRequest: args.chunk,
    onFileLoaded: (r) => {
      const split = r.requests > 1 ? ` (${r.requests} transactions)` : '';
      console.log(`loaded ${path.relative(process.cwd(), r.file)}: ${r.resources} resources in ${r.ms} ms${split}`);
    },
  });
  const total = results.reduce((n, r) => n + r.resources, 0);
  console.log(`seeded ${args.fhirUrl}: ${results.length} files, ${total} resources in ${Math.round(performance.now() - started)} ms`);
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    console.error(`seed: ${err.message}\n${USAGE}`);
    process.exitCode = 2;
  } else if (err instanceof SeedError) {
    console.error(`seed failed: ${err.message}`);
    process.exitCode = 1;
  } else {
    console.error(`seed failed unexpectedly: ${(err as Error).message}`);
    process.exitCode = 1;
  }
});
