/**
 * Runs a script in a fresh Node process with tsx loaded (so it may require this project's TypeScript), for tests of
 * what only a whole process shows: V8 flags, what keeps a process alive. Resolves with what it printed.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export async function runTsxScript(code: string, args: string[] = [], timeoutMs = 60_000): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', code, ...args], { timeout: timeoutMs });
  return stdout;
}
