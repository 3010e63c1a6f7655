/**
 * The engine's record source (src/engine/record-source.ts) against the cql-exec-fhir path it replaced
 * (./support/cql-exec-fhir-source.ts, test only): every fixture record (fixtures/cql, and fixtures/patients with
 * the draft orders of every fixtures/requests file) is evaluated through both, and the phase and the whole
 * evaluation of every draft order must be the same. When this test is retired, so is the old path.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, FhirResource } from 'fhir/r4';
import { loadPolicyEngine } from '../../src/engine/engine';
import type { PolicyEngine, DraftOrder } from '../../src/engine/types';
import { cqlExecFhirSource } from './support/cql-exec-fhir-source';

const FIXTURES = path.resolve(__dirname, '..', '..', 'fixtures');
const CALL_DATE = '2026-06-15';

const readBundle = (file: string): Bundle => JSON.parse(fs.readFileSync(file, 'utf8')) as Bundle;
const resourcesOf = (bundle: Bundle): FhirResource[] => (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
const isOrder = (r: FhirResource): r is DraftOrder => r.resourceType === 'ServiceRequest' || r.resourceType === 'DeviceRequest';

interface Case {
  name: string;
  record: FhirResource[];
  drafts: FhirResource[];
}

function cases(): Case[] {
  const cqlDir = path.join(FIXTURES, 'cql');
  const fromCql = fs
    .readdirSync(cqlDir)
    .filter((f) => f.endsWith('.record.json'))
    .map((f) => {
      const name = f.replace(/\.record\.json$/, '');
      return { name: `cql/${name}`, record: resourcesOf(readBundle(path.join(cqlDir, f))), drafts: resourcesOf(readBundle(path.join(cqlDir, `${name}.draft-orders.json`))) };
    });
  const practitioners = resourcesOf(readBundle(path.join(FIXTURES, 'patients', 'itp-practitioners.json')));
  const fromRequests = fs
    .readdirSync(path.join(FIXTURES, 'requests'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      const request = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'requests', f), 'utf8'));
      const patientFile = path.join(FIXTURES, 'patients', `${request.context.patientId}.json`);
      return { name: `requests/${f}`, record: [...resourcesOf(readBundle(patientFile)), ...practitioners], drafts: resourcesOf(request.context.draftOrders) };
    });
  return [...fromCql, ...fromRequests];
}

let lean: PolicyEngine;
let old: PolicyEngine;
beforeAll(async () => {
  lean = await loadPolicyEngine();
  old = await loadPolicyEngine({ recordSource: cqlExecFhirSource });
});

const all = cases();

test('every fixture is covered', () => {
  expect(all.length).toBeGreaterThanOrEqual(20);
  expect(all.flatMap((c) => c.drafts.filter(isOrder)).length).toBeGreaterThanOrEqual(all.length);
});

test.each(all.map((c) => [c.name, c] as const))('%s: same phase and evaluation through both sources', async (_name, c) => {
  const leanRecord = lean.prepareRecord(c.record, c.drafts);
  const oldRecord = old.prepareRecord(c.record, c.drafts);
  let governed = 0;
  for (const order of c.drafts.filter(isOrder)) {
    const options = { callDate: CALL_DATE };
    const [leanPhase, oldPhase] = [await lean.orderPhase(order, { record: leanRecord }), await old.orderPhase(order, { record: oldRecord })];
    expect(leanPhase).toEqual(oldPhase);
    const [leanResult, oldResult] = [await lean.evaluateOrder(leanRecord, order, options), await old.evaluateOrder(oldRecord, order, options)];
    expect(leanResult.error).toBeUndefined();
    expect(leanResult).toEqual(oldResult);
    if (leanResult.evaluation) governed++;
  }
  // A fixture whose orders are all ungoverned would compare nothing but nulls.
  if (!/no-agent|steroid/.test(c.name)) expect(governed).toBeGreaterThan(0);
});
