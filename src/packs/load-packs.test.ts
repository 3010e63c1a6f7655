import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../project-root';
import { loadPack, loadPacks } from './load-packs';

const POLICIES = path.join(PROJECT_ROOT, 'policies');
const ELM_DIR = path.join(PROJECT_ROOT, 'build', 'elm');
const [real] = loadPacks();
const library = real.manifest.cql.library;

/** A copy of the real pack with its pack.json changed by `edit`, in a temp root. */
function packCopy(edit: (manifest: Record<string, any>) => void): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pack-'));
  const dir = path.join(root, real.id);
  fs.cpSync(real.dir, dir, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'pack.json'), 'utf8'));
  edit(manifest);
  fs.writeFileSync(path.join(dir, 'pack.json'), JSON.stringify(manifest));
  return dir;
}

/** An ELM folder whose library has the given parameter defaults changed. */
function elmWith(defaults: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'elm-'));
  fs.cpSync(ELM_DIR, dir, { recursive: true });
  const elm = JSON.parse(fs.readFileSync(path.join(ELM_DIR, `${library}.json`), 'utf8'));
  for (const def of elm.library.parameters.def) if (def.name in defaults) def.default = defaults[def.name];
  fs.writeFileSync(path.join(dir, `${library}.json`), JSON.stringify(elm));
  return dir;
}

describe('loadPacks', () => {
  it('finds every pack under policies/ and derives its criteria from the CQL', () => {
    const packs = loadPacks({ roots: [POLICIES] });
    expect(packs.map((p) => p.id)).toEqual(fs.readdirSync(POLICIES).filter((d) => fs.existsSync(path.join(POLICIES, d, 'pack.json'))).sort());
    for (const pack of packs) {
      expect(pack.criteria.size).toBe(pack.pathways.length);
      for (const byPhase of pack.criteria.values()) expect([...byPhase.keys()]).toEqual(pack.phases);
      expect(pack.pagePath).toBe(`/policy/${pack.id}`);
    }
  });

  it('quotes the CQL parameters in the texts, so a changed window changes the text', () => {
    expect(real.manifest.criteria['icp-documented'].explanation).toMatch(/in the last 12 months\.$/);
    expect(real.manifest.criteria['cnmp-trial-pain-reduction-50'].title).toBe('Pain reduced by at least 50% during the trial');
    const changed = loadPack(real.dir, {
      elmDir: elmWith({
        'Documentation Lookback': { type: 'Quantity', value: 18, unit: 'months' },
        'Minimum Pain Reduction': { type: 'Literal', valueType: '{urn:hl7-org:elm-types:r1}Decimal', value: '0.3' },
      }),
    });
    expect(changed.manifest.criteria['icp-documented'].explanation).toMatch(/in the last 18 months\.$/);
    expect(changed.manifest.criteria['cnmp-trial-pain-reduction-50'].title).toBe('Pain reduced by at least 30% during the trial');
  });

  it('quotes a value set by its CQL name as the names of its concepts, so the text follows the value set', () => {
    const text = JSON.stringify(real.manifest);
    expect(text).toContain('morphine, hydromorphone, fentanyl');
    expect(text).toMatch(/ or ziconotide/);
    expect(text).not.toContain('{Intrathecal Trial Agent');
  });

  it('binds deployment settings to CQL parameters, from the environment', () => {
    const [name, setting] = Object.entries(real.manifest.settings)[0];
    expect(real.deploymentParameters[setting.parameter]).toBe(setting.default);
    const flipped = loadPack(real.dir, { env: { [name]: setting.default ? 'false' : 'true' } });
    expect(flipped.deploymentParameters[setting.parameter]).toBe(!setting.default);
    expect(() => loadPack(real.dir, { env: { [name]: 'perhaps' } })).toThrow(new RegExp(name));
  });

  it.each<[string, (m: Record<string, any>) => void, RegExp]>([
    ['a missing title', (m) => delete m.title, /pack\.json: \/ must have required property 'title'/],
    ['an id that is not the folder name', (m) => (m.id = 'other'), /id "other" must be the folder's name/],
    ['an unknown parameter in a text', (m) => (m.criteria['age-18'].title = 'Over {Age Limit}'), /criteria\.age-18\.title: \{Age Limit\} is not a parameter/],
    ['a criterion of the CQL without text', (m) => delete m.criteria['age-18'], /no text for criterion "age-18"/],
    ['a text for a criterion the CQL does not have', (m) => (m.criteria.extra = { title: 'x', explanation: 'y' }), /"extra" is not a criterion of the CQL/],
    ['a setting bound to no parameter', (m) => (Object.values(m.settings)[0] as { parameter: string }).parameter = 'Nope', /the CQL has no parameter "Nope"/],
    ['a missing library', (m) => (m.cql.library = 'NoSuchLibrary'), /NoSuchLibrary\.json not found: run `npm run build:cql`/],
    ['a pathway the CQL compares with that the pack lacks', (m) => delete m.pathways.spasticity, /'spasticity' is neither a pathway nor a phase/],
  ])('stops startup on %s, naming the file and field', (_name, edit, message) => {
    expect(() => loadPack(packCopy(edit), { elmDir: ELM_DIR })).toThrow(message);
  });
});
