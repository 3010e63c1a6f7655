/**
 * criteria.md section 3: trial-completed and cnmp-trial-pain-reduction-50 (implant orders), including how the trial
 * is chosen and which pain scores are "before" and "during" it: `partOf` the trial, inside its performedPeriod, or
 * within 7 days after a performedDateTime; the baseline is the latest score in the 90 days before the trial started.
 */
import type { Resource } from 'fhir/r4';
import { loadPolicyEngine } from '../../src/engine/engine';
import type { PolicyEngine } from '../../src/engine/types';
import { CODE, condition, cpt, icd, observation, painScore, ref, rx, trialProcedure } from './support/builders';
import { criterion, evaluateImplant, evaluateTrial } from './support/evaluate';

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await loadPolicyEngine();
});

const CNMP = condition(icd('M96.1'));

async function cnmpImplant(resources: Resource[]) {
  const evaluation = await evaluateImplant(engine, [CNMP, ...resources]);
  expect(evaluation.pathway).toBe('chronic-non-malignant-pain');
  return { trial: criterion(evaluation, 'trial-completed'), reduction: criterion(evaluation, 'cnmp-trial-pain-reduction-50') };
}

// A trial at a point in time: 2026-05-01 10:00 UTC. The 7 days after it end 2026-05-08 10:00 UTC; the 90 days before it
// start 2026-01-31 10:00 UTC.
const pointTrial = () => trialProcedure({ performedDateTime: '2026-05-01T10:00:00Z' });
// A trial over a period: 2026-05-01 09:00 to 2026-05-04 09:00 UTC.
const periodTrial = () => trialProcedure({ performedPeriod: ['2026-05-01T09:00:00Z', '2026-05-04T09:00:00Z'] });

describe('trial-completed', () => {
  test('a completed 62322 before the order: met, evidence the Procedure', async () => {
    const trial = pointTrial();
    expect((await cnmpImplant([trial])).trial).toMatchObject({ status: 'met', evidence: [ref(trial)] });
  });

  test.each(['62320', '62323', '62327'])('a completed %s counts as a trial', async (code) => {
    expect((await cnmpImplant([trialProcedure({ code: cpt(code), performedDateTime: '2026-04-01' })])).trial.status).toBe('met');
  });

  test('none on record: not-documented, and so is the pain reduction', async () => {
    const { trial, reduction } = await cnmpImplant([painScore(8, '2026-04-20T10:00:00Z'), painScore(2, '2026-05-02T10:00:00Z')]);
    expect(trial.status).toBe('not-documented');
    expect('evidence' in trial).toBe(false);
    expect(reduction.status).toBe('not-documented');
  });

  test.each(['in-progress', 'not-done', 'stopped', 'entered-in-error', 'preparation'] as const)('a trial with status %s does not count', async (status) => {
    expect((await cnmpImplant([trialProcedure({ status, performedDateTime: '2026-05-01T10:00:00Z' })])).trial.status).toBe('not-documented');
  });

  test('a trial after the order date does not count', async () => {
    expect((await cnmpImplant([trialProcedure({ performedDateTime: '2026-06-20T10:00:00Z' })])).trial.status).toBe('not-documented');
  });

  test('a 6232x whose usedCode names a corticosteroid (RxNorm) was a steroid injection', async () => {
    const steroid = trialProcedure({ performedDateTime: '2026-05-01T10:00:00Z', usedCode: [{ coding: [CODE.methylprednisolone] }] });
    expect((await cnmpImplant([steroid])).trial.status).toBe('not-documented');
  });

  test('a corticosteroid named only in usedCode text, or in the procedure text, makes it a steroid injection', async () => {
    const byUsedText = trialProcedure({ performedDateTime: '2026-05-01T10:00:00Z', usedCode: [{ text: 'Dexamethasone 10 mg' }] });
    expect((await cnmpImplant([byUsedText])).trial.status).toBe('not-documented');
    const byText = trialProcedure({ performedDateTime: '2026-05-01T10:00:00Z', text: 'Lumbar epidural injection of triamcinolone' });
    expect((await cnmpImplant([byText])).trial.status).toBe('not-documented');
  });

  test('a trial agent in usedCode does not stop it being a trial', async () => {
    const trial = trialProcedure({ performedDateTime: '2026-05-01T10:00:00Z', usedCode: [{ coding: [CODE.morphine] }] });
    expect((await cnmpImplant([trial])).trial.status).toBe('met');
  });

  test('a more recent steroid injection does not hide an earlier trial', async () => {
    const trial = trialProcedure({ performedDateTime: '2026-03-01T10:00:00Z' });
    const steroid = trialProcedure({ performedDateTime: '2026-05-01T10:00:00Z', usedCode: [{ coding: [rx('10759', 'triamcinolone')] }] });
    expect((await cnmpImplant([trial, steroid])).trial).toMatchObject({ status: 'met', evidence: [ref(trial)] });
  });

  test('with several trials the most recent is "the trial" for every criterion', async () => {
    // The older trial worked (8 -> 2); the most recent did not (8 -> 6).
    const older = trialProcedure({ performedDateTime: '2026-02-01T10:00:00Z' });
    const recent = pointTrial();
    const resources = [
      older,
      recent,
      painScore(8, '2026-01-20T10:00:00Z'),
      painScore(2, '2026-02-02T10:00:00Z'),
      painScore(8, '2026-04-20T10:00:00Z'),
      painScore(6, '2026-05-02T10:00:00Z'),
    ];
    const { trial, reduction } = await cnmpImplant(resources);
    expect(trial).toMatchObject({ status: 'met', evidence: [ref(recent)] });
    expect(reduction.status).toBe('not-met');
  });

  test('not evaluated on a trial order', async () => {
    const evaluation = await evaluateTrial(engine, [CNMP, pointTrial()]);
    expect(evaluation.criteria.map((c) => c.id)).not.toContain('trial-completed');
  });
});

