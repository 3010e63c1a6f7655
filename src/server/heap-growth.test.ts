import path from 'node:path';
import { runTsxScript } from '../../test/support/tsx-child';

/**
 * A child process keeps 30-odd MB live and allocates objects that survive a while (as requests in flight do), then
 * reports the largest heap V8 kept. Run in its own process: V8 flags cannot be unset.
 */
const CHURN = `
const v8 = require('node:v8');
require(${JSON.stringify(path.join(__dirname, 'heap-growth.ts'))}).limitHeapGrowth(Number(process.argv[1]));
const live = Array.from({ length: 300000 }, (_, i) => ({ i, s: 'x' + i, a: [i, i + 1] }));
const ring = new Array(2000).fill(null);
let peak = 0;
for (let k = 0; k < 60000; k++) {
  ring[k % ring.length] = Array.from({ length: 200 }, (_, j) => ({ j, t: 'y' + j }));
  if (k % 200 === 0) peak = Math.max(peak, v8.getHeapStatistics().total_heap_size);
}
process.stdout.write(JSON.stringify({ peakMb: peak / 1048576, live: live.length }));
`;

async function peakHeapMb(percent: number): Promise<number> {
  return (JSON.parse(await runTsxScript(CHURN, [String(percent)])) as { peakMb: number }).peakMb;
}

describe('limitHeapGrowth', () => {
  it('keeps the heap much closer to its live data than V8 does by itself under a high allocation rate', async () => {
    const own = await peakHeapMb(0);
    const limited = await peakHeapMb(50);
    expect(limited).toBeLessThan(own * 0.7);
  }, 120_000);
});
