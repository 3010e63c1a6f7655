/**
 * JSON Schema of a feedback request: CDS Hooks 2.0 "Feedback" (https://cds-hooks.hl7.org/2.0/#feedback).
 * Each item says what the clinician did with one card: `accepted` (with the suggestions taken) or `overridden`
 * (with an optional reason); the two outcomes' fields do not mix. `messages` are the words a refusal says after
 * the field's name (./request-schema.ts).
 */
import type { SchemaObject } from 'ajv';
import { nonEmptyString } from './request-schema';

/** The override reason the clinician picked: one of the card's `overrideReasons`, a FHIR Coding. */
const coding = {
  type: 'object',
  required: ['code'],
  properties: { code: nonEmptyString, system: nonEmptyString, display: { type: 'string' } },
  messages: { type: 'must be a Coding object' },
};

const notAllowedWith = (outcome: string) => ({ not: {}, messages: { not: `is only allowed when outcome is "${outcome}"` } });

const item = {
  type: 'object',
  required: ['card', 'outcome', 'outcomeTimestamp'],
  properties: {
    // A feedback item names its card by the card's `uuid` (CDS Hooks 2.0 Card attributes).
    card: { type: 'string', format: 'uuid', messages: { type: 'must be a non-empty string', format: "must be the card's uuid" } },
    outcome: { enum: ['accepted', 'overridden'], messages: { enum: 'must be "accepted" or "overridden"', required: 'must be "accepted" or "overridden"' } },
    outcomeTimestamp: { type: 'string', format: 'instant', messages: { type: 'must be a non-empty string', format: 'must be an ISO 8601 date-time with a time zone' } },
    acceptedSuggestions: {
      type: 'array',
      items: { type: 'object', required: ['id'], properties: { id: nonEmptyString }, messages: { type: 'must be an object with an id' } },
    },
    overrideReason: {
      type: 'object',
      properties: { reason: coding, userComment: { type: 'string' } },
      anyOf: [{ required: ['reason'] }, { required: ['userComment'] }],
      messages: { anyOf: 'needs a reason or a userComment' },
    },
  },
  if: { required: ['outcome'], properties: { outcome: { const: 'accepted' } } },
  then: {
    required: ['acceptedSuggestions'],
    properties: {
      acceptedSuggestions: { messages: { required: 'is required when outcome is "accepted"' } },
      overrideReason: notAllowedWith('overridden'),
    },
  },
  else: {
    if: { required: ['outcome'], properties: { outcome: { const: 'overridden' } } },
    then: { properties: { acceptedSuggestions: notAllowedWith('accepted') } },
  },
};

export const feedbackSchema: SchemaObject = {
  type: 'object',
  required: ['feedback'],
  properties: {
    feedback: { type: 'array', minItems: 1, items: item, messages: { type: 'must be a non-empty array', minItems: 'must be a non-empty array' } },
  },
  messages: {
    type: 'must be a JSON object (Content-Type: application/json)',
    required: 'must be a JSON object (Content-Type: application/json)',
  },
};
