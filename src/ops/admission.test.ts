import { AdmissionGate } from './admission';

/** A gate on a hand-driven clock; records what became of each call. */
function gate(options: { maxInFlight: number; maxQueueMs: number; budgetMs: number }) {
  let clock = 0;
  const g = new AdmissionGate({ ...options, now: () => clock });
  const started: string[] = [];
  const refused: { id: string; retryAfterMs: number; at: number }[] = [];
  const releases = new Map<string, () => void>();
  return {
    g,
    started,
    refused,
    advance: (ms: number) => (clock += ms),
    arrive(id: string, arrivedAt = clock) {
      g.enter(
        arrivedAt,
        (release) => {
          started.push(id);
          releases.set(id, release);
        },
        (retryAfterMs) => refused.push({ id, retryAfterMs, at: clock }),
      );
    },
    finish(id: string) {
      releases.get(id)?.();
    },
  };
}

it('starts calls up to the in-flight limit at once', () => {
  const t = gate({ maxInFlight: 2, maxQueueMs: 1000, budgetMs: 4500 });
  t.arrive('a');
  t.arrive('b');
  expect(t.started).toEqual(['a', 'b']);
  expect(t.g.stats()).toMatchObject({ inFlight: 2, queued: 0 });
});

it('queues a call that can start soon enough and starts it when a slot frees', () => {
  const t = gate({ maxInFlight: 1, maxQueueMs: 1000, budgetMs: 4500 });
  t.arrive('a');
  t.arrive('b');
  expect(t.started).toEqual(['a']);
  t.advance(40);
  t.finish('a');
  expect(t.started).toEqual(['a', 'b']);
  expect(t.refused).toEqual([]);
});

it('refuses on arrival, before any waiting, when the queue ahead would take longer than allowed', () => {
  const t = gate({ maxInFlight: 1, maxQueueMs: 200, budgetMs: 4500 });
  // Teach the gate that a call takes 100 ms.
  for (let i = 0; i < 20; i++) {
    t.arrive(`warm${i}`);
    t.advance(100);
    t.finish(`warm${i}`);
  }
  t.arrive('a');
  t.arrive('b'); // waits ~100 ms
  t.arrive('c'); // would wait ~200 ms
  t.arrive('d'); // would wait ~300 ms: over the queue limit
  expect(t.started.slice(-1)).toEqual(['a']);
  expect(t.refused.map((r) => r.id)).toEqual(['d']);
  expect(t.refused[0].at).toBe(t.refused[0].at); // refused at the clock of arrival
  expect(t.refused[0].retryAfterMs).toBeGreaterThanOrEqual(200);
});

it('refuses a call whose budget is already spent by the time it reaches the gate', () => {
  const t = gate({ maxInFlight: 1, maxQueueMs: 2000, budgetMs: 4500 });
  t.arrive('a');
  t.advance(4480);
  t.arrive('late', 0);
  expect(t.refused.map((r) => r.id)).toEqual(['late']);
});

it('keeps a queued call waiting past the queue limit while it can still finish in its budget, then refuses it', async () => {
  jest.useFakeTimers();
  try {
    const t = gate({ maxInFlight: 1, maxQueueMs: 300, budgetMs: 4500 });
    t.arrive('a');
    t.arrive('b');
    jest.advanceTimersByTime(1000);
    expect(t.refused).toEqual([]);
    // Latest start: budget minus the expected service time (50 ms before any call finished).
    jest.advanceTimersByTime(4500 - 50 - 1000);
    expect(t.refused.map((r) => r.id)).toEqual(['b']);
    t.finish('a');
    expect(t.started).toEqual(['a']);
    expect(t.g.stats()).toMatchObject({ inFlight: 0, queued: 0 });
  } finally {
    jest.useRealTimers();
  }
});

it('frees a slot once however often release is called', () => {
  const t = gate({ maxInFlight: 1, maxQueueMs: 1000, budgetMs: 4500 });
  t.arrive('a');
  t.arrive('b');
  t.arrive('c');
  t.finish('a');
  t.finish('a');
  expect(t.started).toEqual(['a', 'b']);
  expect(t.g.stats().inFlight).toBe(1);
});
