import { ReplayCache, type SharedReplayStore } from './replay-cache';

/** A shared store in memory, standing in for the database table (tested against both engines in test/storage). */
function memoryStore(now: () => number): SharedReplayStore & { claims: number } {
  const keys = new Map<string, number>();
  return {
    claims: 0,
    async claim(key, expiresAtMs) {
      this.claims++;
      const existing = keys.get(key);
      if (existing !== undefined && existing > now()) return false;
      keys.set(key, expiresAtMs);
      return true;
    },
  };
}

describe('ReplayCache', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('accepts a key once until it expires, then again', async () => {
    const cache = new ReplayCache({ maxEntries: 10, now: clock });
    expect(await cache.remember('a', now + 5000)).toBe(true);
    expect(await cache.remember('a', now + 5000)).toBe(false);
    now += 4999;
    expect(await cache.remember('a', now + 5000)).toBe(false);
    now += 1;
    expect(await cache.remember('a', now + 5000)).toBe(true);
  });

  it('keeps keys apart and never grows past its bound', async () => {
    const cache = new ReplayCache({ maxEntries: 10, now: clock });
    for (let i = 0; i < 25; i++) expect(await cache.remember(`k${i}`, now + 60_000)).toBe(true);
    expect(cache.size).toBe(10);
    expect(await cache.remember('k24', now + 60_000)).toBe(false);
  });

  it('refuses a key another replica recorded in the shared store', async () => {
    const shared = memoryStore(clock);
    const replicaA = new ReplayCache({ maxEntries: 10, shared, now: clock });
    const replicaB = new ReplayCache({ maxEntries: 10, shared, now: clock });
    expect(await replicaA.remember('jti-1', now + 5000)).toBe(true);
    expect(await replicaB.remember('jti-1', now + 5000)).toBe(false);
  });

  it('answers a repeat it saw itself without asking the shared store', async () => {
    const shared = memoryStore(clock);
    const cache = new ReplayCache({ maxEntries: 10, shared, now: clock });
    await cache.remember('jti-1', now + 5000);
    expect(await cache.remember('jti-1', now + 5000)).toBe(false);
    expect(shared.claims).toBe(1);
  });

  it('keeps protecting this process when the shared store fails, and says so', async () => {
    const failures: unknown[] = [];
    const broken: SharedReplayStore = {
      claim: async () => {
        throw new Error('connection refused');
      },
    };
    const cache = new ReplayCache({ maxEntries: 10, shared: broken, now: clock, onSharedFailure: (e) => failures.push(e) });
    expect(await cache.remember('jti-1', now + 5000)).toBe(true);
    expect(await cache.remember('jti-1', now + 5000)).toBe(false);
    expect(failures).toHaveLength(1);
  });
});
