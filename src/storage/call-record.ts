/**
 * The call record: what one hook call received, read, evaluated and answered. Built after the
 * answer is sent (see call-recorder.ts) from references the route hands over, so the hook call
 * pays only for queueing it.
 *
 * What is kept (docs/call-record.md explains the choice):
 * - the request as received, with the FHIR access token and other tokens removed; its prefetch is
 *   therefore stored verbatim;
 * - of the record the engine read: a reference (`Type/id`, with `/_history/<versionId>` when the
 *   server gave one) for each resource, at most RECORD_REFERENCE_LIMIT, plus the prefetch keys
 *   fetched from the FHIR server and those cut short by paging. Fetched resources are not copied:
 *   their versioned references say what was read, and the request holds everything the EHR sent;
 * - the response, the evaluations, the coverage assertion ids and card uuids found in the response,
 *   the client's issuer, timings and the outcome.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from './database';

/** Beyond this many resources only the count is kept (about 60 bytes per reference: ~0.6 MB). */
export const RECORD_REFERENCE_LIMIT = 10_000;

/** FHIR authorization fields that are credentials (CDS Hooks 2.0 fhirAuthorization; OAuth 2.0). */
const TOKEN_FIELDS = ['access_token', 'refresh_token', 'id_token'];

/** What the route knows about a call; everything here is a reference, nothing is copied. */
export interface CallInput {
  serviceId: string;
  /** The parsed request body as received. */
  request: unknown;
  clientIssuer?: string;
  receivedAt: Date;
  durationMs: number;
  outcome: string;
  httpStatus: number;
  response?: unknown;
  /** The resources the engine read (prefetch and fetched). */
  record?: ReadonlyArray<{ resourceType?: string; id?: string; meta?: { versionId?: string } }>;
  fetchedKeys?: string[];
  truncatedKeys?: string[];
  evaluations?: unknown[];
  timings?: Record<string, number>;
}

export interface RecordRead {
  resourceCount: number;
  references: string[];
  referencesTruncated: boolean;
  fetchedKeys: string[];
  truncatedKeys: string[];
}

export interface CallRecord {
  id: string;
  hookInstance: string;
  serviceId: string;
  hook?: string;
  clientIssuer?: string;
  receivedAt: string;
  durationMs: number;
  outcome: string;
  httpStatus: number;
  request: unknown;
  response?: unknown;
  recordRead?: RecordRead;
  evaluations: unknown[];
  coverageAssertionIds: string[];
  cards: { uuid: string; evaluationIndex: number | null }[];
  timings: Record<string, number>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function buildCallRecord(input: CallInput): CallRecord {
  const request = withoutTokens(input.request);
  const body = isObject(input.request) ? input.request : {};
  const evaluations = input.evaluations ?? [];
  return {
    id: randomUUID(),
    hookInstance: typeof body.hookInstance === 'string' ? body.hookInstance : '',
    serviceId: input.serviceId,
    hook: typeof body.hook === 'string' ? body.hook : undefined,
    clientIssuer: input.clientIssuer,
    receivedAt: input.receivedAt.toISOString(),
    durationMs: input.durationMs,
    outcome: input.outcome,
    httpStatus: input.httpStatus,
    request,
    response: input.response,
    recordRead: input.record ? recordRead(input) : undefined,
    evaluations,
    coverageAssertionIds: coverageAssertionIds(input.response),
    cards: cardsOf(input.response, evaluations),
    timings: input.timings ?? {},
  };
}

/** A shallow copy of the request with the credentials in fhirAuthorization removed. */
export function withoutTokens(request: unknown): unknown {
  if (!isObject(request) || !isObject(request.fhirAuthorization)) return request;
  const auth = { ...request.fhirAuthorization };
  for (const field of TOKEN_FIELDS) delete auth[field];
  return { ...request, fhirAuthorization: auth };
}

function recordRead(input: CallInput): RecordRead {
  const record = input.record ?? [];
  const references = record.slice(0, RECORD_REFERENCE_LIMIT).map((r) => {
    const ref = `${String(r.resourceType)}/${typeof r.id === 'string' ? r.id : '(no id)'}`;
    return typeof r.meta?.versionId === 'string' ? `${ref}/_history/${r.meta.versionId}` : ref;
  });
  return {
    resourceCount: record.length,
    references,
    referencesTruncated: record.length > RECORD_REFERENCE_LIMIT,
    fetchedKeys: input.fetchedKeys ?? [],
    truncatedKeys: input.truncatedKeys ?? [],
  };
}

/**
 * Every `coverage-assertion-id` sub-extension anywhere in the response (Da Vinci CRD
 * ext-coverage-information, wherever a system action or card carries it). Found by walking the
 * JSON, so this module needs to know nothing about how the answer is built.
 */
export function coverageAssertionIds(response: unknown): string[] {
  const ids = new Set<string>();
  const walk = (value: unknown, depth: number): void => {
    if (depth > 64 || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const item of value) walk(item, depth + 1);
      return;
    }
    const node = value as Json;
    if (node.url === 'coverage-assertion-id' && typeof node.valueString === 'string') ids.add(node.valueString);
    for (const child of Object.values(node)) walk(child, depth + 1);
  };
  walk(response, 0);
  return [...ids];
}

