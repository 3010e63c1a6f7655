import type { CriterionResult, PolicyEvaluation } from '../engine/types';
import { buildCard, buildEvaluationFailedCard, escapeMarkdown, SUMMARY_MAX, type CardContext } from './cards';
import type { HookName } from '../cds-hooks/types';
import { loadPacks } from '../packs/load-packs';

const [pack] = loadPacks();

const PAGE = 'https://cds.example.org/policy/2022T0626C';

function context(hook: HookName): CardContext {
  let n = 0;
  return { hook, pack, insurer: 'Testpayer Health Plan', userId: 'Practitioner/dr1', policyPageUrl: PAGE, patientId: 'p1', callDate: '2026-06-15', newId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}` };
}

function evaluation(criteria: CriterionResult[], overrides: Partial<PolicyEvaluation> = {}): PolicyEvaluation {
  return {
    policy: '2022T0626C',
    order: 'ServiceRequest/sr1',
    code: { system: 'http://www.ama-assn.org/go/cpt', code: '62362' },
    phase: 'implant',
    pathway: 'chronic-non-malignant-pain',
    criteria,
    ...overrides,
  };
}

const met = (id: string): CriterionResult => ({ id, status: 'met', evidence: ['Patient/p1'], note: 'ok' });
const allMet = evaluation([met('age-18'), met('cnmp-etiology'), { id: 'trial-completed', status: 'not-applicable' }]);
const withGaps = evaluation([
  met('age-18'),
  { id: 'cnmp-conservative-6mo', status: 'not-met', note: '4 months' },
  { id: 'cnmp-psych-clearance', status: 'not-documented' },
  { id: 'cnmp-etiology', status: 'not-documented' },
]);

describe('indicator', () => {
  it.each<HookName>(['order-select', 'order-sign'])('is info on %s when every criterion is met or not applicable', (hook) => {
    expect(buildCard(allMet, context(hook)).indicator).toBe('info');
  });

  it('is warning on order-sign and info on order-select when a criterion is not met or not documented', () => {
    expect(buildCard(withGaps, context('order-sign')).indicator).toBe('warning');
    expect(buildCard(withGaps, context('order-select')).indicator).toBe('info');
  });

  it('is warning on order-sign for an undetermined pathway even when age-18 is met', () => {
    const undetermined = evaluation([met('age-18')], { pathway: 'undetermined' });
    expect(buildCard(undetermined, context('order-sign')).indicator).toBe('warning');
    expect(buildCard(undetermined, context('order-select')).indicator).toBe('info');
  });
});

describe('summary', () => {
  it('names the procedure and counts what is not met and not documented', () => {
    const { summary } = buildCard(withGaps, context('order-sign'));
    expect(summary).toBe('Intrathecal drug delivery implant (CPT 62362): 1 criterion not met, 2 not documented (policy 2022T0626C)');
    expect(summary.length).toBeLessThan(140);
  });

  it('says so when everything is met', () => {
    expect(buildCard(allMet, context('order-sign')).summary).toMatch(/^Intrathecal drug delivery implant \(CPT 62362\): all 3 criteria/);
  });

  it('asks for the diagnosis when the pathway is undetermined', () => {
    const card = buildCard(evaluation([met('age-18')], { pathway: 'undetermined', phase: 'trial', code: { system: 'http://www.ama-assn.org/go/cpt', code: '62322' } }), context('order-sign'));
    expect(card.summary).toMatch(/^Intrathecal drug infusion trial \(CPT 62322\): no qualifying diagnosis/);
    expect(card.detail).toMatch(/Add the diagnosis/);
  });

  it('stays under 140 characters whatever the order code', () => {
    const card = buildCard(evaluation(withGaps.criteria, { code: { system: 'urn:x', code: 'X'.repeat(200) } }), context('order-sign'));
    expect(card.summary.length).toBeLessThan(140);
    expect(card.summary.length).toBe(SUMMARY_MAX);
  });
});

describe('detail', () => {
  it('lists every criterion with its status and note as a Markdown checklist', () => {
    const lines = buildCard(withGaps, context('order-sign')).detail!.split('\n').filter((l) => l.startsWith('- ['));
    expect(lines).toEqual([
      '- [x] **Age 18 or older** (`age-18`) — met: ok',
      '- [ ] **6 months of conservative therapy** (`cnmp-conservative-6mo`) — not met: 4 months',
      '- [ ] **Psychological evaluation without untreated psychiatric or substance-use condition** (`cnmp-psych-clearance`) — not documented',
      '- [ ] **Cause of the pain documented** (`cnmp-etiology`) — not documented',
    ]);
  });

  it.each(['cancer-pain', 'spasticity'] as const)('says InterQual decides medical necessity on the %s pathway', (pathway) => {
    const detail = buildCard(evaluation([met('age-18')], { pathway }), context('order-sign')).detail!;
    expect(detail).toContain('InterQual CP: Procedures, Epidural or Intrathecal Catheter Placement');
  });

  it('does not mention InterQual on the chronic non-malignant pain pathway', () => {
    expect(buildCard(allMet, context('order-sign')).detail).not.toContain('InterQual');
  });

  it('says the policy does not address individuals under 18 when age-18 is not met', () => {
    const young = evaluation([{ id: 'age-18', status: 'not-met', note: 'age 16' }], { pathway: 'spasticity' });
    expect(buildCard(young, context('order-sign')).detail).toContain('The policy does not address individuals under 18.');
    expect(buildCard(allMet, context('order-sign')).detail).not.toContain('under 18');
  });

  it('shows notes as text, not as links or HTML', () => {
    const hostile = evaluation([{ id: 'age-18', status: 'met', note: '[click](http://evil.example) <img src=x> *bold*' }]);
    const detail = buildCard(hostile, context('order-sign')).detail!;
    expect(detail).toContain('\\[click\\](http://evil.example) \\<img src=x\\> \\*bold\\*');
    expect(escapeMarkdown('a\nb')).toBe('a b');
  });

  it('names the other pathways found', () => {
    const detail = buildCard(evaluation([met('age-18')], { pathway: 'cancer-pain', otherPathways: ['chronic-non-malignant-pain'] }), context('order-sign')).detail!;
    expect(detail).toContain('Other indications on the record: chronic intractable non-malignant pain.');
  });
});

describe('card fields', () => {
  it('carries the evaluation unchanged, the policy source and an absolute link to the policy page', () => {
    const card = buildCard(withGaps, context('order-sign'), { suggestions: false });
    expect(card.extension).toEqual({ 'policy-evaluation': withGaps, 'davinci-crd.associated-resource': [{ reference: 'ServiceRequest/sr1' }] });
    expect(card.source).toEqual({
      label: 'Testpayer Health Plan',
      url: PAGE,
      topic: { system: 'http://terminology.hl7.org/CodeSystem/cdshooks-card-type', code: 'guideline', display: 'Guideline' },
    });
    expect(card.links).toEqual([{ label: expect.any(String), url: PAGE, type: 'absolute' }]);
  });

  it('offers override reasons on warning cards only', () => {
    const codes = buildCard(withGaps, context('order-sign')).overrideReasons?.map((c) => c.code);
    expect(codes).toEqual(['documented-elsewhere', 'clinical-judgement', 'patient-declined-evaluation']);
    expect(buildCard(withGaps, context('order-select')).overrideReasons).toBeUndefined();
    expect(buildCard(allMet, context('order-sign')).overrideReasons).toBeUndefined();
  });

  it('is one CRD response type: with a suggested order, Identify Additional Orders (no links); else External Reference', () => {
    const card = buildCard(withGaps, context('order-sign'));
    expect(card.suggestions).toHaveLength(1);
    expect(card.links).toBeUndefined();
    expect(card.source.topic?.code).toBe('clinical-reminder');
    expect(card.detail).toContain(`](${PAGE})`);
    const plain = buildCard(withGaps, context('order-sign'), { suggestions: false });
    expect(plain.suggestions).toBeUndefined();
    expect(plain.links).toEqual([{ label: expect.any(String), url: PAGE, type: 'absolute' }]);
    expect(plain.source.topic?.code).toBe('guideline');
  });

  it('omits optional fields rather than sending them empty', () => {
    const card = buildCard(allMet, context('order-sign'));
    expect(Object.keys(card).sort()).toEqual(['detail', 'extension', 'indicator', 'links', 'source', 'summary', 'uuid']);
  });
});

describe('suggestions', () => {
  it('offers a psychological evaluation order when psych clearance is not documented', () => {
    const card = buildCard(withGaps, context('order-sign'));
    expect(card.selectionBehavior).toBe('any');
    expect(card.suggestions).toHaveLength(1);
    const [suggestion] = card.suggestions!;
    expect(suggestion).toMatchObject({ label: expect.any(String), uuid: expect.any(String), isRecommended: true });
    expect(suggestion.uuid).not.toBe(card.uuid);
    expect(suggestion.actions).toEqual([
      {
        type: 'create',
        description: expect.any(String),
        resource: {
          resourceType: 'ServiceRequest',
          status: 'draft',
          intent: 'order',
          code: expect.objectContaining({ coding: [expect.objectContaining({ system: 'http://www.ama-assn.org/go/cpt', code: '90791' })] }),
          subject: { reference: 'Patient/p1' },
          authoredOn: '2026-06-15',
          requester: { reference: 'Practitioner/dr1' },
        },
      },
    ]);
  });

  it('offers nothing for a criterion that is not met (a finding, not a missing record)', () => {
    const card = buildCard(evaluation([{ id: 'cnmp-psych-clearance', status: 'not-met' }]), context('order-sign'));
    expect(card.suggestions).toBeUndefined();
    expect(card.selectionBehavior).toBeUndefined();
  });

  it('offers one physical therapy evaluation for missing spasticity scale and function together', () => {
    const card = buildCard(
      evaluation(
        [
          { id: 'spasticity-scale-documented', status: 'not-documented' },
          { id: 'spasticity-function-documented', status: 'not-documented' },
          { id: 'psych-history-documented', status: 'not-documented' },
        ],
        { pathway: 'spasticity' },
      ),
      context('order-sign'),
    );
    const codes = card.suggestions!.map((s) => s.actions[0].resource.code!.coding![0].code);
    expect(codes).toEqual(['90791', '97163']);
  });
});

describe('failed evaluation card', () => {
  it('says the check could not be done, without an evaluation extension', () => {
    const card = buildEvaluationFailedCard('ServiceRequest/sr1', { pack, policyPageUrl: PAGE, insurer: 'Testpayer Health Plan' });
    expect(card.summary).toMatch(/could not be checked/);
    expect(card.indicator).toBe('info');
    expect(card.source.label).toBe('Testpayer Health Plan');
    expect(card.extension).toEqual({ 'davinci-crd.associated-resource': [{ reference: 'ServiceRequest/sr1' }] });
    expect(card.links).toEqual([{ label: expect.any(String), url: PAGE, type: 'absolute' }]);
  });
});
