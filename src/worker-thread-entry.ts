/**
 * How a worker thread is started from this code base. Under tsx or ts-jest the sources are TypeScript, which a new
 * thread loads through tsx's CommonJS hook (tsx is then installed: it is how TypeScript runs at all); built, the
 * entry is the compiled `.js` file beside the caller.
 */
import path from 'node:path';

/** `new Worker(entry.code, { eval: entry.eval })` starts `entryName` from the caller's folder. */
export function workerThreadEntry(callerFile: string, entryName: string): { code: string; eval: boolean } {
  const extension = path.extname(callerFile);
  const file = path.join(path.dirname(callerFile), `${entryName}${extension}`);
  return extension === '.ts' ? { code: `require('tsx/cjs'); require(${JSON.stringify(file)});`, eval: true } : { code: file, eval: false };
}
