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
