import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPacks } from '../packs/load-packs';
import { loadServiceCatalog } from './service-definitions';

const [pack] = loadPacks();
const packWithHooks = (dir: string) => [{ ...pack, hooksDir: dir }];

function dirWith(files: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hooks-defs-'));
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

// The pack's own order-sign file under another id: its prefetch adjustments fit the pack's CQL.
const valid = { ...JSON.parse(fs.readFileSync(path.join(pack.hooksDir, fs.readdirSync(pack.hooksDir).sort()[1]), 'utf8')), id: 'svc' };

describe('loadServiceCatalog', () => {
  it('loads the project hooks/*.json and serves them as the discovery response', () => {
    const catalog = loadServiceCatalog(loadPacks());
    const ids = JSON.parse(catalog.discoveryJson).services.map((s: { id: string }) => s.id);
    expect(ids).toEqual(['intrathecal-pump-order-select', 'intrathecal-pump-order-sign']);
    expect(catalog.get('intrathecal-pump-order-sign')?.templates.get('patient')?.source).toBe('Patient/{{context.patientId}}');
    expect(catalog.get('nope')).toBeUndefined();
  });

  it.each([
    ['an unknown hook', { ...valid, hook: 'patient-view' }, /"hook" must be one of/],
    ['a missing title', { ...valid, title: undefined }, /"title" is required/],
    ['a prefetch that is not a query', { ...valid, prefetch: { patient: 7 } }, /prefetch "patient" must be a query string/],
    ['an unknown prefetch token', { ...valid, prefetch: { patient: 'Patient/{{context.nope}}' } }, /unsupported token/],
  ])('stops startup on %s', (_name, definition, message) => {
    expect(() => loadServiceCatalog(packWithHooks(dirWith({ 'svc.json': definition })))).toThrow(message);
  });

  it('stops startup on invalid JSON and on duplicate ids', () => {
    expect(() => loadServiceCatalog(packWithHooks(dirWith({ 'a.json': '{' })))).toThrow();
    expect(() => loadServiceCatalog(packWithHooks(dirWith({ 'a.json': valid, 'b.json': valid })))).toThrow(/duplicate service id "svc"/);
  });
});