describe('cnmp-trial-pain-reduction-50', () => {
  test('a score linked by partOf counts as during the trial, wherever its time (8 -> 3: met)', async () => {
    const trial = pointTrial();
    const baseline = painScore(8, '2026-04-20T10:00:00Z');
    const during = painScore(3, '2026-05-20T10:00:00Z', { partOf: [trial] });
    const { reduction } = await cnmpImplant([trial, baseline, during]);
    expect(reduction.status).toBe('met');
    expect([...(reduction.evidence ?? [])].sort()).toEqual([ref(baseline), ref(during)].sort());
  });

  test('the same score without partOf, 19 days after the trial, does not count: not-documented', async () => {
    const trial = pointTrial();
    const { reduction } = await cnmpImplant([trial, painScore(8, '2026-04-20T10:00:00Z'), painScore(3, '2026-05-20T10:00:00Z')]);
    expect(reduction.status).toBe('not-documented');
  });

  test('a score inside the performedPeriod counts (8 -> 4: exactly 50% is met)', async () => {
    const { reduction } = await cnmpImplant([periodTrial(), painScore(8, '2026-04-20T10:00:00Z'), painScore(4, '2026-05-03T12:00:00Z')]);
    expect(reduction.status).toBe('met');
  });

  test('a score after the end of the performedPeriod does not count', async () => {
    const { reduction } = await cnmpImplant([periodTrial(), painScore(8, '2026-04-20T10:00:00Z'), painScore(2, '2026-05-06T12:00:00Z')]);
    expect(reduction.status).toBe('not-documented');
  });

  test('after a performedDateTime, a score on day 7 counts', async () => {
    const { reduction } = await cnmpImplant([pointTrial(), painScore(8, '2026-04-20T10:00:00Z'), painScore(2, '2026-05-08T08:00:00Z')]);
    expect(reduction.status).toBe('met');
  });

  test('after a performedDateTime, a score on day 8 does not count', async () => {
    const { reduction } = await cnmpImplant([pointTrial(), painScore(8, '2026-04-20T10:00:00Z'), painScore(2, '2026-05-09T08:00:00Z')]);
    expect(reduction.status).toBe('not-documented');
  });

  test('date-times are compared as instants: the 7-day window ends at 2026-05-08T10:00Z whatever the offset', async () => {
    // 11:00+02:00 is 09:00Z (inside); 07:00-05:00 is 12:00Z (outside), although both read as earlier/later by local clock.
    const inside = await cnmpImplant([pointTrial(), painScore(8, '2026-04-20T10:00:00Z'), painScore(2, '2026-05-08T11:00:00+02:00')]);
    expect(inside.reduction.status).toBe('met');
    const outside = await cnmpImplant([pointTrial(), painScore(8, '2026-04-20T10:00:00Z'), painScore(2, '2026-05-08T07:00:00-05:00')]);
    expect(outside.reduction.status).toBe('not-documented');
  });

  test('under 50% (8 -> 6, 25%): not-met, with both scores as evidence and the reduction in the note', async () => {
    const baseline = painScore(8, '2026-04-20T10:00:00Z');
    const during = painScore(6, '2026-05-02T10:00:00Z');
    const { reduction } = await cnmpImplant([pointTrial(), baseline, during]);
    expect(reduction.status).toBe('not-met');
    expect([...(reduction.evidence ?? [])].sort()).toEqual([ref(baseline), ref(during)].sort());
    expect(reduction.note).toMatch(/25\s*%/);
  });

  test('just under 50% (10 -> 5.1): not-met', async () => {
    const { reduction } = await cnmpImplant([pointTrial(), painScore(10, '2026-04-20T10:00:00Z'), painScore(5.1, '2026-05-02T10:00:00Z')]);
    expect(reduction.status).toBe('not-met');
  });

  test('baseline 0: not-met', async () => {
    const { reduction } = await cnmpImplant([pointTrial(), painScore(0, '2026-04-20T10:00:00Z'), painScore(0, '2026-05-02T10:00:00Z')]);
    expect(reduction.status).toBe('not-met');
  });

  test('pain that rose during the trial: not-met', async () => {
    const { reduction } = await cnmpImplant([pointTrial(), painScore(5, '2026-04-20T10:00:00Z'), painScore(7, '2026-05-02T10:00:00Z')]);
    expect(reduction.status).toBe('not-met');
  });

  test('the baseline is the latest score in the 90 days before the trial (8, not the older 10): 8 -> 5 is not-met', async () => {
    const resources = [pointTrial(), painScore(10, '2026-03-01T10:00:00Z'), painScore(8, '2026-04-20T10:00:00Z'), painScore(5, '2026-05-02T10:00:00Z')];
    expect((await cnmpImplant(resources)).reduction.status).toBe('not-met');
  });

  test('during the trial, the lowest score counts (8 -> 6 and 3: met)', async () => {
    const resources = [pointTrial(), painScore(8, '2026-04-20T10:00:00Z'), painScore(6, '2026-05-01T18:00:00Z'), painScore(3, '2026-05-03T10:00:00Z')];
    expect((await cnmpImplant(resources)).reduction.status).toBe('met');
  });

  test('a baseline more than 90 days before the trial does not count: not-documented', async () => {
    const { reduction } = await cnmpImplant([pointTrial(), painScore(8, '2026-01-25T10:00:00Z'), painScore(2, '2026-05-02T10:00:00Z')]);
    expect(reduction.status).toBe('not-documented');
  });

  test('a baseline 89 days before the trial counts', async () => {
    const { reduction } = await cnmpImplant([pointTrial(), painScore(8, '2026-02-01T10:00:00Z'), painScore(2, '2026-05-02T10:00:00Z')]);
    expect(reduction.status).toBe('met');
  });

  test('LOINC 38208-5 is a pain score too', async () => {
    const resources = [
      pointTrial(),
      observation(CODE.painSeverity, { effectiveDateTime: '2026-04-20T10:00:00Z', valueQuantity: 9 }),
      observation(CODE.painSeverity, { effectiveDateTime: '2026-05-02T10:00:00Z', valueQuantity: 3 }),
    ];
    expect((await cnmpImplant(resources)).reduction.status).toBe('met');
  });

  test('an Observation with another code is not a pain score', async () => {
    const resources = [
      pointTrial(),
      painScore(8, '2026-04-20T10:00:00Z'),
      observation(CODE.ashworth, { effectiveDateTime: '2026-05-02T10:00:00Z', valueQuantity: 1 }),
    ];
    expect((await cnmpImplant(resources)).reduction.status).toBe('not-documented');
  });

  test('an entered-in-error score does not count', async () => {
    const resources = [pointTrial(), painScore(8, '2026-04-20T10:00:00Z'), painScore(2, '2026-05-02T10:00:00Z', { status: 'entered-in-error' })];
    expect((await cnmpImplant(resources)).reduction.status).toBe('not-documented');
  });

  test('no baseline: not-documented', async () => {
    expect((await cnmpImplant([pointTrial(), painScore(2, '2026-05-02T10:00:00Z')])).reduction.status).toBe('not-documented');
  });

  test('no during-trial score: not-documented', async () => {
    expect((await cnmpImplant([pointTrial(), painScore(8, '2026-04-20T10:00:00Z')])).reduction.status).toBe('not-documented');
  });
});
