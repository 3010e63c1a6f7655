/**
 * The whole service with the real policy engine: every fixture request of fixtures/README.md sent
 * over HTTP, the record read from the embedded FHIR server (no prefetch) or sent as prefetch,
 * and the cards held to the README's expected-results table and to the card rules of
 * criteria.md section 4. Needs `npm run build:cql` (the ELM) first.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, FhirResource, Observation } from 'fhir/r4';
import request from 'supertest';
import { loadPolicyEngine } from '../../src/engine/engine';
import { loadPacks } from '../../src/packs/load-packs';
import type { PolicyEngine, PolicyEvaluation } from '../../src/engine/types';
import { listBundleFiles, seedFhirServer, startFhirServer, type RunningFhirServer } from '../../src/sandbox/fhir-server';
import type { Card } from '../../src/cds-hooks/types';
import { FIXTURES_DIR, readFixtureTable, type FixtureTableRow } from '../support/fixture-table';
import { emptyValuePaths, makeApp } from './helpers';

const rows = readFixtureTable();
const [pack] = loadPacks();
const requestNames = [...new Set(rows.map((r) => r.request))];

let engine: PolicyEngine;
let fhir: RunningFhirServer;
let app: ReturnType<typeof makeApp>;
/** Cards of each fixture request with the record fetched from the FHIR server. */
const fetchedCards = new Map<string, Card[]>();

function fixtureRequest(name: string): Record<string, any> {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, 'requests', `${name}.json`), 'utf8'));
}

function servicePath(body: Record<string, any>): string {
  return `/cds-services/intrathecal-pump-${body.hook}`;
}

function evaluationOf(card: Card): PolicyEvaluation {
  return card.extension!['policy-evaluation'] as PolicyEvaluation;
}

/** A prefetch as a generous EHR would send it: the patient's whole record, every Observation included. */
function prefetchFor(patientId: string): Record<string, FhirResource | Bundle> {
  const bundle: Bundle = JSON.parse(readFileSync(join(FIXTURES_DIR, 'patients', `${patientId}.json`), 'utf8'));
  const all = (bundle.entry ?? []).map((e) => e.resource!).filter(Boolean);
  const searchset = (type: string, keep: (r: FhirResource) => boolean = () => true): Bundle => ({
    resourceType: 'Bundle',
    type: 'searchset',
    entry: all.filter((r) => r.resourceType === type && keep(r)).map((resource) => ({ resource, search: { mode: 'match' as const } })),
  });
  return {
    patient: all.find((r) => r.resourceType === 'Patient')!,
    conditions: searchset('Condition'),
    procedures: searchset('Procedure'),
    observations: searchset('Observation', (r) => (r as Observation).status !== undefined),
    medicationRequests: searchset('MedicationRequest'),
    medicationStatements: searchset('MedicationStatement'),
    allergies: searchset('AllergyIntolerance'),
    coverage: searchset('Coverage', (r) => (r as { status?: string }).status === 'active'),
  };
}

