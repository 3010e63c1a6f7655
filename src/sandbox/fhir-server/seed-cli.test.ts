import { execFile } from 'node:child_process';
import path from 'node:path';
import { startFhirServer, type RunningFhirServer } from './server';
import { closedPort } from '../../../test/support/ports';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs scripts/seed.ts asynchronously, so the in-process server stays free to answer it. */
function seed(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(TSX, [path.join(ROOT, 'scripts', 'seed.ts'), ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}


let server: RunningFhirServer;
beforeAll(async () => {
  server = await startFhirServer();
});
afterAll(() => server.close());

describe('npm run seed', () => {
  it('prints one line per file and exits 0', async () => {
    const run = await seed('--fhir-url', server.baseUrl, '--dir', 'src/sandbox/fhir-server/test-data');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^loaded src\/sandbox\/fhir-server\/test-data\/seed-patient-a\.json: 3 resources in \d+ ms$/);
    expect(lines[1]).toMatch(/^loaded src\/sandbox\/fhir-server\/test-data\/seed-patient-b\.json: 2 resources in \d+ ms$/);
    expect(lines[2]).toMatch(new RegExp(`^seeded ${server.baseUrl}: 2 files, 5 resources in \\d+ ms$`));
    expect(run.stdout).not.toContain('Synthetic');
  });

  it('exits 1 with one clear line when the server cannot be reached', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/fhir`;
    const run = await seed(`--fhir-url=${url}`, '--dir', 'src/sandbox/fhir-server/test-data', '--timeout', '3000');
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(new RegExp(`^seed failed: Could not reach the FHIR server at ${url} \\(ECONNREFUSED`));
  });

  it('splits bundles with --chunk and says how many transactions a file took', async () => {
    const run = await seed('--fhir-url', server.baseUrl, '--dir', 'src/sandbox/fhir-server/test-data', '--chunk', '2');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/seed-patient-a\.json: 3 resources in \d+ ms \(2 transactions\)/);
    expect(run.stdout).toMatch(/seed-patient-b\.json: 2 resources in \d+ ms\n/);
  });

  it('exits 2 when --chunk is not a positive number', async () => {
    const run = await seed('--fhir-url', server.baseUrl, '--chunk', '0');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--chunk must be at least 1');
  });

  it('exits 2 with the usage when --fhir-url is missing', async () => {
    const run = await seed('--dir', 'src/sandbox/fhir-server/test-data');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--fhir-url is required');
    expect(run.stderr).toContain('usage: npm run seed --');
  });
});
