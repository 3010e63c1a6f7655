/**
 * The dates the CQL reports beside the evaluation for the card's reader: the order date every window counts back
 * from, and for a criterion that is not documented because its record is too old, the date of the latest such
 * record. They never change a status. Order date 2026-06-15: the 12-month windows start 2025-06-15 and the
 * 24-month windows 2024-06-15.
 */
import { loadPolicyEngine } from '../../src/engine/engine';
import type { PolicyEngine } from '../../src/engine/types';
import { CODE, condition, icd, implantOrder, medicationStatement, patient, procedure, trialAgentDraft, trialOrder } from './support/builders';
import { run } from './support/evaluate';

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await loadPolicyEngine();
});

const cnmp = () => condition(icd('G89.4', 'Chronic pain syndrome'));

it('reports the order date the windows count from', async () => {
  const result = await run(engine, [patient(), cnmp()], trialOrder(), { drafts: [trialAgentDraft()] });
  expect(result.dates?.orderDate).toBe('2026-06-15');
});

it('dates the latest psychological evaluation older than its 12-month window, and only when the criterion is not documented', async () => {
  const old = [procedure(CODE.psychEvaluation, { performedDateTime: '2024-11-02' }), procedure(CODE.psychEvaluation, { performedDateTime: '2025-03-02' })];
  const tooOld = await run(engine, [patient(), cnmp(), ...old], trialOrder(), { drafts: [trialAgentDraft()] });
  expect(tooOld.evaluation?.criteria.find((c) => c.id === 'cnmp-psych-clearance')?.status).toBe('not-documented');
  expect(tooOld.dates?.latestOutsideWindow?.['cnmp-psych-clearance']).toBe('2025-03-02');

  const recent = await run(engine, [patient(), cnmp(), ...old, procedure(CODE.psychEvaluation, { performedDateTime: '2026-01-05' })], trialOrder(), {
    drafts: [trialAgentDraft()],
  });
  expect(recent.evaluation?.criteria.find((c) => c.id === 'cnmp-psych-clearance')?.status).toBe('met');
  expect(recent.dates?.latestOutsideWindow?.['cnmp-psych-clearance']).toBeUndefined();
});

it('dates conservative therapy that ended before its 24-month window', async () => {
  const oldTherapy = medicationStatement(CODE.gabapentin, { status: 'completed', effectivePeriod: ['2023-01-10', '2024-02-01'] });
  const result = await run(engine, [patient(), cnmp(), oldTherapy], implantOrder());
  const status = result.evaluation?.criteria.find((c) => c.id === 'cnmp-conservative-6mo')?.status;
  expect(status).toBe('not-documented');
  expect(result.dates?.latestOutsideWindow?.['cnmp-conservative-6mo']).toBe('2024-02-01');
});

it('leaves the date out when nothing of the kind is on the record', async () => {
  const result = await run(engine, [patient(), cnmp()], trialOrder(), { drafts: [trialAgentDraft()] });
  expect(result.dates?.latestOutsideWindow).toBeUndefined();
});
