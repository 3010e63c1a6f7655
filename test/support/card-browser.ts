/// <reference lib="dom" />
/**
 * Cards rendered the way the CDS Hooks sandbox shows them, in a real browser: Debian's chromium
 * driven by puppeteer-core, the card's `detail` turned from GitHub Flavored Markdown into HTML by
 * `marked` inside the page (the sandbox renders Markdown client-side too), summary, source,
 * suggestions, links and override reasons laid out like its card list. Used by the browser test and
 * by `npm run screenshots`.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { Card } from '../../src/cds-hooks/types';

/** Headless, no sandbox (CI runs as root), and nothing that reaches the network on its own. */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Width of the sandbox's card column, in CSS pixels. */
export const CARD_COLUMN_WIDTH = 600;

/** CHROMIUM_PATH, else Debian's chromium (installed by .ci/run). */
export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(
      `no Chromium at ${path}: the browser tests need a real browser. Install Debian's chromium ` +
        '(apt-get install -y chromium, as .ci/run does) or set CHROMIUM_PATH to a Chromium or Chrome binary.',
    );
  }
  return path;
}

export interface RunningChromium {
  browser: Browser;
  close(): Promise<void>;
}

/** A fresh profile per launch, removed on close. */
export async function launchChromium(): Promise<RunningChromium> {
  const executablePath = chromiumPath();
  const profile = mkdtempSync(join(tmpdir(), 'cds-chromium-'));
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`],
  });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const MARKED_UMD = join(dirname(require.resolve('marked/package.json')), 'lib', 'marked.umd.js');

/** A card column in the sandbox's look: white cards, a coloured edge by indicator, buttons for actions. */
const PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>cards</title>
<style>
body { margin: 0; padding: 16px; background: #f4f4f4; font: 14px/1.45 "Liberation Sans", "DejaVu Sans", sans-serif; color: #1c1f21; }
#cards { width: ${CARD_COLUMN_WIDTH}px; }
.card { background: #fff; border: 1px solid #dedfe0; border-left: 6px solid #0065a3; border-radius: 3px; padding: 12px 16px; margin-bottom: 12px; }
.card.warning { border-left-color: #d9a400; }
.card.critical { border-left-color: #c00; }
.summary { font-size: 16px; font-weight: bold; margin: 0 0 4px; }
.source { color: #64696c; font-size: 12px; margin-bottom: 8px; }
.detail p { margin: 6px 0; }
.detail ul { margin: 4px 0; padding-left: 22px; }
.detail li { margin: 2px 0; }
.actions button { font: inherit; margin: 8px 8px 0 0; padding: 4px 10px; border: 1px solid #0065a3; background: #fff; color: #0065a3; border-radius: 3px; }
.overrides { color: #64696c; font-size: 12px; margin-top: 8px; }
.overrides li { display: inline; margin-right: 12px; }
</style></head><body><div id="cards"></div></body></html>`;

/** What the page shows for one card, read back from the DOM. */
export interface RenderedCard {
  summary: string;
  /** Lines the summary takes in the card column. */
  summaryLines: number;
  /** The detail's visible text. */
  detailText: string;
  /** The text of each list item of the detail, in page order. */
  detailItems: string[];
  /** Every href on the card (source, links, links inside the detail). */
  hrefs: string[];
}

export async function renderCards(page: Page, cards: Card[]): Promise<RenderedCard[]> {
  await page.setViewport({ width: CARD_COLUMN_WIDTH + 32, height: 400, deviceScaleFactor: 1 });
  await page.setContent(PAGE, { waitUntil: 'load' });
  await page.addScriptTag({ path: MARKED_UMD });
  // tsx (esbuild) wraps named functions in a `__name` helper that exists only in Node; the page needs its own.
  await page.evaluate('globalThis.__name = (fn) => fn');
  return page.evaluate((cardList: Card[]) => {
    const md = (window as unknown as { marked: { parse(text: string, options: object): string } }).marked;
    const column = document.getElementById('cards')!;
    const el = (tag: string, className?: string, text?: string): HTMLElement => {
      const node = document.createElement(tag);
      if (className) node.className = className;
      if (text !== undefined) node.textContent = text;
      return node;
    };
    const rendered = cardList.map((card) => {
      const box = el('div', `card ${card.indicator}`);
      const summary = el('div', 'summary', card.summary);
      box.append(summary);
      const source = el('div', 'source', 'Source: ');
      const sourceLink = el('a', undefined, card.source.label) as HTMLAnchorElement;
      if (card.source.url) sourceLink.href = card.source.url;
      source.append(sourceLink);
      box.append(source);
      const detail = el('div', 'detail');
      detail.innerHTML = md.parse(card.detail ?? '', { gfm: true, breaks: false });
      box.append(detail);
      const actions = el('div', 'actions');
      for (const s of card.suggestions ?? []) actions.append(el('button', undefined, s.label));
      for (const link of card.links ?? []) {
        const a = el('a', undefined) as HTMLAnchorElement;
        a.href = link.url;
        a.append(el('button', undefined, link.label));
        actions.append(a);
      }
      box.append(actions);
      if (card.overrideReasons?.length) {
        const overrides = el('ul', 'overrides');
        overrides.append(el('li', undefined, 'Dismiss:'));
        for (const reason of card.overrideReasons) overrides.append(el('li', undefined, reason.display ?? reason.code ?? ''));
        box.append(overrides);
      }
      column.append(box);
      return { box, summary, detail };
    });
    return rendered.map(({ box, summary, detail }) => {
      const lineHeight = parseFloat(getComputedStyle(summary).lineHeight);
      return {
        summary: summary.textContent ?? '',
        summaryLines: Math.round(summary.getBoundingClientRect().height / lineHeight),
        detailText: detail.innerText,
        detailItems: Array.from(detail.querySelectorAll('li')).map((li) => (li as HTMLElement).innerText),
        hrefs: Array.from(box.querySelectorAll('a[href]')).map((a) => (a as HTMLAnchorElement).href),
      };
    });
  }, cards);
}

/** A PNG of the whole card column. */
export async function screenshotCards(page: Page, path: string): Promise<void> {
  const column = await page.$('#cards');
  if (!column) throw new Error('no card column on the page');
  await column.screenshot({ path: path as `${string}.png` });
}
