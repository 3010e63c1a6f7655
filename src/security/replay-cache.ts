/**
 * Remembers the `jti` of every accepted client JWT until the token expires, so that a captured
 * token cannot be replayed. In memory: after a restart a token could be replayed once within its
 * (short) remaining lifetime, which the lifetime cap keeps small. Several instances behind a load
 * balancer do not share this cache; see docs/security.md.
 */
export class ReplayCache {
  /** key → expiry (epoch ms). Map keeps insertion order, which the eviction below relies on. */
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Records `key` until `expiresAtMs`. Returns false, recording nothing, if the key was already
   * recorded and has not expired: the caller must reject that token.
   */
  remember(key: string, expiresAtMs: number): boolean {
    const now = this.now();
    const existing = this.entries.get(key);
    if (existing !== undefined && existing > now) return false;
    if (existing !== undefined) this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.makeRoom(now);
    this.entries.set(key, expiresAtMs);
    return true;
  }

  get size(): number {
    return this.entries.size;
  }

  private makeRoom(now: number): void {
    for (const [key, expiry] of this.entries) {
      if (expiry <= now) this.entries.delete(key);
    }
    // Still full: forget the oldest tenth. That weakens replay protection for those tokens only,
    // which beats refusing every new caller once the cache fills (the rate limiter bounds how fast
    // one client can fill it); a tenth at once keeps the sweep above from running on every call.
    const target = Math.floor(this.maxEntries * 0.9);
    for (const key of this.entries.keys()) {
      if (this.entries.size <= target) break;
      this.entries.delete(key);
    }
  }
}
