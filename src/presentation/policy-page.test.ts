import { loadPacks } from '../packs/load-packs';
import { escapeHtml, renderPolicyPage as render } from './policy-page';

const [pack] = loadPacks();
const renderPolicyPage = () => render(pack);

describe('policy page', () => {
  it('escapes markup characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('has no unescaped text: every ampersand starts an entity', () => {
    expect(renderPolicyPage().match(/&(?!amp;|lt;|gt;|quot;|#39;)/g)).toBeNull();
  });

  it('names the source policy and its effective date', () => {
    const html = renderPolicyPage();
    expect(html).toContain('Implanted Spinal Drug Delivery Systems, policy number 2022T0626C, effective 2022-05-01');
  });
});

describe('policy page, each criterion in detail', () => {
  const section = (html: string, id: string) => {
    const start = html.indexOf(`<h3 id="criterion-${id}">`);
    expect(start).toBeGreaterThan(0);
    const end = html.indexOf('<h3 id="criterion-', start + 1);
    return html.slice(start, end < 0 ? undefined : end);
  };
  const ids = [...new Set([...pack.criteria.values()].flatMap((byPhase) => [...byPhase.values()].flat()))];

  it('has a section for every criterion the CQL evaluates, linked from the pathway tables', () => {
    const html = renderPolicyPage();
    for (const id of ids) {
      expect(section(html, id)).toContain(escapeHtml(pack.manifest.criteria[id].explanation));
      expect(html).toContain(`<a href="#criterion-${id}">`);
    }
  });

  it('lists the codes that count, from the value sets the criterion reads', () => {
    const html = renderPolicyPage();
    const psych = section(html, 'cnmp-psych-clearance');
    expect(psych).toContain('Psychological evaluation (5 codes)');
    expect(psych).toContain('<li>CPT 90791: Psychiatric diagnostic evaluation</li>');
    expect(psych).toContain('<li>SNOMED CT 10197000: Psychiatric interview and evaluation</li>');
    expect(section(html, 'metastases-documented')).toContain('<li>ICD-10-CM C78: Secondary malignant neoplasm of respiratory and digestive organs</li>');
    expect(section(html, 'age-18')).toContain(escapeHtml(pack.manifest.page.criterionDetails.noCodes));
  });

  it('gives the windows as configured: a changed parameter changes the page', () => {
    expect(section(renderPolicyPage(), 'cnmp-psych-clearance')).toContain('Psychological Evaluation Lookback: 12 months; Psychotherapy Lookback: 6 months');
    const longer = { ...pack, parameterValues: new Map([...pack.parameterValues, ['Psychological Evaluation Lookback', { value: 18, unit: 'months' }]]) };
    expect(section(render(longer), 'cnmp-psych-clearance')).toContain('Psychological Evaluation Lookback: 18 months');
    expect(section(renderPolicyPage(), 'metastases-documented')).toContain(`</strong> ${pack.manifest.page.criterionDetails.noWindows}</p>`);
  });
});
