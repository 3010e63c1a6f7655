/**
 * `npm run screenshots`: the cards of three representative fixtures as the CDS Hooks sandbox shows
 * them (headless Chromium, detail rendered as GitHub Flavored Markdown), saved as PNGs in docs/.
 * Needs `npm run build:cql` (the ELM) and Chromium (see test/support/card-browser.ts).
 */
import { join } from 'node:path';
import { launchChromium, renderCards, screenshotCards } from '../test/support/card-browser';
import { startFixtureService } from '../test/support/fixture-service';

const SHOTS: Array<{ request: string; file: string }> = [
  { request: 'cnmp-trial-gaps', file: 'card-cnmp-trial-gaps.png' },
  { request: 'cnmp-implant-met', file: 'card-cnmp-implant-met.png' },
  { request: 'spasticity-implant-nopain', file: 'card-spasticity-implant.png' },
];

async function main(): Promise<void> {
  const service = await startFixtureService();
  const chromium = await launchChromium();
  try {
    const page = await chromium.browser.newPage();
    for (const shot of SHOTS) {
      await renderCards(page, await service.cardsFor(shot.request));
      const path = join(__dirname, '..', 'docs', shot.file);
      await screenshotCards(page, path);
      console.log(`${shot.request} -> docs/${shot.file}`);
    }
  } finally {
    await chromium.close();
    await service.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
