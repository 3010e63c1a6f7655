/** POST /cds-services/{id}/feedback: stored when well formed, 400 naming the field otherwise. */
import { outcome } from '../support/operation-outcome';
import request from 'supertest';
import { createMemoryFeedbackStore } from '../../src/cds-hooks/feedback';
import { makeApp, RecordingEngine } from './helpers';

const FEEDBACK = '/cds-services/intrathecal-pump-order-sign/feedback';
const CARD = '0f8a4c59-2b8e-4f7c-9a57-5c1c3f4d9e21';

const store = createMemoryFeedbackStore();
const app = makeApp(new RecordingEngine(), { feedbackStore: store });
afterAll(() => app.closeResources());

const accepted = { card: CARD, outcome: 'accepted', acceptedSuggestions: [{ id: 'a1b2c3d4-0000-4000-8000-000000000001' }], outcomeTimestamp: '2026-06-15T10:22:31Z' };
const overridden = {
  card: CARD,
  outcome: 'overridden',
  overrideReason: {
    reason: { system: 'http://intrathecal-cds.example.org/fhir/CodeSystem/override-reason', code: 'documented-elsewhere' },
    userComment: 'evaluation on paper chart',
  },
  outcomeTimestamp: '2026-06-15T10:23:00.120+02:00',
};

describe('accepted feedback', () => {
  it('stores accepted and overridden outcomes and answers 200', async () => {
    const res = await request(app).post(FEEDBACK).send({ feedback: [accepted, overridden] }).expect(200);
    expect(res.body).toEqual({});
    const stored = await store.list('intrathecal-pump-order-sign');
    expect(stored.map((r) => r.feedback)).toEqual([accepted, overridden]);
    expect(stored.every((r) => !Number.isNaN(Date.parse(r.receivedAt)))).toBe(true);
  });

  it('accepts an override with only a comment', async () => {
    const commentOnly = { ...overridden, overrideReason: { userComment: 'not relevant' } };
    await request(app).post(FEEDBACK).send({ feedback: [commentOnly] }).expect(200);
  });

  it('answers 404 for an unknown service', async () => {
    await request(app).post('/cds-services/unknown/feedback').send({ feedback: [accepted] }).expect(404);
  });
});

const rejected: [string, unknown, RegExp][] = [
  ['no feedback array', {}, /^feedback is required$/],
  ['empty feedback array', { feedback: [] }, /^feedback must be a non-empty array$/],
  ['card missing', { feedback: [{ ...accepted, card: undefined }] }, /^feedback\[0\]\.card is required$/],
  ['card not a uuid', { feedback: [{ ...accepted, card: 'card-1' }] }, /^feedback\[0\]\.card must be the card's uuid$/],
  ['unknown outcome', { feedback: [{ ...accepted, outcome: 'ignored' }] }, /^feedback\[0\]\.outcome must be "accepted" or "overridden"$/],
  ['accepted without acceptedSuggestions', { feedback: [{ ...accepted, acceptedSuggestions: undefined }] }, /^feedback\[0\]\.acceptedSuggestions is required/],
  ['acceptedSuggestions item without id', { feedback: [{ ...accepted, acceptedSuggestions: [{}] }] }, /^feedback\[0\]\.acceptedSuggestions\[0\]\.id is required$/],
  ['overrideReason on an accepted card', { feedback: [{ ...accepted, overrideReason: overridden.overrideReason }] }, /^feedback\[0\]\.overrideReason is only allowed when outcome is "overridden"$/],
  ['acceptedSuggestions on an overridden card', { feedback: [{ ...overridden, acceptedSuggestions: [] }] }, /^feedback\[0\]\.acceptedSuggestions is only allowed when outcome is "accepted"$/],
  ['overrideReason.reason not a Coding', { feedback: [{ ...overridden, overrideReason: { reason: 'documented-elsewhere' } }] }, /^feedback\[0\]\.overrideReason\.reason must be a Coding object$/],
  ['outcomeTimestamp missing', { feedback: [{ ...accepted, outcomeTimestamp: undefined }] }, /^feedback\[0\]\.outcomeTimestamp is required$/],
  ['outcomeTimestamp without a zone', { feedback: [{ ...accepted, outcomeTimestamp: '2026-06-15 10:22' }] }, /^feedback\[0\]\.outcomeTimestamp must be an ISO 8601 date-time/],
  ['second item bad', { feedback: [accepted, { ...overridden, outcome: 'maybe' }] }, /^feedback\[1\]\.outcome/],
];

describe.each(rejected)('rejected feedback: %s', (_name, body, message) => {
  it('is a 400 naming the field, and nothing is stored', async () => {
    const before = (await store.list()).length;
    const res = await request(app).post(FEEDBACK).send(body as object).expect(400);
    expect(res.body).toEqual(outcome('invalid-request', expect.stringMatching(message)));
    expect((await store.list()).length).toBe(before);
  });
});
