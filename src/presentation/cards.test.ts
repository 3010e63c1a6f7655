import type { CriterionResult, PolicyEvaluation } from '../engine/types';
import { buildCard, buildEvaluationFailedCard, type CardContext } from './cards';
import { escapeMarkdown, SUMMARY_MAX } from './card-text';
import type { HookName } from '../cds-hooks/types';
import { loadPacks } from '../packs/load-packs';
import { implantEvaluation as evaluation } from '../../test/support/evaluations';

const [pack] = loadPacks();

const PAGE = 'https://cds.example.org/policy/2022T0626C';

function context(hook: HookName): CardContext {
  let n = 0;
  return { hook, pack, insurer: 'Testpayer Health Plan', userId: 'Practitioner/dr1', policyPageUrl: PAGE, patientId: 'p1', callDate: '2026-06-15', newId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}` };
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
  it('names the procedure, counts the gaps and names as many as fit, not met first', () => {
    const { summary } = buildCard(withGaps, context('order-sign'));
    expect(summary).toBe(
      'Intrathecal drug delivery implant (CPT 62362): 1 not met (6 months of conservative therapy); 2 to document',
    );
    expect(summary.length).toBeLessThan(140);
  });

  it('names every gap when they fit', () => {
    const two = evaluation([met('age-18'), { id: 'cnmp-psych-clearance', status: 'not-documented' }, { id: 'cnmp-etiology', status: 'not-documented' }]);
    expect(buildCard(two, context('order-sign')).summary).toBe(
      'Intrathecal drug delivery implant (CPT 62362): 2 to document (psychological evaluation, cause of the pain)',
    );
  });

  it('names the first gaps and counts the rest when not all fit', () => {
    const ids = ['metastases-documented', 'icp-documented', 'life-expectancy-documented', 'prior-treatments-documented', 'trial-completed', 'trial-pain-reduction-documented'];
    const cancer = evaluation(ids.map((id): CriterionResult => ({ id, status: 'not-documented' })), { pathway: 'cancer-pain' });
    const { summary } = buildCard(cancer, context('order-sign'));
    expect(summary.length).toBeLessThan(140);
    expect(summary).toMatch(/: 6 to document \(metastases, intracranial pressure, .*\+\d more\)$/);
  });

  it('falls back to counts when no name fits', () => {
    const many = evaluation(
      ['cnmp-etiology', 'cnmp-no-further-treatment', 'cnmp-conservative-6mo', 'cnmp-conservative-failure', 'cnmp-psych-clearance', 'trial-completed'].map(
        (id, i): CriterionResult => ({ id, status: i < 3 ? 'not-met' : 'not-documented' }),
      ),
      { code: { system: 'http://www.ama-assn.org/go/cpt', code: '6'.repeat(60) } },
    );
    const { summary } = buildCard(many, context('order-sign'));
    expect(summary.length).toBeLessThan(140);
    expect(summary).toMatch(/: 3 not met; 3 to document$/);
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
  const detailOf = (e: PolicyEvaluation, extra: Partial<CardContext> = {}) => buildCard(e, { ...context('order-sign'), ...extra }).detail!;

  it('leads with what blocks the order, then what to add, then one line for what is met', () => {
    const detail = detailOf(withGaps);
    expect(detail.split('\n\n').slice(1)).toEqual([
      '**✗ Not met: blocks the order**',
      '- ✗ **6 months of conservative therapy**: 4 months',
      '**☐ To document**',
      '- ☐ **Psychological evaluation**: add one from the last 12 months.\n' +
        "- ☐ **Cause of the pain**: add the diagnosis causing the pain as an active condition (the order's own reason does not count).",
      '**✓ Met:** Age 18 or older',
      // A card with suggestions has no links (CRD), so the policy page is named last in the detail.
      '[What this service checks for policy 2022T0626C](https://cds.example.org/policy/2022T0626C)',
    ]);
  });

  it('marks the four statuses distinctly and lists what is not applicable last', () => {
    const detail = detailOf(evaluation([met('age-18'), { id: 'trial-completed', status: 'not-applicable' }, { id: 'cnmp-etiology', status: 'not-met' }]));
    const markers = pack.manifest.card.markers;
    expect(new Set(Object.values(markers)).size).toBe(4);
    expect(detail.indexOf(markers['not-met'])).toBeLessThan(detail.indexOf(markers.met));
    expect(detail.endsWith(`**${markers['not-applicable']} Not applicable:** Completed trial`)).toBe(true);
  });

  it('states the order date the windows count from once, and the latest record outside a window', () => {
    const detail = detailOf(withGaps, { orderDate: '2026-06-15', latestOutsideWindow: { 'cnmp-psych-clearance': '2025-03-02' } });
    expect(detail.startsWith('Order date 2026-06-15: every look-back window counts back from it. Indication: **chronic intractable non-malignant pain**.')).toBe(true);
    expect(detail.match(/2026-06-15/g)).toHaveLength(1);
    expect(detail).toContain('- ☐ **Psychological evaluation**: add one from the last 12 months. Latest on record: 2025-03-02, outside the window.');
  });

  it('shows no FHIR or criterion ids', () => {
    const detail = detailOf(withGaps, { orderDate: '2026-06-15' });
    for (const id of ['ServiceRequest', 'sr1', 'Patient/p1', ...withGaps.criteria.map((c) => c.id)]) expect(detail).not.toContain(id);
  });

  it.each(['cancer-pain', 'spasticity'] as const)('says InterQual decides medical necessity on the %s pathway', (pathway) => {
    const detail = detailOf(evaluation([met('age-18')], { pathway }));
    expect(detail).toContain('InterQual CP: Procedures, Epidural or Intrathecal Catheter Placement');
  });

  it('does not mention InterQual on the chronic non-malignant pain pathway', () => {
    expect(detailOf(allMet)).not.toContain('InterQual');
  });

  it('says the policy does not address individuals under 18 when age-18 is not met', () => {
    const young = evaluation([{ id: 'age-18', status: 'not-met', note: 'age 16' }], { pathway: 'spasticity' });
    expect(detailOf(young)).toContain('The policy does not address individuals under 18.');
    expect(detailOf(allMet)).not.toContain('under 18');
  });

  it('shows notes as text, not as links or HTML', () => {
    const hostile = evaluation([{ id: 'age-18', status: 'not-met', note: '[click](http://evil.example) <img src=x> *bold*' }]);
    expect(detailOf(hostile)).toContain('\\[click\\](http://evil.example) \\<img src=x\\> \\*bold\\*');
    expect(escapeMarkdown('a\nb')).toBe('a b');
  });

  it('names the other pathways found', () => {
    const detail = detailOf(evaluation([met('age-18')], { pathway: 'cancer-pain', otherPathways: ['chronic-non-malignant-pain'] }));
    expect(detail).toContain('Other indications on the record: chronic intractable non-malignant pain.');
  });

  it('warns that a partly read record may hold what is shown as to document', () => {
    expect(detailOf(withGaps, { partialKeys: ['observations'] })).toMatch(/Part of the record was not read \(observations: /);
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

  it('offers override reasons on warning cards only, those that fit the card\'s gaps', () => {
    const codes = (e: PolicyEvaluation) => buildCard(e, context('order-sign')).overrideReasons?.map((c) => c.code);
    expect(codes(withGaps)).toEqual(['documented-elsewhere', 'clinical-judgement', 'patient-declined-evaluation']);
    // No evaluation gap: no "declined the evaluation".
    expect(codes(evaluation([met('cnmp-psych-clearance'), { id: 'cnmp-conservative-6mo', status: 'not-met' }]))).toEqual([
      'documented-elsewhere',
      'clinical-judgement',
    ]);
    // A psychological evaluation that was done and found a condition is a finding, not a missing record.
    expect(codes(evaluation([{ id: 'cnmp-psych-clearance', status: 'not-met' }]))).toEqual(['documented-elsewhere', 'clinical-judgement']);
    expect(codes(evaluation([{ id: 'trial-completed', status: 'not-documented' }]))).toEqual([
      'documented-elsewhere',
      'clinical-judgement',
      'trial-results-pending',
    ]);
    expect(buildCard(withGaps, context('order-sign')).overrideReasons![0]).toEqual({
      system: 'http://intrathecal-cds.example.org/fhir/CodeSystem/override-reason',
      code: 'documented-elsewhere',
      display: 'Documented elsewhere (not in this record)',
    });
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
