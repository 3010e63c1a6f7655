/**
 * The page every card of a pack links to (`GET /policy/<pack id>`): what this service checks for the policy, in the
 * pack's words, with the criteria of each pathway and phase as the CQL evaluates them. Rendered once at startup;
 * every piece of text is HTML-escaped.
 */
import { formatParameter } from '../packs/elm-parameters';
import { criterionRequirements, type CriterionRequirements } from '../packs/criterion-requirements';
import type { PolicyPack } from '../packs/load-packs';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]);
}

/** Each criterion of a pathway once, in the CQL's order, with the phases it applies to. */
function pathwayCriteria(pack: PolicyPack, pathway: string): Array<{ id: string; phases: string[] }> {
  const rows = new Map<string, string[]>();
  for (const [phase, ids] of pack.criteria.get(pathway) ?? []) {
    for (const id of ids) rows.set(id, [...(rows.get(id) ?? []), phase]);
  }
  return [...rows].map(([id, phases]) => ({ id, phases }));
}

function phaseNote(pack: PolicyPack, phases: string[]): string {
  if (phases.length === pack.phases.length) return pack.manifest.allPhases;
  return phases.map((p) => pack.manifest.phases[p].only).join(', ');
}

function pathwaySection(pack: PolicyPack, pathway: string): string {
  const texts = pack.manifest;
  const rows = pathwayCriteria(pack, pathway)
    .map(({ id, phases }) => {
      const text = texts.criteria[id];
      return (
        `<tr><td><code>${escapeHtml(id)}</code></td><td><a href="#criterion-${escapeHtml(id)}">${escapeHtml(text.title)}</a></td>` +
        `<td>${escapeHtml(phaseNote(pack, phases))}</td><td>${escapeHtml(text.explanation)}</td></tr>`
      );
    })
    .join('\n');
  const { label, kind, externalCriteria } = texts.pathways[pathway];
  const external = externalCriteria && texts.externalCriteria ? `<p>${escapeHtml(texts.externalCriteria.page.replace(/\{pathway\}/g, label))}</p>` : '';
  return `<h3>${escapeHtml(`${label} (${pathway}): ${kind ?? ''}`)}</h3>
${external}
<table>
<thead><tr><th>Criterion id</th><th>Check</th><th>Orders</th><th>What the service looks for</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
}

/** Criterion ids in the order the pathways first list them. */
function criteriaInPageOrder(pack: PolicyPack): string[] {
  const ids = new Set<string>();
  for (const pathway of pack.pathways) for (const { id } of pathwayCriteria(pack, pathway)) ids.add(id);
  return [...ids];
}

function criterionDetail(pack: PolicyPack, id: string, reads: CriterionRequirements | undefined): string {
  const texts = pack.manifest;
  const labels = texts.page.criterionDetails;
  const windows = (reads?.parameters ?? []).map(({ name, value }) => `${name}: ${formatParameter(value) ?? ''}`);
  const systemName = (system: string) => texts.codeSystemNames[system] ?? system;
  const valueSets = (reads?.valueSets ?? []).map((vs) => {
    const count = vs.codes.reduce((n, c) => n + c.concepts.length, 0);
    const items = vs.codes
      .flatMap(({ system, concepts }) =>
        concepts.map((c) => `<li>${escapeHtml(`${systemName(system)} ${c.code}${c.display ? `: ${c.display}` : ''}`)}</li>`),
      )
      .join('');
    const countText = labels.codeCount.replace('{count}', String(count));
    return `<details><summary>${escapeHtml(`${vs.title} (${countText})`)}</summary><ul>${items}</ul></details>`;
  });
  return `<h3 id="criterion-${escapeHtml(id)}">${escapeHtml(texts.criteria[id].title)}</h3>
<p><strong>${escapeHtml(labels.contains)}:</strong> ${escapeHtml(texts.criteria[id].explanation)}</p>
<p><strong>${escapeHtml(labels.windows)}:</strong> ${escapeHtml(windows.length > 0 ? windows.join('; ') : labels.noWindows)}</p>
<p><strong>${escapeHtml(labels.codes)}:</strong>${valueSets.length > 0 ? '' : ` ${escapeHtml(labels.noCodes)}`}</p>
${valueSets.join('\n')}`;
}

export function renderPolicyPage(pack: PolicyPack): string {
  const texts = pack.manifest;
  const p = (text: string) => `<p>${escapeHtml(text)}</p>`;
  const sections = texts.page.sections
    .map((s) => [...(s.heading ? [`<h2>${escapeHtml(s.heading)}</h2>`] : []), ...s.paragraphs.map(p)].join('\n'))
    .join('\n');
  const pathways = pack.pathways.filter((id) => !texts.pathways[id].undetermined);
  const requirements = criterionRequirements(pack);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(`What this service checks: ${texts.label}`)}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.4}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}details{margin:.2em 0 .2em 1em}details ul{columns:2;font-size:.9em}</style>
</head>
<body>
<h1>${escapeHtml(texts.page.heading)}</h1>
${sections}
<h2>${escapeHtml(texts.page.criteriaHeading)}</h2>
${pathways.map((id) => pathwaySection(pack, id)).join('\n')}
${texts.page.closing.map(p).join('\n')}
<h2>${escapeHtml(texts.page.criterionDetails.heading)}</h2>
${p(texts.page.criterionDetails.intro)}
${criteriaInPageOrder(pack).map((id) => criterionDetail(pack, id, requirements.get(id))).join('\n')}
</body>
</html>
`;
}
