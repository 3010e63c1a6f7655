/**
 * Admission control of hook calls. A call's time budget (config.hookDeadlineMs) starts when its
 * request reaches the service (markArrival, the app's first middleware), not when its handler runs:
 * time spent waiting behind other calls is the caller's time too. Evaluation is CPU work on a
 * fixed number of threads, so running more calls at once only makes every one of them slower; the
 * gate lets `maxInFlight` calls run, queues a few more, and refuses the rest at once with 503 and
 * Retry-After, before their body is read or their token verified, while the answer still helps
 * the EHR (it can go on without guidance, or retry).
 *
 * Whether a waiting call can still be served is estimated from the recent service time of calls
 * (a moving average): a call is queued only if, with the calls ahead of it, it can start within
 * `maxQueueMs` and finish within its budget; every other call is refused on arrival, which is
 * what keeps refusals fast. A queued call waits until it can no longer finish within its budget
 * (the estimate was badly wrong, e.g. a burst of large records), and is refused then, still before
 * the budget is gone.
 */
import type { Request, RequestHandler, Response } from 'express';

const ARRIVED_AT = 'arrivedAtMs';
/** Weight of the newest service time in the moving average. */
const SMOOTHING = 0.2;
/** Service time assumed before any call has finished. */
const INITIAL_SERVICE_MS = 50;

export interface AdmissionOptions {
  maxInFlight: number;
  maxQueueMs: number;
  /** The whole call's budget (config.hookDeadlineMs). */
  budgetMs: number;
  now?: () => number;
}

/** First middleware of the app: notes when the request arrived (its headers were parsed). */
export function markArrival(now: () => number = performance.now.bind(performance)): RequestHandler {
  return (_req, res, next) => {
    res.locals[ARRIVED_AT] = now();
    next();
  };
}

/** Milliseconds since the request arrived (0 when markArrival did not run). */
export function elapsedSinceArrival(res: Response, now: () => number = performance.now.bind(performance)): number {
  const arrived = res.locals[ARRIVED_AT] as number | undefined;
  return arrived === undefined ? 0 : Math.max(0, now() - arrived);
}

interface Waiter {
  arrivedAt: number;
  start: () => void;
  refuse: () => void;
  timer: NodeJS.Timeout;
}

export interface AdmissionStats {
  inFlight: number;
  queued: number;
  serviceMs: number;
}

export class AdmissionGate {
  private inFlight = 0;
  private readonly queue: Waiter[] = [];
  private serviceMs = INITIAL_SERVICE_MS;
  private readonly now: () => number;

  constructor(private readonly options: AdmissionOptions) {
    if (!(options.maxInFlight >= 1)) throw new Error('admission needs maxInFlight >= 1');
    this.now = options.now ?? performance.now.bind(performance);
  }

  stats(): AdmissionStats {
    return { inFlight: this.inFlight, queued: this.queue.length, serviceMs: Math.round(this.serviceMs) };
  }

  /**
   * Runs `start` now or once a slot frees, or `refuse` (at once when the call cannot be served in
   * time, or later when its estimated start passed). `start` receives the function that frees the
   * slot, which must be called exactly once when the call has been answered.
   */
  enter(arrivedAt: number, start: (release: () => void) => void, refuse: (retryAfterMs: number) => void): void {
    const { maxInFlight, maxQueueMs, budgetMs } = this.options;
    const now = this.now();
    const waited = now - arrivedAt;
    if (this.inFlight < maxInFlight && this.queue.length === 0) {
      this.begin(start);
      return;
    }
    // Calls ahead of this one (running and queued) drain maxInFlight at a time.
    const expectedWait = Math.ceil((this.queue.length + 1) / maxInFlight) * this.serviceMs;
    if (expectedWait > maxQueueMs || waited + expectedWait + this.serviceMs > budgetMs) {
      refuse(this.retryAfterMs());
      return;
    }
    // Latest moment the call may start and still finish within its budget. Not the queue limit: a
    // call admitted to the queue is served if at all possible, so refusals stay the fast ones above.
    const latestStart = arrivedAt + budgetMs - this.serviceMs;
    const waiter: Waiter = {
      arrivedAt,
      start: () => this.begin(start),
      refuse: () => refuse(this.retryAfterMs()),
      timer: setTimeout(() => {
        const index = this.queue.indexOf(waiter);
        if (index >= 0) {
          this.queue.splice(index, 1);
          waiter.refuse();
        }
      }, Math.max(0, latestStart - now)),
    };
    waiter.timer.unref();
    this.queue.push(waiter);
  }

  /** How long until the queue ahead has drained: the time after which a retry may find a slot. */
  private retryAfterMs(): number {
    return Math.ceil(((this.queue.length + this.inFlight) / this.options.maxInFlight) * this.serviceMs);
  }

  private begin(start: (release: () => void) => void): void {
    this.inFlight++;
    const began = this.now();
    let released = false;
    start(() => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.serviceMs = this.serviceMs * (1 - SMOOTHING) + (this.now() - began) * SMOOTHING;
      this.next();
    });
  }

  private next(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const waiter = this.queue.shift() as Waiter;
      clearTimeout(waiter.timer);
      waiter.start();
    }
  }
}

/** 503 with Retry-After (whole seconds, as HTTP requires; at least 1) and the estimate in ms in the body. */
export function respondOverloaded(res: Response, retryAfterMs: number): void {
  if (res.headersSent) return;
  res
    .status(503)
    .set('Retry-After', String(Math.max(1, Math.ceil(retryAfterMs / 1000))))
    .json({
      error: 'overloaded',
      retryAfterMs,
      message: 'The service is at capacity and could not evaluate this call in time; no coverage guidance was produced. Retry, or continue without it.',
    });
}

/**
 * Express middleware holding a hook call (POST to a service, not its feedback) at the gate; other
 * requests pass. The slot is freed when the response is finished or the client went away.
 */
export function createAdmission(gate: AdmissionGate, isHookCall: (req: Request) => boolean): RequestHandler {
  return (req, res, next) => {
    if (!isHookCall(req)) return next();
    const arrived = res.locals[ARRIVED_AT] as number | undefined;
    gate.enter(
      arrived ?? performance.now(),
      (release) => {
        res.once('close', release);
        if (res.destroyed || req.destroyed) return release();
        next();
      },
      (retryAfterMs) => respondOverloaded(res, retryAfterMs),
    );
  };
}
