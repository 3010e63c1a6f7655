import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../project-root';
import type { ElmLibraryJson } from './elm';
import { constantDefinitions } from './constant-definitions';

const ELM = path.join(PROJECT_ROOT, 'build', 'elm');
const all: Record<string, ElmLibraryJson> = Object.fromEntries(
  fs.readdirSync(ELM).filter((f) => f.endsWith('.json')).map((f) => [path.basename(f, '.json'), JSON.parse(fs.readFileSync(path.join(ELM, f), 'utf8'))]),
);

test('the whole-word patterns (value sets and pure functions only) are constant definitions of the policy', () => {
  const constant = constantDefinitions(all.ImplantedSpinalDrugDelivery, all);
  for (const name of ['Trial Agent Pattern', 'Corticosteroid Pattern', 'Route Pattern', 'Pain Medication Pattern', 'Antispasticity Medication Pattern']) {
    expect(constant).toContain(name);
  }
});

test('a definition that reads the record, a parameter or the clock is not constant, nor one that uses such a definition', () => {
  const constant = constantDefinitions(all.ImplantedSpinalDrugDelivery, all);
  // Patient and Conditions retrieve; Order Date reads parameters and Today(); Lookback-based windows use Order Date;
  // Criteria and Evaluation depend on all of them.
  for (const name of ['Patient', 'Conditions', 'Order Date', 'Conservative Window', 'Age', 'Criteria', 'Evaluation', 'Pathway']) {
    expect(constant).not.toContain(name);
  }
});
