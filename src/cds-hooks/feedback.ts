/**
 * CDS Hooks 2.0 feedback (`POST /cds-services/{id}/feedback`): what the clinician did with each
 * card. Checked against ./feedback-schema.ts and kept behind `FeedbackStore` so a database can replace the in-memory
 * store without touching the route.
 */
import type { Coding } from 'fhir/r4';
import { feedbackSchema } from './feedback-schema';
import { compileRequestSchema } from './request-schema';

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

const validateBody = compileRequestSchema<{ feedback: CardFeedback[] }>(feedbackSchema);

/** Throws HttpError 400 naming the first wrong field. */
export function validateFeedback(body: unknown): CardFeedback[] {
  return validateBody(body).feedback.map(({ card, outcome, acceptedSuggestions, overrideReason, outcomeTimestamp }) => ({
    card,
    outcome,
    ...(acceptedSuggestions && { acceptedSuggestions: acceptedSuggestions.map(({ id }) => ({ id })) }),
    ...(overrideReason && {
      overrideReason: {
        ...(overrideReason.reason && { reason: overrideReason.reason }),
        ...(overrideReason.userComment !== undefined && { userComment: overrideReason.userComment }),
      },
    }),
    outcomeTimestamp,
  }));
}
