/**
 * How long `npm run seed` takes to load 600 Synthea patients into the embedded FHIR server, and how long
 * `Observation?patient=X&code=<LOINC>` then takes with the patient index and without it (every search a scan
 * of all stored Observations), in the same run, over HTTP, with the server in its own thread as under
 * `npm start`.
 *
 *   npm run bench:fhir-search -- [--dir <folder of Synthea bundles>] [--patients 600] [--searches 200]
 *                                [--baseline-searches 10] [--heap <MB>]
 *
 * Without --dir it uses fixtures/synthea-bench (six real Synthea patients, see its README) and replicates them
 * with fresh ids up to --patients; with --dir it loads the folder's bundles (*.json or *.json.gz) and replicates
 * only if the folder has fewer. A script that prints figures, not a test.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Bundle, Observation } from 'fhir/r4';
import { seedFhirServer } from '../src/sandbox/fhir-server/seed';
import { startFhirServerThread } from '../src/sandbox/fhir-server/thread';

const LOINC = 'http://loinc.org';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const WARMUP = 10;

interface Args {
  dir: string;
  patients: number;
  searches: number;
  baselineSearches: number;
  heapMb: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    dir: path.join(__dirname, '..', 'fixtures', 'synthea-bench'),
    patients: 600,
    searches: 200,
    baselineSearches: 10,
    heapMb: 8192,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--dir') args.dir = path.resolve(value);
    else if (flag === '--patients') args.patients = whole(flag, value);
    else if (flag === '--searches') args.searches = whole(flag, value);
    else if (flag === '--baseline-searches') args.baselineSearches = whole(flag, value);
    else if (flag === '--heap') args.heapMb = whole(flag, value);
    else throw new Error(`unknown argument ${flag}`);
  }
  return args;
}

function whole(flag: string, value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new Error(`${flag} must be a positive whole number, got ${value}`);
  return Number(value);
}

/** One patient as the benchmark searches it: its id and the LOINC codes of its Observations. */
interface PatientFile {
  file: string;
  patientId: string;
  codes: string[];
}

/**
 * Writes the bundles to `out`: those without a Patient (Synthea's hospital and practitioner files) once, then
 * `count` patient bundles: the sources as they are, then copies whose every UUID (ids, fullUrls, references,
 * identifiers) is replaced by one derived from it and the copy number, so copies are new patients of the same
 * shape.
 */
function prepareFiles(sources: string[], count: number, out: string): { files: string[]; patients: PatientFile[]; realPatients: number } {
  const files: string[] = [];
  const patients: PatientFile[] = [];
  const patientSources: string[] = [];
  const addPatient = (text: string, bundle: Bundle) => {
    const file = write(out, `patient-${String(patients.length).padStart(4, '0')}.json`, text);
    files.push(file);
    patients.push({ file, patientId: patientOf(bundle)!, codes: observationCodes(bundle) });
  };
  // Files are read one at a time: 600 real Synthea patients are 700 MB of JSON.
  for (const [i, source] of sources.entries()) {
    const text = readText(source);
    const bundle = JSON.parse(text) as Bundle;
    if (!patientOf(bundle)) files.push(write(out, `shared-${i}.json`, text));
    else if (patients.length < count) {
      patientSources.push(source);
      addPatient(text, bundle);
    }
  }
  if (patientSources.length === 0) throw new Error('no bundle holds a Patient');
  for (let i = patients.length; i < count; i++) {
    const copy = Math.floor(i / patientSources.length);
    const text = readText(patientSources[i % patientSources.length]).replace(UUID, (uuid) => derivedUuid(uuid, copy));
    addPatient(text, JSON.parse(text) as Bundle);
  }
  return { files, patients, realPatients: patientSources.length };
}

function readText(file: string): string {
  return (file.endsWith('.gz') ? gunzipSync(readFileSync(file)) : readFileSync(file)).toString('utf8');
}

function observationCodes(bundle: Bundle): string[] {
  const codes = new Set<string>();
  for (const e of bundle.entry ?? []) {
    if (e.resource?.resourceType !== 'Observation') continue;
    const code = (e.resource as Observation).code.coding?.find((c) => c.system === LOINC)?.code;
    if (code) codes.add(code);
  }
  return [...codes];
}

function patientOf(bundle: Bundle): string | undefined {
  return bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource?.id;
}

