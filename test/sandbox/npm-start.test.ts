/**
 * `npm start` as a tester runs it: the entry point (src/sandbox/main.ts) in its own process, with the FHIR
 * server in its thread. What it prints must be true (the FHIR URL answers, the curl command returns a card),
 * and Ctrl-C must stop everything cleanly. Needs the ELM (npm test builds it first).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { closedPort } from '../support/ports';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
// The embedded database of these runs, kept out of the working copy's ./data.
const DATA_DIR = mkdtempSync(path.join(tmpdir(), 'npm-start-data-'));

interface Started {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
}

/** Starts main.ts and resolves once it has printed its "Try:" block (bounded). */
function startSandbox(env: NodeJS.ProcessEnv): Promise<Started> {
  const child = spawn(TSX, [path.join(ROOT, 'src', 'sandbox', 'main.ts')], { cwd: ROOT, env: { ...process.env, DATA_DIR, ...env } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`npm start printed no "Try:" within 120 s:\n${out.slice(-2000)}`));
    }, 120_000);
    const check = () => {
      if (!out.includes('Try:')) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      resolve({ child, output: () => out });
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${code}) before it was ready:\n${out.slice(-2000)}`));
    });
  });
}

function exitCode(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('npm start (src/sandbox/main.ts)', () => {
  it('prints a FHIR URL that answers and a curl command that returns a card, and stops cleanly on Ctrl-C', async () => {
    const [port, fhirPort] = [await closedPort(), await closedPort()];
    const { child, output } = await startSandbox({ PORT: String(port), SANDBOX_FHIR_PORT: String(fhirPort), LOG_LEVEL: 'info' });
    const exited = exitCode(child);
    try {
      const fhirUrl = /FHIR server: +(\S+)/.exec(output())![1];
      expect(fhirUrl).toBe(`http://localhost:${fhirPort}/fhir`);
      const patients = await fetch(`${fhirUrl}/Patient?_summary=count`).then((r) => r.json() as Promise<{ total: number }>);
      expect(patients.total).toBeGreaterThan(0);

      const curl = /curl -s -X POST (\S+) .* -d @(\S+)/.exec(output())!;
      const body = readFileSync(path.resolve(ROOT, curl[2]), 'utf8').replaceAll('http://localhost:8080/fhir', fhirUrl);
      const answer = await fetch(curl[1], { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as { cards: unknown[] }).cards.length).toBeGreaterThan(0);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(output()).toContain('shut down cleanly');
    await expect(fetch(`http://127.0.0.1:${fhirPort}/fhir/metadata`)).rejects.toThrow();
  }, 180_000);

  it('says why it cannot start when the FHIR port is taken, and exits 1', async () => {
    const [port, fhirPort] = [await closedPort(), await closedPort()];
    const first = await startSandbox({ PORT: String(port), SANDBOX_FHIR_PORT: String(fhirPort) });
    try {
      const second = spawn(TSX, [path.join(ROOT, 'src', 'sandbox', 'main.ts')], {
        cwd: ROOT,
        env: { ...process.env, DATA_DIR, PORT: String(await closedPort()), SANDBOX_FHIR_PORT: String(fhirPort) },
      });
      let err = '';
      second.stderr.on('data', (d) => (err += d));
      expect(await exitCode(second)).toBe(1);
      expect(err).toContain(`sandbox failed to start: listen EADDRINUSE: address already in use 127.0.0.1:${fhirPort}`);
    } finally {
      first.child.kill('SIGTERM');
      await exitCode(first.child);
    }
  }, 180_000);
});
