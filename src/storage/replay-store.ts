/**
 * The JWT replay cache shared by every replica: insert-if-absent with expiry, in one statement,
 * so two replicas receiving the same token at the same moment cannot both accept it (the primary
 * key decides). Keys are hashed: fixed length, and no token material in the table.
 */
import { createHash } from 'node:crypto';
import type { SharedReplayStore } from '../security/replay-cache';
import type { Queryable } from './database';

export function createDatabaseReplayStore(db: Queryable): SharedReplayStore {
  return {
    async claim(key, expiresAtMs) {
      const { rowCount } = await db.query(
        `INSERT INTO jwt_replay (key, expires_at) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE jwt_replay.expires_at <= now()
         RETURNING key`,
        [createHash('sha256').update(key).digest('hex'), new Date(expiresAtMs).toISOString()],
      );
      return rowCount === 1;
    },
  };
}
