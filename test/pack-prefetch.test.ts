/**
 * Every pack's prefetch brings every code its CQL's retrieves filter on (issue 8: the hand-copied Observation list
 * once missed 7 codes). Read independently of the derivation: the retrieves straight from the ELM JSON, the codes
 * straight from the value set files, the templates from the discovery response.
 */
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { createApp } from '../src/app';
import { silentLogger } from '../src/cds-hooks/logger';
import { loadPacks } from '../src/packs/load-packs';
import { PROJECT_ROOT } from '../src/project-root';
import { RecordingEngine, testConfig } from './cds-hooks/helpers';

const ELM_DIR = path.join(PROJECT_ROOT, 'build', 'elm');
const packs = loadPacks({ roots: [path.join(PROJECT_ROOT, 'policies'), path.join(PROJECT_ROOT, 'test', 'packs')] });

type Node = Record<string, unknown>;

function* retrieves(node: unknown): Generator<Node> {
  if (Array.isArray(node)) for (const item of node) yield* retrieves(item);
  else if (node && typeof node === 'object') {
    if ((node as Node).type === 'Retrieve') yield node as Node;
    for (const value of Object.values(node)) yield* retrieves(value);
  }
}

/** Resource type -> codes (`system|code`) some retrieve of it filters on, or null when one reads them all. */
function codesRetrieved(packDir: string, library: string): Map<string, Set<string> | null> {
  const elm = JSON.parse(fs.readFileSync(path.join(ELM_DIR, `${library}.json`), 'utf8'));
  const valueSetUrls = new Map<string, string>((elm.library.valueSets?.def ?? []).map((d: Node) => [d.name, d.id]));
  const valueSetFiles = fs.readdirSync(path.join(packDir, 'valuesets')).filter((f) => f.endsWith('.json'));
  const codesOf = new Map<string, string[]>(
    valueSetFiles.map((f) => {
      const vs = JSON.parse(fs.readFileSync(path.join(packDir, 'valuesets', f), 'utf8'));
      const codes = vs.compose.include.flatMap((inc: { system: string; concept: Array<{ code: string }> }) => inc.concept.map((c) => `${inc.system}|${c.code}`));
      return [vs.url, codes];
    }),
  );
  const byType = new Map<string, Set<string> | null>();
  for (const r of retrieves(elm.library.statements)) {
    const type = String(r.dataType).replace('{http://hl7.org/fhir}', '');
    const codes = r.codes as Node | undefined;
    const url = codes?.type === 'ValueSetRef' ? valueSetUrls.get(codes.name as string) : undefined;
    if (!url) byType.set(type, null);
    else if (byType.get(type) !== null) byType.set(type, new Set([...(byType.get(type) ?? []), ...(codesOf.get(url) ?? ['(value set missing)'])]));
  }
  return byType;
}

describe.each(packs.map((p) => [p.id, p] as const))('pack %s', (_id, pack) => {
  const app = createApp({ engine: new RecordingEngine(), packs: [pack], config: testConfig(), logger: silentLogger });
  afterAll(() => app.closeResources());

  it('prefetches every code its retrieves filter on, in every service', async () => {
    const services = (await request(app).get('/cds-services').expect(200)).body.services as Array<{ id: string; prefetch: Record<string, string> }>;
    expect(services.length).toBeGreaterThan(0);
    const needed = codesRetrieved(pack.dir, pack.manifest.cql.library);
    for (const service of services) {
      for (const [type, codes] of needed) {
        const templates = Object.values(service.prefetch).filter((t) => t.startsWith(`${type}?`) || t.startsWith(`${type}/`));
        if (templates.length === 0) {
          // Left out on purpose (prefetchExclude): only a type read without a code filter may be.
          expect([service.id, type, codes]).toEqual([service.id, type, null]);
          continue;
        }
        const fetched = templates.flatMap((t) => {
          const code = new URLSearchParams(t.slice(t.indexOf('?') + 1)).get('code');
          return code === null || t.includes('/') && !t.includes('?') ? ['*'] : code.split(',');
        });
        if (fetched.includes('*')) continue;
        expect(codes).not.toBeNull();
        const missed = [...(codes ?? [])].filter((c) => !fetched.includes(c));
        expect([service.id, type, missed]).toEqual([service.id, type, []]);
      }
    }
  });
});
