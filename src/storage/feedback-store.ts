/**
 * CDS Hooks feedback in the database, and the summary the admin API gives of it. A feedback item
 * names a card; the card's row (written with the call record) names the call and the evaluation
 * the card presented, which gives the criteria behind each outcome.
 */
import type { FeedbackRecord, FeedbackStore } from '../cds-hooks/feedback';
import type { Queryable } from './database';

export function createDatabaseFeedbackStore(db: Queryable): FeedbackStore {
  return {
    async add(records) {
      for (const { serviceId, receivedAt, feedback, clientIssuer } of records) {
        const reason = feedback.overrideReason;
        await db.query(
          `INSERT INTO feedback (service_id, card_uuid, outcome, outcome_timestamp, received_at, override_reason_system,
                                 override_reason_code, override_reason_display, user_comment, accepted_suggestions, client_issuer)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11)`,
          [
            serviceId,
            feedback.card,
            feedback.outcome,
            feedback.outcomeTimestamp,
            receivedAt,
            reason?.reason?.system ?? null,
            reason?.reason?.code ?? null,
            reason?.reason?.display ?? null,
            reason?.userComment ?? null,
            feedback.acceptedSuggestions ? JSON.stringify(feedback.acceptedSuggestions) : null,
            clientIssuer ?? null,
          ],
        );
      }
    },
    async list(serviceId) {
      const { rows } = await db.query<FeedbackRow>(
        `SELECT * FROM feedback ${serviceId === undefined ? '' : 'WHERE service_id = $1'} ORDER BY id`,
        serviceId === undefined ? [] : [serviceId],
      );
      return rows.map(fromRow);
    },
  };
}

interface FeedbackRow {
  service_id: string;
  card_uuid: string;
  outcome: 'accepted' | 'overridden';
  outcome_timestamp: Date | string;
  received_at: Date | string;
  override_reason_system: string | null;
  override_reason_code: string | null;
  override_reason_display: string | null;
  user_comment: string | null;
  accepted_suggestions: { id: string }[] | null;
  client_issuer: string | null;
}

function fromRow(row: FeedbackRow): FeedbackRecord {
  const reason =
    row.override_reason_code !== null
      ? {
          code: row.override_reason_code,
          ...(row.override_reason_system !== null ? { system: row.override_reason_system } : {}),
          ...(row.override_reason_display !== null ? { display: row.override_reason_display } : {}),
        }
      : undefined;
  const overrideReason =
    reason || row.user_comment !== null ? { ...(reason ? { reason } : {}), ...(row.user_comment !== null ? { userComment: row.user_comment } : {}) } : undefined;
  return {
    serviceId: row.service_id,
    receivedAt: new Date(row.received_at).toISOString(),
    ...(row.client_issuer !== null ? { clientIssuer: row.client_issuer } : {}),
    feedback: {
      card: row.card_uuid,
      outcome: row.outcome,
      outcomeTimestamp: new Date(row.outcome_timestamp).toISOString(),
      ...(row.accepted_suggestions ? { acceptedSuggestions: row.accepted_suggestions } : {}),
      ...(overrideReason ? { overrideReason } : {}),
    },
  };
}

export interface FeedbackSummary {
  since: string;
  until: string;
  total: number;
  byOutcome: { outcome: string; count: number }[];
  /**
   * For each criterion of the evaluations the cards presented, and its status there, how often
   * the card was accepted or overridden. Feedback on a card with no stored call is counted in
   * `unlinked` only.
   */
  byCriterion: { criterion: string; status: string; outcome: string; count: number }[];
  byOverrideReason: { system: string | null; code: string | null; display: string | null; count: number }[];
  unlinked: number;
}

/** Counts over the feedback received in [since, until). */
export async function summariseFeedback(db: Queryable, since: Date, until: Date): Promise<FeedbackSummary> {
  const range = [since.toISOString(), until.toISOString()];
  const inRange = 'f.received_at >= $1 AND f.received_at < $2';
  const byOutcome = await db.query<{ outcome: string; count: number }>(
    `SELECT f.outcome, count(*)::int AS count FROM feedback f WHERE ${inRange} GROUP BY f.outcome ORDER BY f.outcome`,
    range,
  );
  const byCriterion = await db.query<{ criterion: string; status: string; outcome: string; count: number }>(
    `SELECT crit->>'id' AS criterion, crit->>'status' AS status, f.outcome, count(*)::int AS count
       FROM feedback f
       JOIN hook_card k ON k.card_uuid = f.card_uuid
       JOIN hook_call c ON c.id = k.call_id
       CROSS JOIN LATERAL jsonb_array_elements(
         CASE WHEN jsonb_typeof(c.evaluations -> k.evaluation_index -> 'criteria') = 'array'
              THEN c.evaluations -> k.evaluation_index -> 'criteria' ELSE '[]'::jsonb END) AS crit
      WHERE ${inRange}
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    range,
  );
  const byReason = await db.query<{ system: string | null; code: string | null; display: string | null; count: number }>(
    `SELECT f.override_reason_system AS system, f.override_reason_code AS code, max(f.override_reason_display) AS display,
            count(*)::int AS count
       FROM feedback f WHERE ${inRange} AND f.outcome = 'overridden'
      GROUP BY 1, 2 ORDER BY count DESC, 2`,
    range,
  );
  const unlinked = await db.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM feedback f WHERE ${inRange}
        AND NOT EXISTS (SELECT 1 FROM hook_card k WHERE k.card_uuid = f.card_uuid)`,
    range,
  );
  return {
    since: range[0],
    until: range[1],
    total: byOutcome.rows.reduce((n, r) => n + r.count, 0),
    byOutcome: byOutcome.rows,
    byCriterion: byCriterion.rows,
    byOverrideReason: byReason.rows,
    unlinked: unlinked.rows[0].count,
  };
}