beforeAll(async () => {
  engine = await loadPolicyEngine();
  fhir = await startFhirServer({ port: 0 });
  await seedFhirServer(fhir.baseUrl, listBundleFiles(join(FIXTURES_DIR, 'patients')));
  app = makeApp(engine);
  for (const name of requestNames) {
    const body = { ...fixtureRequest(name), fhirServer: fhir.baseUrl };
    const res = await request(app).post(servicePath(body)).send(body);
    if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status} ${res.text}`);
    fetchedCards.set(name, res.body.cards);
  }
}, 120_000);

afterAll(async () => {
  await app?.closeResources();
  await fhir?.close();
});

describe.each(requestNames)('fixture request %s, record fetched from the FHIR server', (name) => {
  const expected: FixtureTableRow[] = rows.filter((r) => r.request === name);

  it('yields the cards of the expected-results table', () => {
    const cards = fetchedCards.get(name)!;
    if (expected[0].criteria === 'no card') {
      expect(cards).toEqual([]);
      return;
    }
    const actual = cards.map((card) => {
      const e = evaluationOf(card);
      return {
        order: e.order,
        pathway: e.pathway,
        otherPathways: e.otherPathways ?? [],
        criteria: e.criteria.map((c) => ({ id: c.id, status: c.status })),
      };
    });
    expect(actual).toEqual(expected.map((r) => ({ order: r.order, pathway: r.pathway, otherPathways: r.otherPathways, criteria: r.criteria })));
  });

  it('follows the card rules', () => {
    const cards = fetchedCards.get(name)!;
    const hook = fixtureRequest(name).hook as string;
    for (const card of cards) {
      expect(emptyValuePaths(card)).toEqual([]);
      const e = evaluationOf(card);
      expect(card.summary.length).toBeLessThan(140);
      expect(card.summary).toContain(e.code.code);
      const gaps = e.criteria.filter((c) => c.status === 'not-met' || c.status === 'not-documented').length;
      const clean = gaps === 0 && e.pathway !== 'undetermined';
      expect(card.indicator).toBe(clean ? 'info' : hook === 'order-sign' ? 'warning' : 'info');
      // Clinician text names criteria in words; ids and references stay in the extension.
      for (const c of e.criteria) {
        expect(card.detail).toContain(pack.manifest.card.markers[c.status]);
        expect(card.detail).toContain((pack.manifest.criteria[c.id].short ?? '').slice(1));
      }
      for (const id of [e.order, ...e.criteria.map((c) => c.id), ...e.criteria.flatMap((c) => c.evidence ?? [])]) {
        expect(`${card.summary}\n${card.detail}`).not.toContain(id);
      }
      if (e.pathway === 'cancer-pain' || e.pathway === 'spasticity') expect(card.detail).toContain('InterQual');
      if (e.criteria.some((c) => c.id === 'age-18' && c.status === 'not-met')) {
        expect(card.detail).toContain('does not address individuals under 18');
      }
      const page = expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/policy\/2022T0626C$/);
      // One CRD response type per card: suggested orders (no links; the page is in the detail) or the page as a link.
      if (card.suggestions) expect(card.detail).toMatch(/\]\(http:\/\/127\.0\.0\.1:\d+\/policy\/2022T0626C\)$/);
      else expect(card.links).toEqual([{ label: expect.any(String), url: page, type: 'absolute' }]);
      expect(card.source.url).toEqual(page);
    }
  });
});

describe('what the cards tell the clinician beyond the statuses', () => {
  it('dates the records that fell just outside their window (cancer-implant-gaps: ICP 2025-03-20, prognosis 2025-02-10)', () => {
    const [card] = fetchedCards.get('cancer-implant-gaps')!;
    const latest = (date: string) => pack.manifest.card.latestOutsideWindow.replace('{date}', date);
    const line = (id: string) => card.detail!.split('\n').find((l) => l.includes(`**${capitalized(pack.manifest.criteria[id].short!)}**`));
    expect(line('icp-documented')).toContain(latest('2025-03-20'));
    expect(line('life-expectancy-documented')).toContain(latest('2025-02-10'));
    expect(line('trial-completed')).not.toContain(latest(''));
  });
});

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

describe('every fixture response together', () => {
  it('never repeats a uuid', () => {
    const uuids = [...fetchedCards.values()].flat().flatMap((card) => [card.uuid, ...(card.suggestions ?? []).map((s) => s.uuid)]);
    expect(uuids.length).toBeGreaterThan(0);
    expect(new Set(uuids).size).toBe(uuids.length);
  });

  it('shows both indicators: info for complete orders and warnings for gaps at signing', () => {
    const indicators = new Set([...fetchedCards.values()].flat().map((card) => card.indicator));
    expect(indicators).toEqual(new Set(['info', 'warning']));
  });
});

describe.each(requestNames)('fixture request %s, record sent as prefetch', (name) => {
  it('gives the same evaluations as fetching from the FHIR server, without a fhirServer', async () => {
    const body = fixtureRequest(name);
    delete body.fhirServer;
    body.prefetch = prefetchFor(body.context.patientId);
    const res = await request(app).post(servicePath(body)).send(body).expect(200);
    expect(res.body.cards.map(evaluationOf)).toEqual(fetchedCards.get(name)!.map(evaluationOf));
  });
});
