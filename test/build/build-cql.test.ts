/**
 * `npm run build:cql` (scripts/build-cql.mts) run as a real process on folders of our own (--cql-dir, --out): a
 * translator error fails the build with `file:line:column message` and writes no ELM for that library; a valid
 * library gets its ELM; the generated FHIRHelpers has one ToString overload per conversion entry of the model info.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const FHIR_MODEL_INFO = path.join(ROOT, 'node_modules', 'cql-exec-fhir', 'lib', 'modelInfos', 'fhir-modelinfo-4.0.1.xml');

// Each run starts the translator cold and translates FHIRHelpers (a few seconds each, on 2 cores in parallel).
jest.setTimeout(180_000);

interface BuildRun {
  code: number;
  stdout: string;
  stderr: string;
  out: string;
}

function runBuild(cqlDir: string, out: string): Promise<BuildRun> {
  return new Promise((resolve) => {
    execFile('npx', ['tsx', 'scripts/build-cql.mts', '--cql-dir', cqlDir, '--out', out], { cwd: ROOT, timeout: 150_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr, out });
    });
  });
}

/** A folder holding the given CQL files, and an (empty) output folder next to it. */
function workspace(files: Record<string, string>): { cqlDir: string; out: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'build-cql-test-'));
  const cqlDir = path.join(dir, 'cql');
  fs.mkdirSync(cqlDir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(cqlDir, name), text);
  return { cqlDir, out: path.join(dir, 'out') };
}

// "UnknownThing" starts on line 6, column 7 (1-based, as editors count).
const BROKEN = `library BrokenLibrary version '1.0.0'

define "Fine": 1

define "Broken":
  1 + UnknownThing
`;

const VALID = `library ValidLibrary version '2.1.0'

using FHIR version '4.0.1'

include FHIRHelpers version '4.0.1' called FHIRHelpers

context Patient

define "Adult": AgeInYears() >= 18
`;

const workspaces: string[] = [];
let broken: BuildRun & { file: string };
let valid: BuildRun;

beforeAll(async () => {
  const b = workspace({ 'Broken.cql': BROKEN });
  const v = workspace({ 'Valid.cql': VALID });
  workspaces.push(path.dirname(b.cqlDir), path.dirname(v.cqlDir));
  const [brokenRun, validRun] = await Promise.all([runBuild(b.cqlDir, b.out), runBuild(v.cqlDir, v.out)]);
  broken = { ...brokenRun, file: path.join(b.cqlDir, 'Broken.cql') };
  valid = validRun;
});

afterAll(() => {
  for (const dir of workspaces) fs.rmSync(dir, { recursive: true, force: true });
});

describe('build:cql on a library with a translation error', () => {
  test('the build fails', () => {
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toContain('CQL translation failed');
  });

  test('stderr names the file, line and column, then the translator message', () => {
    const location = `${path.relative(ROOT, broken.file)}:6:7 `;
    const line = broken.stderr.split('\n').find((l) => l.startsWith(location));
    expect(line).toBeDefined();
    expect(line!.slice(location.length)).toMatch(/UnknownThing/);
  });

  test('no ELM is written for the failing library', () => {
    expect(fs.existsSync(path.join(broken.out, 'elm', 'BrokenLibrary.json'))).toBe(false);
  });
});

describe('build:cql on a valid library', () => {
  test('the build succeeds and writes the ELM with the library identifier', () => {
    expect({ code: valid.code, stderr: valid.stderr.includes('CQL translation failed') }).toEqual({ code: 0, stderr: false });
    const elm = JSON.parse(fs.readFileSync(path.join(valid.out, 'elm', 'ValidLibrary.json'), 'utf8'));
    expect(elm.library.identifier).toEqual({ id: 'ValidLibrary', version: '2.1.0' });
    expect(elm.library.statements.def.map((d: { name: string }) => d.name)).toContain('Adult');
  });

  test('FHIRHelpers is generated and translated alongside it', () => {
    const elm = JSON.parse(fs.readFileSync(path.join(valid.out, 'elm', 'FHIRHelpers.json'), 'utf8'));
    expect(elm.library.identifier).toEqual({ id: 'FHIRHelpers', version: '4.0.1' });
  });
});

describe('generated FHIRHelpers', () => {
  test('has one ToString overload per FHIRHelpers.ToString conversion entry of the FHIR 4.0.1 model info', () => {
    const xml = fs.readFileSync(FHIR_MODEL_INFO, 'utf8');
    const entryTypes = [...xml.matchAll(/<conversionInfo\b[^>]*>/g)]
      .map((m) => m[0])
      .filter((element) => /\bfunctionName="FHIRHelpers\.ToString"/.test(element))
      .map((element) => /\bfromType="FHIR\.([^"]+)"/.exec(element)![1]);
    const helpers = fs.readFileSync(path.join(valid.out, 'cql', 'FHIRHelpers.cql'), 'utf8');
    const overloadTypes = [...helpers.matchAll(/^define function ToString\(value FHIR\.(?:"([^"]+)"|([A-Za-z0-9_]+))\)/gm)].map((m) => m[1] ?? m[2]);

    expect(entryTypes.length).toBeGreaterThan(0);
    expect(new Set(overloadTypes).size).toBe(overloadTypes.length);
    expect([...overloadTypes].sort()).toEqual([...new Set(entryTypes)].sort());
  });
});
