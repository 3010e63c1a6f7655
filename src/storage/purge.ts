/**
 * Retention: call records (with their cards and coverage assertions), feedback and the admin
 * access log older than the retention period are deleted; expired JWT ids and rate-limit windows
 * too. Every replica runs it; deleting is idempotent, so running it twice at once is harmless.
 */
import type { Queryable } from './database';

export interface PurgeCounts {
  calls: number;
  feedback: number;
  adminAccess: number;
  jwtIds: number;
  rateLimitWindows: number;
}

export async function purgeExpired(db: Queryable, retentionDays: number, now: Date = new Date()): Promise<PurgeCounts> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000).toISOString();
  const calls = await db.query('DELETE FROM hook_call WHERE received_at < $1', [cutoff]);
  const feedback = await db.query('DELETE FROM feedback WHERE received_at < $1', [cutoff]);
  const adminAccess = await db.query('DELETE FROM admin_access WHERE at < $1', [cutoff]);
  const jwtIds = await db.query('DELETE FROM jwt_replay WHERE expires_at < $1', [now.toISOString()]);
  // An hour of slack: a window that just ended may still be read by a replica with a slow clock.
  const rateLimitWindows = await db.query('DELETE FROM rate_limit WHERE expire < $1', [now.getTime() - 3_600_000]);
  return {
    calls: calls.rowCount,
    feedback: feedback.rowCount,
    adminAccess: adminAccess.rowCount,
    jwtIds: jwtIds.rowCount,
    rateLimitWindows: rateLimitWindows.rowCount,
  };
}
