/**
 * `npm run bench:cql`: evaluates one implant order for a patient with 50 relevant resources and for one with
 * 5,000 resources (mostly unrelated Observations); prints startup cost, median and p95 per evaluation in ms.
 * Targets on the project's 2-core machines: median <= 5 ms (50 resources), <= 50 ms (5,000).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Observation, Resource, ServiceRequest } from 'fhir/r4';
import { loadPolicyEngine } from '../src/engine/engine';

const root = path.resolve(__dirname, '..');
const fixture = 'itp-cnmp-implant-met';

function base(): { record: Resource[]; order: ServiceRequest; drafts: Resource[] } {
  const bundle = JSON.parse(fs.readFileSync(path.join(root, 'fixtures/patients', `${fixture}.json`), 'utf8'));
  const record: Resource[] = bundle.entry.map((e: { resource: Resource }) => e.resource);
  const order: ServiceRequest = {
    resourceType: 'ServiceRequest', id: 'bench-order', status: 'draft', intent: 'order', authoredOn: '2026-06-15',
    subject: { reference: `Patient/${fixture}` },
    code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '62362' }] },
  };
  return { record, order, drafts: [order] };
}

/** Pain scores over the last two years: relevant resources that every pain criterion reads. */
function painScores(n: number): Observation[] {
  return Array.from({ length: n }, (_, i) => ({
    resourceType: 'Observation', id: `bench-pain-${i}`, status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '72514-3' }] },
    subject: { reference: `Patient/${fixture}` },
    effectiveDateTime: new Date(Date.UTC(2024, 6, 1) + i * 86_400_000 * 7).toISOString(),
    valueQuantity: { value: 5 + (i % 4), unit: '{score}', system: 'http://unitsofmeasure.org', code: '{score}' },
  }));
}

/** Vital signs the policy does not read. */
function unrelated(n: number): Observation[] {
  return Array.from({ length: n }, (_, i) => ({
    resourceType: 'Observation', id: `bench-vital-${i}`, status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: i % 2 ? '8867-4' : '8310-5' }] },
    subject: { reference: `Patient/${fixture}` },
    effectiveDateTime: new Date(Date.UTC(2021, 0, 1) + i * 3_600_000 * 7).toISOString(),
    valueQuantity: { value: 60 + (i % 40), unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
  }));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const engine = await loadPolicyEngine();
  const startup = performance.now() - t0;
  console.log(`startup (load ELM, value sets, FHIR model): ${startup.toFixed(0)} ms`);

  const { record, order, drafts } = base();
  const small = [...record, ...painScores(Math.max(0, 50 - record.length))];
  const large = [...small, ...unrelated(5000 - small.length)];
  for (const [label, resources, runs] of [['50 resources', small, 300], ['5,000 resources', large, 100]] as const) {
    const first = await engine.evaluateOrder(resources, order, { draftOrders: drafts });
    if (!first.evaluation) throw new Error(`bench order was not evaluated: ${first.error ?? 'no evaluation'}`);
    for (let i = 0; i < 20; i++) await engine.evaluateOrder(resources, order, { draftOrders: drafts });
    const times: number[] = [];
    // CPU time too: on a shared virtual machine wall time also counts time the host gave to others.
    const cpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      const cpuStart = process.cpuUsage();
      await engine.evaluateOrder(resources, order, { draftOrders: drafts });
      const used = process.cpuUsage(cpuStart);
      times.push(performance.now() - start);
      cpu.push((used.user + used.system) / 1000);
    }
    times.sort((a, b) => a - b);
    cpu.sort((a, b) => a - b);
    console.log(
      `${label} (${resources.length}): median ${percentile(times, 50).toFixed(2)} ms, p95 ${percentile(times, 95).toFixed(2)} ms over ${runs} evaluations` +
        ` (CPU time: median ${percentile(cpu, 50).toFixed(2)} ms, p95 ${percentile(cpu, 95).toFixed(2)} ms)`,
    );
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
