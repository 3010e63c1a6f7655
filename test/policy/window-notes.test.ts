/**
 * The look-back windows are CQL parameters, and the notes quote them: a deployment that changes a window gets notes
 * that say the window it evaluated, not the policy's default.
 */
import { Quantity } from 'cql-execution';
import { loadPolicyEngine } from '../../src/engine/engine';
import type { PolicyEngine } from '../../src/engine/types';
import { ORDER_DATE, condition, icd, implantOrder, patient } from './support/builders';
import { criterion } from './support/evaluate';

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await loadPolicyEngine();
});

const record = () => [patient(), condition(icd('M96.1', 'Postlaminectomy syndrome'))];

async function noteOf(id: string, parameters?: Record<string, unknown>): Promise<string | undefined> {
  const order = implantOrder();
  const result = await engine.evaluateOrder(record(), order, { draftOrders: [order], callDate: ORDER_DATE, parameters });
  expect(result.error).toBeUndefined();
  return criterion(result.evaluation!, id).note;
}

test('with the default windows the notes name 12 and 24 months', async () => {
  expect(await noteOf('cnmp-psych-clearance')).toBe('no psychological evaluation in the 12 months before the order');
  expect(await noteOf('cnmp-conservative-6mo')).toBe('no conservative therapy in the 24 months before the order');
});

test('a changed window changes the note', async () => {
  const parameters = {
    'Psychological Evaluation Lookback': new Quantity(18, 'months'),
    'Conservative Therapy Lookback': new Quantity(36, 'months'),
  };
  expect(await noteOf('cnmp-psych-clearance', parameters)).toBe('no psychological evaluation in the 18 months before the order');
  expect(await noteOf('cnmp-conservative-6mo', parameters)).toBe('no conservative therapy in the 36 months before the order');
});
