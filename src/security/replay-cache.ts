/**
 * Remembers the `jti` of every accepted client JWT until the token expires, so a captured token
 * cannot be replayed, to this replica or another. The shared store (the database's jwt_replay
 * table, see src/storage/replay-store.ts) decides; an LRU cache in front answers repeats seen by
 * this process without a round trip and keeps protecting this process if the database fails
 * (then a replay to another replica could pass: logged, and the alternative, refusing every
 * call while the database is down, would stop the service).
 */
import { LRUCache } from 'lru-cache';

export interface SharedReplayStore {
  /** Records `key` until `expiresAtMs` unless it is recorded and unexpired; true if this call recorded it. */
  claim(key: string, expiresAtMs: number): Promise<boolean>;
}

export interface ReplayCacheOptions {
  /** Most keys this process remembers locally (the least recently used are forgotten first). */
  maxEntries: number;
  shared?: SharedReplayStore;
  /** Told when the shared store failed and the local cache alone decided. */
  onSharedFailure?: (error: unknown) => void;
  now?: () => number;
}

export class ReplayCache {
  /** key → expiry (epoch ms). */
  private readonly local: LRUCache<string, number>;
  private readonly now: () => number;

  constructor(private readonly options: ReplayCacheOptions) {
    this.local = new LRUCache<string, number>({ max: options.maxEntries });
    this.now = options.now ?? Date.now;
  }

  /**
   * Records `key` until `expiresAtMs`. Resolves false, recording nothing, if the key was already
   * recorded (here or by another replica) and has not expired: the caller must reject that token.
   */
  async remember(key: string, expiresAtMs: number): Promise<boolean> {
    const seen = this.local.get(key);
    if (seen !== undefined && seen > this.now()) return false;
    let claimed = true;
    if (this.options.shared) {
      try {
        claimed = await this.options.shared.claim(key, expiresAtMs);
      } catch (error) {
        this.options.onSharedFailure?.(error);
      }
    }
    this.local.set(key, expiresAtMs);
    return claimed;
  }

  /** Keys remembered locally. */
  get size(): number {
    return this.local.size;
  }
}