function write(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

function derivedUuid(uuid: string, copy: number): string {
  const hex = createHash('sha1').update(`${uuid}/${copy}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function bundleFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json') || n.endsWith('.json.gz'))
    .sort()
    .map((n) => path.join(dir, n));
}

/** Search URLs spread over the patients: each a patient and one of its Observation codes. */
function queries(baseUrl: string, patients: PatientFile[], n: number): string[] {
  const withCodes = patients.filter((p) => p.codes.length > 0);
  return Array.from({ length: n }, (_, i) => {
    const p = withCodes[(i * 7919) % withCodes.length];
    const code = p.codes[i % p.codes.length];
    return `${baseUrl}/Observation?patient=${p.patientId}&code=${encodeURIComponent(`${LOINC}|${code}`)}`;
  });
}

interface Timed {
  ms: number[];
  answers: string[];
}

async function timeSearches(urls: string[]): Promise<Timed> {
  const timed: Timed = { ms: [], answers: [] };
  for (const url of urls) {
    const started = performance.now();
    const response = await fetch(url);
    const bundle = (await response.json()) as Bundle;
    timed.ms.push(performance.now() - started);
    if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
    timed.answers.push(`${bundle.total}:${(bundle.entry ?? []).map((e) => e.resource?.id).join(',')}`);
  }
  return timed;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const fmt = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms < 1000 ? ms.toFixed(1) : ms.toFixed(0));

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const sources = bundleFiles(args.dir);
  if (sources.length === 0) throw new Error(`no *.json or *.json.gz bundles in ${args.dir}`);
  const scratch = mkdtempSync(path.join(tmpdir(), 'bench-fhir-search-'));
  try {
    const { files, patients, realPatients } = prepareFiles(sources, args.patients, scratch);
    const replicated = patients.length > realPatients ? `, replicated with fresh ids from ${realPatients} real patients` : ' (all distinct)';
    const shared = files.length - patients.length;
    const where = args.dir.startsWith(process.cwd() + path.sep) ? path.relative(process.cwd(), args.dir) : args.dir;
    console.log(
      `data: ${patients.length} Synthea patients from ${where}${replicated}` +
        (shared ? `, plus ${shared} bundles of shared resources` : ''),
    );

    const fhir = await startFhirServerThread({ maxHeapMb: args.heapMb });
    try {
      let loaded = 0;
      const seedStarted = performance.now();
      const seeded = await seedFhirServer(fhir.baseUrl, files, {
        timeoutMs: 300_000,
        onFileLoaded: () => {
          if (++loaded % 100 === 0) console.log(`  ${loaded}/${files.length} bundles loaded`);
        },
      });
      const seedSeconds = (performance.now() - seedStarted) / 1000;
      const resources = seeded.reduce((n, r) => n + r.resources, 0);
      const observations = await fetch(`${fhir.baseUrl}/Observation?_summary=count`).then((r) => r.json() as Promise<Bundle>);
      console.log(
        `seed (npm run seed's loader, over HTTP): ${resources} resources (${observations.total} Observations) ` +
          `from ${seeded.length} transaction bundles, ` +
          `${seedSeconds.toFixed(1)} s (${Math.round(resources / seedSeconds)} resources/s)`,
      );

      const urls = queries(fhir.baseUrl, patients, args.searches);
      await timeSearches(urls.slice(0, WARMUP));
      const indexed = await timeSearches(urls);
      await fhir.setIndexedSearch(false);
      const baselineUrls = urls.slice(0, Math.min(args.baselineSearches, urls.length));
      const scanned = await timeSearches(baselineUrls);
      await fhir.setIndexedSearch(true);

      const same = scanned.answers.every((answer, i) => answer === indexed.answers[i]);
      const found = indexed.answers.filter((a) => !a.startsWith('0:')).length;
      console.log(`\nObservation?patient=X&code=${LOINC}|Y over HTTP, sequential (${found}/${urls.length} searches found something)`);
      console.log('                      searches   median ms     p95 ms     max ms');
      for (const [name, t] of [
        ['indexed (patient)', indexed],
        ['unindexed (scan)', scanned],
      ] as const) {
        const row = [t.ms.length, fmt(percentile(t.ms, 50)), fmt(percentile(t.ms, 95)), fmt(Math.max(...t.ms))];
        console.log(`${name.padEnd(20)} ${row.map((v, i) => String(v).padStart(i === 0 ? 10 : 11)).join('')}`);
      }
      console.log(`speed-up of the median: ${(percentile(scanned.ms, 50) / percentile(indexed.ms, 50)).toFixed(0)}x`);
      console.log(`same answers indexed and unindexed for the ${scanned.ms.length} baseline searches: ${same ? 'yes' : 'NO'}`);
      if (!same) process.exitCode = 1;
    } finally {
      await fhir.close();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench:fhir-search failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