/**
 * Each card's uuid and the evaluation it presents: the evaluation whose order reference the card
 * names, or the only evaluation of the call.
 */
function cardsOf(response: unknown, evaluations: unknown[]): CallRecord['cards'] {
  const cards = isObject(response) && Array.isArray(response.cards) ? response.cards : [];
  const orders = evaluations.map((e) => (isObject(e) && typeof e.order === 'string' ? e.order : undefined));
  return cards.flatMap((card) => {
    if (!isObject(card) || typeof card.uuid !== 'string') return [];
    const text = JSON.stringify(card);
    const named = orders.flatMap((order, i) => (order !== undefined && text.includes(`"${order}"`) ? [i] : []));
    const evaluationIndex = named.length === 1 ? named[0] : evaluations.length === 1 ? 0 : null;
    return [{ uuid: card.uuid, evaluationIndex }];
  });
}

/** Idempotent (a record replayed from the spool after a crash is written once). */
export async function insertCallRecord(q: Queryable, record: CallRecord): Promise<void> {
  const inserted = await q.query(
    `INSERT INTO hook_call (id, hook_instance, service_id, hook, client_issuer, received_at, duration_ms, outcome, http_status,
                            request, response, record_read, evaluations, timings)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14::jsonb)
     ON CONFLICT (id) DO NOTHING`,
    [
      record.id,
      record.hookInstance,
      record.serviceId,
      record.hook ?? null,
      record.clientIssuer ?? null,
      record.receivedAt,
      record.durationMs,
      record.outcome,
      record.httpStatus,
      JSON.stringify(record.request),
      record.response === undefined ? null : JSON.stringify(record.response),
      record.recordRead === undefined ? null : JSON.stringify(record.recordRead),
      JSON.stringify(record.evaluations),
      JSON.stringify(record.timings),
    ],
  );
  if (inserted.rowCount === 0) return;
  for (const id of record.coverageAssertionIds) {
    await q.query('INSERT INTO coverage_assertion (assertion_id, call_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [id, record.id]);
  }
  for (const card of record.cards) {
    await q.query('INSERT INTO hook_card (card_uuid, call_id, evaluation_index) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
      card.uuid,
      record.id,
      card.evaluationIndex,
    ]);
  }
}

interface CallRow {
  id: string;
  hook_instance: string;
  service_id: string;
  hook: string | null;
  client_issuer: string | null;
  received_at: Date | string;
  duration_ms: number;
  outcome: string;
  http_status: number;
  request: string;
  response: string | null;
  record_read: string | null;
  evaluations: unknown[];
  timings: Record<string, number>;
  coverage_assertion_ids: string[] | null;
  cards: CallRecord['cards'] | null;
}

const SELECT_CALLS = `
  SELECT c.*,
    (SELECT coalesce(array_agg(a.assertion_id ORDER BY a.assertion_id), '{}') FROM coverage_assertion a WHERE a.call_id = c.id)
      AS coverage_assertion_ids,
    (SELECT coalesce(jsonb_agg(jsonb_build_object('uuid', k.card_uuid, 'evaluationIndex', k.evaluation_index)), '[]'::jsonb)
       FROM hook_card k WHERE k.call_id = c.id) AS cards
  FROM hook_call c`;

export type CallLookup = { hookInstance: string } | { coverageAssertionId: string } | { cardUuid: string };

export async function findCalls(q: Queryable, lookup: CallLookup, limit = 100): Promise<CallRecord[]> {
  const [where, value] =
    'hookInstance' in lookup
      ? ['c.hook_instance = $1', lookup.hookInstance]
      : 'coverageAssertionId' in lookup
        ? ['c.id IN (SELECT call_id FROM coverage_assertion WHERE assertion_id = $1)', lookup.coverageAssertionId]
        : ['c.id IN (SELECT call_id FROM hook_card WHERE card_uuid = $1)', lookup.cardUuid];
  const { rows } = await q.query<CallRow>(`${SELECT_CALLS} WHERE ${where} ORDER BY c.received_at LIMIT ${limit}`, [value]);
  return rows.map(fromRow);
}

function fromRow(row: CallRow): CallRecord {
  return {
    id: row.id,
    hookInstance: row.hook_instance,
    serviceId: row.service_id,
    hook: row.hook ?? undefined,
    clientIssuer: row.client_issuer ?? undefined,
    receivedAt: new Date(row.received_at).toISOString(),
    durationMs: row.duration_ms,
    outcome: row.outcome,
    httpStatus: row.http_status,
    request: JSON.parse(row.request),
    response: row.response === null ? undefined : JSON.parse(row.response),
    recordRead: row.record_read === null ? undefined : JSON.parse(row.record_read),
    evaluations: row.evaluations,
    coverageAssertionIds: row.coverage_assertion_ids ?? [],
    cards: row.cards ?? [],
    timings: row.timings,
  };
}
