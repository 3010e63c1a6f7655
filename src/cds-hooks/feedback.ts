/**
 * CDS Hooks 2.0 feedback (`POST /cds-services/{id}/feedback`): what the clinician did with each
 * card. Validated here and kept behind `FeedbackStore` so a database can replace the in-memory
 * store without touching the route.
 */
import type { Coding } from 'fhir/r4';
import { invalid } from './errors';

export interface CardFeedback {
  card: string;
  outcome: 'accepted' | 'overridden';
  acceptedSuggestions?: { id: string }[];
  overrideReason?: { reason?: Coding; userComment?: string };
  outcomeTimestamp: string;
}

export interface FeedbackRecord {
  serviceId: string;
  /** When this service received it (ISO instant). */
  receivedAt: string;
  /** The verified issuer of the client that sent it, when client trust is on. */
  clientIssuer?: string;
  feedback: CardFeedback;
}

export interface FeedbackStore {
  add(records: FeedbackRecord[]): Promise<void>;
  list(serviceId?: string): Promise<FeedbackRecord[]>;
}

/** Keeps the newest `capacity` records so a chatty EHR cannot grow memory without bound. */
export function createMemoryFeedbackStore(capacity = 10_000): FeedbackStore {
  const records: FeedbackRecord[] = [];
  return {
    async add(batch) {
      records.push(...batch);
      if (records.length > capacity) records.splice(0, records.length - capacity);
    },
    async list(serviceId) {
      return records.filter((r) => serviceId === undefined || r.serviceId === serviceId);
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** ISO 8601 date-time with seconds and a zone, as FHIR instant and CDS Hooks expect. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

function validateCoding(value: unknown, path: string): Coding {
  if (!isObject(value)) throw invalid(`${path} must be a Coding object`);
  if (!isNonEmptyString(value.code)) throw invalid(`${path}.code is required`);
  if (value.system !== undefined && !isNonEmptyString(value.system)) throw invalid(`${path}.system must be a non-empty string`);
  if (value.display !== undefined && typeof value.display !== 'string') throw invalid(`${path}.display must be a string`);
  return value as Coding;
}

function validateItem(value: unknown, path: string): CardFeedback {
  if (!isObject(value)) throw invalid(`${path} must be an object`);
  if (!isNonEmptyString(value.card)) throw invalid(`${path}.card is required`);
  if (!UUID.test(value.card)) throw invalid(`${path}.card must be the card's uuid`);
  const outcome = value.outcome;
  if (outcome !== 'accepted' && outcome !== 'overridden') throw invalid(`${path}.outcome must be "accepted" or "overridden"`);
  if (!isNonEmptyString(value.outcomeTimestamp)) throw invalid(`${path}.outcomeTimestamp is required`);
  if (!DATE_TIME.test(value.outcomeTimestamp) || Number.isNaN(Date.parse(value.outcomeTimestamp))) {
    throw invalid(`${path}.outcomeTimestamp must be an ISO 8601 date-time with a time zone`);
  }
  const item: CardFeedback = { card: value.card, outcome, outcomeTimestamp: value.outcomeTimestamp };

  if (outcome === 'accepted') {
    if (value.overrideReason !== undefined) throw invalid(`${path}.overrideReason is only allowed when outcome is "overridden"`);
    const accepted = value.acceptedSuggestions;
    if (accepted === undefined) throw invalid(`${path}.acceptedSuggestions is required when outcome is "accepted"`);
    if (!Array.isArray(accepted)) throw invalid(`${path}.acceptedSuggestions must be an array`);
    item.acceptedSuggestions = accepted.map((s, i) => {
      if (!isObject(s) || !isNonEmptyString(s.id)) throw invalid(`${path}.acceptedSuggestions[${i}].id is required`);
      return { id: s.id };
    });
  } else {
    if (value.acceptedSuggestions !== undefined) throw invalid(`${path}.acceptedSuggestions is only allowed when outcome is "accepted"`);
    if (value.overrideReason !== undefined) {
      const reason = value.overrideReason;
      if (!isObject(reason)) throw invalid(`${path}.overrideReason must be an object`);
      const overrideReason: CardFeedback['overrideReason'] = {};
      if (reason.reason !== undefined) overrideReason.reason = validateCoding(reason.reason, `${path}.overrideReason.reason`);
      if (reason.userComment !== undefined) {
        if (typeof reason.userComment !== 'string') throw invalid(`${path}.overrideReason.userComment must be a string`);
        overrideReason.userComment = reason.userComment;
      }
      if (!overrideReason.reason && overrideReason.userComment === undefined) {
        throw invalid(`${path}.overrideReason needs a reason or a userComment`);
      }
      item.overrideReason = overrideReason;
    }
  }
  return item;
}

/** Throws HttpError 400 naming the first wrong field. */
export function validateFeedback(body: unknown): CardFeedback[] {
  if (!isObject(body)) throw invalid('request body must be a JSON object (Content-Type: application/json)');
  if (body.feedback === undefined) throw invalid('feedback is required');
  if (!Array.isArray(body.feedback) || body.feedback.length === 0) throw invalid('feedback must be a non-empty array');
  return body.feedback.map((item, i) => validateItem(item, `feedback[${i}]`));
}
