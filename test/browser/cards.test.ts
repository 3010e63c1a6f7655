/**
 * Every fixture's cards as a clinician sees them in the CDS Hooks sandbox: the service answers the
 * fixture request over HTTP (record fetched from the embedded FHIR server), the cards are rendered
 * in headless Chromium (detail as GitHub Flavored Markdown), and the rendered page is read back.
 * Needs Debian's chromium (.ci/run installs it) or CHROMIUM_PATH; without a browser this suite fails.
 */
import type { Page } from 'puppeteer-core';
import type { Card } from '../../src/cds-hooks/types';
import type { CriterionStatus, PolicyEvaluation } from '../../src/engine/types';
import { loadPacks } from '../../src/packs/load-packs';
import { STATUS_ORDER } from '../../src/presentation/card-text';
import { launchChromium, renderCards, type RenderedCard, type RunningChromium } from '../support/card-browser';
import { readFixtureTable } from '../support/fixture-table';
import { startFixtureService, type FixtureService } from '../support/fixture-service';

/** The fixture requests that yield cards (the others are covered by the HTTP suites). */
const requestNames = [...new Set(readFixtureTable().filter((r) => r.criteria !== 'no card').map((r) => r.request))];

const [pack] = loadPacks();
const markers = pack.manifest.card.markers;

/** The status marks in the order the page shows them. */
function statusSequence(text: string): CriterionStatus[] {
  const byMarker = new Map(STATUS_ORDER.map((status) => [markers[status], status]));
  return [...text].flatMap((ch) => (byMarker.has(ch) ? [byMarker.get(ch)!] : []));
}

let service: FixtureService;
let chromium: RunningChromium;
let page: Page;
const cards = new Map<string, Card[]>();
const rendered = new Map<string, RenderedCard[]>();

beforeAll(async () => {
  service = await startFixtureService();
  chromium = await launchChromium();
  page = await chromium.browser.newPage();
  for (const name of requestNames) {
    const answer = await service.cardsFor(name);
    cards.set(name, answer);
    rendered.set(name, await renderCards(page, answer));
  }
}, 180_000);

afterAll(async () => {
  await chromium?.close();
  await service?.close();
});

/** Markdown syntax that shows up as text when the renderer did not take it as Markdown. */
const RAW_MARKDOWN: Array<[string, RegExp]> = [
  ['emphasis markers', /\*\*|__|(^|\s)[*_]\S/m],
  ['backticks', /`/],
  ['a backslash escape', /\\[\\`*_{}[\]()#+\-.!|<>~]/],
  ['link syntax', /\]\(|\[[^\]]*\]\[/],
  ['a task box', /\[[ xX]\]/],
  ['a heading marker', /^\s*#{1,6}\s/m],
  ['a list marker', /^\s*([-*+]|\d+\.)\s/m],
  ['a table pipe', /\|/],
  ['an HTML tag or entity', /<\/?[a-z][^>]*>|&[a-z]+;|&#\d+;/i],
];

it('renders every card of every fixture that yields cards', () => {
  for (const name of requestNames) {
    expect([name, cards.get(name)!.length > 0]).toEqual([name, true]);
    expect([name, rendered.get(name)!.length]).toEqual([name, cards.get(name)!.length]);
  }
});

describe.each(requestNames)('%s, rendered in Chromium', (name) => {
  it('keeps the summary under 140 characters and within two lines of the card column', () => {
    for (const card of rendered.get(name)!) {
      expect(card.summary.length).toBeLessThan(140);
      expect(card.summaryLines).toBeLessThanOrEqual(2);
    }
  });

  it('shows the gaps first: not met, then to document, then met and not applicable', () => {
    for (const [i, card] of rendered.get(name)!.entries()) {
      const evaluation = cards.get(name)![i].extension!['policy-evaluation'] as PolicyEvaluation;
      const sequence = statusSequence(card.detailText);
      const ranks = sequence.map((status) => STATUS_ORDER.indexOf(status));
      expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
      for (const c of evaluation.criteria) expect(sequence).toContain(c.status);
      const gaps = evaluation.criteria.filter((c) => c.status === 'not-met' || c.status === 'not-documented');
      if (gaps.length > 0) expect([markers['not-met'], markers['not-documented']]).toContain(card.detailItems[0]?.trim().charAt(0));
    }
  });

  it('keeps FHIR and criterion ids out of what the clinician reads, and states the order date once', () => {
    for (const [i, card] of rendered.get(name)!.entries()) {
      const evaluation = cards.get(name)![i].extension!['policy-evaluation'] as PolicyEvaluation;
      const text = `${card.summary}\n${card.detailText}`;
      const ids = [evaluation.order, ...evaluation.criteria.map((c) => c.id), ...evaluation.criteria.flatMap((c) => c.evidence ?? [])];
      expect(ids.filter((id) => text.includes(id))).toEqual([]);
      expect(text).not.toMatch(/\b(ServiceRequest|DeviceRequest|Observation|Condition|Procedure)\//);
      const orderDateLead = pack.manifest.card.orderDate.split('{date}')[0];
      expect(card.detailText.split(orderDateLead)).toHaveLength(2);
    }
  });

  it('leaves no Markdown unrendered in the detail', () => {
    for (const card of rendered.get(name)!) {
      expect(card.detailText.trim()).not.toBe('');
      const found = RAW_MARKDOWN.filter(([, pattern]) => pattern.test(card.detailText)).map(([what]) => what);
      expect(found).toEqual([]);
    }
  });
});

it('links every card to pages that answer 200 in the browser, the policy page among them', async () => {
  const hrefs = new Set([...rendered.values()].flat().flatMap((card) => card.hrefs));
  expect([...hrefs]).toContain(`${service.baseUrl}/policy/2022T0626C`);
  for (const href of hrefs) {
    const response = await page.goto(href, { waitUntil: 'load' });
    expect([href, response?.status()]).toEqual([href, 200]);
    expect(await page.title()).toContain('2022T0626C');
  }
});
