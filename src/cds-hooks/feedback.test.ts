import { createMemoryFeedbackStore, validateFeedback, type FeedbackRecord } from './feedback';

const record = (card: string, serviceId = 'svc'): FeedbackRecord => ({
  serviceId,
  receivedAt: '2026-06-15T10:00:00Z',
  feedback: { card, outcome: 'overridden', outcomeTimestamp: '2026-06-15T10:00:00Z' },
});

describe('memory feedback store', () => {
  it('lists what was added, by service', async () => {
    const store = createMemoryFeedbackStore();
    await store.add([record('a'), record('b', 'other')]);
    expect((await store.list('svc')).map((r) => r.feedback.card)).toEqual(['a']);
    expect(await store.list()).toHaveLength(2);
  });

  it('keeps only the newest records beyond its capacity', async () => {
    const store = createMemoryFeedbackStore(2);
    await store.add([record('a'), record('b')]);
    await store.add([record('c')]);
    expect((await store.list()).map((r) => r.feedback.card)).toEqual(['b', 'c']);
  });
});

describe('validateFeedback', () => {
  it('keeps only the fields of the specification', () => {
    const [item] = validateFeedback({
      feedback: [
        { card: '0f8a4c59-2b8e-4f7c-9a57-5c1c3f4d9e21', outcome: 'accepted', acceptedSuggestions: [{ id: 's1', extra: 1 }], outcomeTimestamp: '2026-06-15T10:00:00Z', extra: true },
      ],
    });
    expect(item).toEqual({
      card: '0f8a4c59-2b8e-4f7c-9a57-5c1c3f4d9e21',
      outcome: 'accepted',
      acceptedSuggestions: [{ id: 's1' }],
      outcomeTimestamp: '2026-06-15T10:00:00Z',
    });
  });

  it('rejects an impossible date', () => {
    expect(() =>
      validateFeedback({ feedback: [{ card: '0f8a4c59-2b8e-4f7c-9a57-5c1c3f4d9e21', outcome: 'overridden', outcomeTimestamp: '2026-13-45T99:00:00Z' }] }),
    ).toThrow(/outcomeTimestamp must be an ISO 8601 date-time/);
  });
});
