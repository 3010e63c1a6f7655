/**
 * The service as `npm run serve` runs it (one worker per core where configured), bound to 127.0.0.1
 * for the load and benchmark scripts. SERVICE_ROOT names the checkout to run, so the same script
 * can measure another commit (e.g. main before a change) on the same machine in the same way.
 */
import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import path from 'node:path';

async function main(): Promise<void> {
  const root = process.env.SERVICE_ROOT ?? path.join(__dirname, '..', '..');
  const { startCdsService } = await import(path.join(root, 'src', 'server', 'start-cds-service.ts'));
  const start = () => startCdsService({ trustClientsByDefault: false, host: '127.0.0.1' });
  const workersModule = path.join(root, 'src', 'server', 'workers.ts');
  if (cluster.isPrimary && existsSync(workersModule)) {
    const { runPrimary, workerCount } = await import(workersModule);
    const count = workerCount(process.env);
    if (count > 1) return runPrimary(count, (message: string) => console.error(message));
  }
  await start();
}

main().catch((error: unknown) => {
  console.error(`startup failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
