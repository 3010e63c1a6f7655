/**
 * The feedback schema through its entry point, validateFeedback: what it accepts (and keeps), and the field each
 * refusal names. test/cds-hooks/feedback.test.ts holds refusals over HTTP.
 */
import { invalidRequestMessage } from '../../test/support/operation-outcome';
import { validateFeedback } from './feedback';

const CARD = '0f8a4c59-2b8e-4f7c-9a57-5c1c3f4d9e21';
const AT = '2026-06-15T10:22:31Z';
const accepted = { card: CARD, outcome: 'accepted', acceptedSuggestions: [{ id: 's-1' }], outcomeTimestamp: AT };
const overridden = { card: CARD, outcome: 'overridden', outcomeTimestamp: AT };

const refusal = (body: unknown): string => invalidRequestMessage(() => validateFeedback(body));

describe('feedback the schema accepts', () => {
  it('an accepted card with no suggestion taken, an override without a reason, upper-case uuids, offsets and fractions of seconds', () => {
    const items = [
      { ...overridden, outcomeTimestamp: '2028-02-29T23:59:59-05:00' },
      { ...accepted, acceptedSuggestions: [] },
      { ...overridden, card: CARD.toUpperCase(), outcomeTimestamp: '2026-06-15T10:23:00.120+02:00' },
    ];
    expect(validateFeedback({ feedback: items })).toEqual(items);
  });

  it('an override with a reason Coding and a comment, keeping the Coding whole and dropping unknown fields', () => {
    const reason = { system: 'http://example.org/override', code: 'documented-elsewhere', display: 'Documented elsewhere', userSelected: true };
    const [item] = validateFeedback({ feedback: [{ ...overridden, overrideReason: { reason, userComment: '', note: 'x' }, extra: 1 }] });
    expect(item).toEqual({ ...overridden, overrideReason: { reason, userComment: '' } });
  });
});

describe('feedback the schema refuses, each naming its field', () => {
  it.each<[string, unknown, string]>([
    ['an array body', [accepted], 'request body must be a JSON object (Content-Type: application/json)'],
    ['feedback null', { feedback: null }, 'feedback is required'],
    ['feedback an object', { feedback: accepted }, 'feedback must be a non-empty array'],
    ['an item that is a string', { feedback: [CARD] }, 'feedback[0] must be an object'],
    ['card a number', { feedback: [{ ...accepted, card: 1 }] }, 'feedback[0].card must be a non-empty string'],
    ['outcome missing', { feedback: [{ ...overridden, outcome: undefined }] }, 'feedback[0].outcome must be "accepted" or "overridden"'],
    ['an unknown outcome with suggestions', { feedback: [{ ...accepted, outcome: 'dismissed' }] }, 'feedback[0].outcome must be "accepted" or "overridden"'],
    ['acceptedSuggestions not an array', { feedback: [{ ...accepted, acceptedSuggestions: { id: 's-1' } }] }, 'feedback[0].acceptedSuggestions must be an array'],
    ['a suggestion that is a string', { feedback: [{ ...accepted, acceptedSuggestions: ['s-1'] }] }, 'feedback[0].acceptedSuggestions[0] must be an object with an id'],
    ['a suggestion id blank', { feedback: [{ ...accepted, acceptedSuggestions: [{ id: ' ' }] }] }, 'feedback[0].acceptedSuggestions[0].id must be a non-empty string'],
    ['overrideReason a string', { feedback: [{ ...overridden, overrideReason: 'documented-elsewhere' }] }, 'feedback[0].overrideReason must be an object'],
    ['overrideReason with neither reason nor comment', { feedback: [{ ...overridden, overrideReason: { note: 'x' } }] }, 'feedback[0].overrideReason needs a reason or a userComment'],
    ['reason without code', { feedback: [{ ...overridden, overrideReason: { reason: { system: 'http://example.org' } } }] }, 'feedback[0].overrideReason.reason.code is required'],
    ['reason system empty', { feedback: [{ ...overridden, overrideReason: { reason: { code: 'c', system: '' } } }] }, 'feedback[0].overrideReason.reason.system must be a non-empty string'],
    ['userComment a number', { feedback: [{ ...overridden, overrideReason: { userComment: 3 } }] }, 'feedback[0].overrideReason.userComment must be a string'],
    ['outcomeTimestamp a date only', { feedback: [{ ...overridden, outcomeTimestamp: '2026-06-15' }] }, 'feedback[0].outcomeTimestamp must be an ISO 8601 date-time with a time zone'],
    ['card a uuid without dashes', { feedback: [{ ...accepted, card: CARD.replaceAll('-', '') }] }, "feedback[0].card must be the card's uuid"],
    ['outcomeTimestamp without seconds', { feedback: [{ ...overridden, outcomeTimestamp: '2026-06-15T10:22Z' }] }, 'feedback[0].outcomeTimestamp must be an ISO 8601 date-time with a time zone'],
    ['outcomeTimestamp at hour 25', { feedback: [{ ...overridden, outcomeTimestamp: '2026-06-15T25:00:00Z' }] }, 'feedback[0].outcomeTimestamp must be an ISO 8601 date-time with a time zone'],
    ['outcomeTimestamp on the 30th of February', { feedback: [{ ...overridden, outcomeTimestamp: '2026-02-30T10:00:00Z' }] }, 'feedback[0].outcomeTimestamp must be an ISO 8601 date-time with a time zone'],
    ['a bad third item', { feedback: [accepted, overridden, { ...overridden, acceptedSuggestions: [] }] }, 'feedback[2].acceptedSuggestions is only allowed when outcome is "accepted"'],
  ])('%s', (_name, body, message) => {
    expect(refusal(body)).toBe(message);
  });
});
