/**
 * How far V8 lets the event loop's heap grow past its live data before the next full collection.
 *
 * Under load V8 picks a growth factor of up to about 4 when collection is cheap next to allocation: with some
 * 60 MB live (the process's own data plus the requests in flight), the main heap grew to 230 MB, and V8 kept it at
 * that size after the load had passed (`npm run load`: RSS +208 MiB over the warm-up baseline after the fault
 * suite). A fixed factor of 1.5 held it near 110 MB for the same load, and V8's memory reducer gave the rest back
 * once the service went quiet. The cost is more frequent full collections, which mark concurrently.
 *
 * V8 flags are per process: the evaluation threads started after this get the same factor (their heaps are also
 * bounded by EVALUATION_THREAD_HEAP_MB).
 */
import { setFlagsFromString } from 'node:v8';

/** Sets V8's heap growth factor to 1 + percent/100; 0 leaves V8's own choice. Call before the process grows its heap. */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
