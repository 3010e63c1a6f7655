import { ReplayCache } from './replay-cache';

describe('ReplayCache', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('accepts a key once until it expires, then again', () => {
    const cache = new ReplayCache(10, clock);
    expect(cache.remember('a', now + 5000)).toBe(true);
    expect(cache.remember('a', now + 5000)).toBe(false);
    now += 4999;
    expect(cache.remember('a', now + 5000)).toBe(false);
    now += 1;
    expect(cache.remember('a', now + 5000)).toBe(true);
  });

  it('keeps keys apart', () => {
    const cache = new ReplayCache(10, clock);
    expect(cache.remember('a', now + 5000)).toBe(true);
    expect(cache.remember('b', now + 5000)).toBe(true);
    expect(cache.size).toBe(2);
  });

  it('drops expired entries first when full', () => {
    const cache = new ReplayCache(3, clock);
    cache.remember('short', now + 10);
    cache.remember('long-1', now + 10_000);
    cache.remember('long-2', now + 10_000);
    now += 20;
    expect(cache.remember('new', now + 10_000)).toBe(true);
    expect(cache.size).toBe(3);
    expect(cache.remember('long-1', now + 10_000)).toBe(false);
    expect(cache.remember('long-2', now + 10_000)).toBe(false);
  });

  it('never grows past its bound, forgetting the oldest live entries', () => {
    const cache = new ReplayCache(10, clock);
    for (let i = 0; i < 25; i++) cache.remember(`k${i}`, now + 60_000);
    expect(cache.size).toBeLessThanOrEqual(10);
    expect(cache.remember('k24', now + 60_000)).toBe(false);
    expect(cache.remember('k0', now + 60_000)).toBe(true);
  });
});
