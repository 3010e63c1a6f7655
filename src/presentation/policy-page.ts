/**
 * The page every card links to (`GET /policy/2022T0626C`): what this service checks for the
 * policy, in our own words. Rendered once at startup; every piece of text is HTML-escaped.
 */
import { INTERQUAL_NAME, PATHWAY_CRITERIA, PATHWAY_LABELS, POLICY, CRITERIA } from './policy-text';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]);
}

const PHASE_NOTE = { both: 'trial and implant', trial: 'trial only', implant: 'implant only' } as const;

function pathwaySection(section: (typeof PATHWAY_CRITERIA)[number]): string {
  const rows = section.criteria
    .map(({ id, phase }) => {
      const text = CRITERIA[id];
      return (
        `<tr><td><code>${escapeHtml(id)}</code></td><td>${escapeHtml(text.title)}</td>` +
        `<td>${escapeHtml(PHASE_NOTE[phase])}</td><td>${escapeHtml(text.explanation)}</td></tr>`
      );
    })
    .join('\n');
  const interqual =
    section.pathway === 'chronic-non-malignant-pain'
      ? ''
      : `<p>${escapeHtml(
          `Medical necessity for ${PATHWAY_LABELS[section.pathway]} is decided by InterQual criteria (${INTERQUAL_NAME}), ` +
            'which are proprietary. This service does not apply them: it checks the documentation the policy asks for.',
        )}</p>`;
  return `<h3>${escapeHtml(`${PATHWAY_LABELS[section.pathway]} (${section.pathway}): ${section.kind}`)}</h3>
${interqual}
<table>
<thead><tr><th>Criterion id</th><th>Check</th><th>Orders</th><th>What the service looks for</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
}

export function renderPolicyPage(): string {
  const p = (text: string) => `<p>${escapeHtml(text)}</p>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(`What this service checks: ${POLICY.label}`)}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.4}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}</style>
</head>
<body>
<h1>${escapeHtml('Intrathecal drug delivery: what this service checks')}</h1>
${p(`Source policy: ${POLICY.title}, policy number ${POLICY.id}, effective ${POLICY.effective}. This page describes in our own words how this decision support service reads that policy; the policy itself is the authority.`)}
<h2>${escapeHtml('Which orders are checked')}</h2>
${p('Draft orders for an intrathecal drug infusion trial (CPT 62320 to 62327, only when the same orders name an intrathecal trial agent such as morphine, hydromorphone, fentanyl, sufentanil, ziconotide, baclofen, bupivacaine or clonidine, and no corticosteroid) and for implanting the catheter or pump (CPT 62350, 62351, 62360, 62361, 62362; HCPCS E0782, E0783). Replacement pumps and other orders get no card. On order-select only the selected orders are checked; on order-sign every draft order is.')}
<h2>${escapeHtml('How the indication is chosen')}</h2>
${p("The order's own reason comes first; otherwise the patient's active diagnoses. When several indications match, cancer-related pain comes before severe spasticity, which comes before chronic non-malignant pain. Without any, the card asks for the diagnosis.")}
<h2>${escapeHtml('What each card shows')}</h2>
${p('One card per checked order: every criterion of its indication as met, not met, not documented (nothing on the record decides it) or not applicable, with the records it rests on. At signing, a card with any gap is a warning; while the order is being composed it is information. The machine-readable result is in the card extension "policy-evaluation".')}
<h2>${escapeHtml('Criteria by indication')}</h2>
${PATHWAY_CRITERIA.map(pathwaySection).join('\n')}
${p('Look-back windows count back from the order date (the order\'s authoredOn, else the day of the request). Orders being placed never count as evidence.')}
</body>
</html>
`;
}
