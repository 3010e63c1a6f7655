import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Code } from 'cql-execution';
import { ICD10CM, PolicyCodeService, loadValueSets, matchKeys, readValueSetFile } from './value-sets';

const VALUE_SET_DIR = path.resolve(__dirname, '..', '..', 'policies', '2022T0626C', 'valuesets');
const URL = (id: string) => `http://intrathecal-cds.example.org/fhir/ValueSet/${id}`;
const SNOMED = 'http://snomed.info/sct';

let codes: PolicyCodeService;
beforeAll(() => {
  codes = loadValueSets(VALUE_SET_DIR);
});

function matches(valueSet: string, system: string, code: string): boolean {
  const vs = codes.findValueSet(URL(valueSet));
  expect(vs).not.toBeNull();
  return vs!.hasMatch(new Code(code, system));
}

describe('ICD-10-CM: a listed code matches every code below it (cql/valuesets/README.md)', () => {
  test.each([
    ['pathway-spasticity', 'G35'],
    ['pathway-spasticity', 'G35.A'],
    ['pathway-spasticity', 'G35.B1'],
    ['pathway-spasticity', 'G35.D'],
    ['pathway-spasticity', 'G81.14'],
    ['pathway-spasticity', 'G82.21'],
    ['malignant-neoplasm', 'C50.911'],
    ['malignant-neoplasm', 'C79.51'],
    ['pathway-cnmp', 'G90.511'],
    ['pathway-cnmp', 'M54.16'],
    ['pathway-cnmp', 'G56.42'],
    ['metastases', 'C80.0'],
    ['increased-icp-condition', 'G91.1'],
    ['no-further-treatment', 'Z53.20'],
  ])('%s matches %s', (valueSet, code) => {
    expect(matches(valueSet, ICD10CM, code)).toBe(true);
  });

  test.each([
    ['malignant-neoplasm', 'C44.91', 'C44 (other skin) is excluded from C00-C96'],
    ['malignant-neoplasm', 'C44', 'C44 itself'],
    ['pathway-spasticity', 'G81.01', 'flaccid hemiplegia is not G81.1'],
    ['pathway-spasticity', 'G3', 'a code above a listed one does not match'],
    ['metastases', 'C80.1', 'C80.0 is listed, not C80'],
    ['no-further-treatment', 'Z53.21', 'Z53.20 and Z53.29 are listed, not Z53.2'],
    ['pathway-cnmp', 'G89.3', 'neoplasm-related pain is not chronic non-malignant pain'],
    ['psych-clearance-condition', 'F17.210', 'nicotine dependence does not count'],
    ['psych-clearance-condition', 'F03.90', 'dementia does not count'],
  ])('%s does not match %s (%s)', (valueSet, code) => {
    expect(matches(valueSet, ICD10CM, code)).toBe(false);
  });

  test('matchKeys lists the code and each ancestor down to the 3-character category', () => {
    expect(matchKeys(ICD10CM, 'C50.911')).toEqual([`${ICD10CM}|C50911`, `${ICD10CM}|C5091`, `${ICD10CM}|C509`, `${ICD10CM}|C50`]);
  });
});

describe('other systems match exactly', () => {
  test('SNOMED: the listed code matches, prefixes and extensions do not', () => {
    expect(matches('pathway-spasticity', SNOMED, '221360009')).toBe(true);
    expect(matches('pathway-spasticity', SNOMED, '22136000')).toBe(false);
    expect(matches('pathway-spasticity', SNOMED, '2213600091')).toBe(false);
  });

  test('the same code in another system does not match', () => {
    expect(matches('pathway-spasticity', 'http://example.org/other', '221360009')).toBe(false);
    expect(matches('pathway-spasticity', SNOMED, 'G35')).toBe(false);
    expect(matches('implant-procedure', SNOMED, '62362')).toBe(false);
  });

  test('HCPCS pumps match under both accepted system URIs, replacements do not', () => {
    for (const system of ['https://bluebutton.cms.gov/resources/codesystem/hcpcs', 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets']) {
      expect(matches('implant-device', system, 'E0782')).toBe(true);
      expect(matches('implant-device', system, 'E0783')).toBe(true);
      expect(matches('implant-device', system, 'E0785')).toBe(false);
      expect(matches('implant-device', system, 'E0786')).toBe(false);
    }
  });

  test('a concept matches when any of its codings does', () => {
    const vs = codes.findValueSet(URL('pain-score'))!;
    const concept = { codes: [new Code('8867-4', 'http://loinc.org'), new Code('72514-3', 'http://loinc.org')] };
    expect(vs.hasMatch(concept)).toBe(true);
    expect(vs.hasMatch({ codes: [new Code('8867-4', 'http://loinc.org')] })).toBe(false);
    expect(vs.hasMatch(null)).toBe(false);
  });
});

describe('the minimum codes of criteria.md are present', () => {
  test.each([
    ['pathway-cancer-pain', ICD10CM, 'G89.3'],
    ['pathway-cancer-pain', SNOMED, '315241008'],
    ['pathway-cancer-pain', SNOMED, '735935009'],
    ['pathway-cnmp', ICD10CM, 'M96.1'],
    ['pathway-cnmp', ICD10CM, 'G90.50'],
    ['pathway-cnmp', ICD10CM, 'G90.59'],
    ['pathway-cnmp', ICD10CM, 'G57.73'],
    ['pathway-cnmp', ICD10CM, 'G89.4'],
    ['pathway-cnmp', ICD10CM, 'G89.21'],
    ['pathway-cnmp', ICD10CM, 'G89.22'],
    ['pathway-cnmp', ICD10CM, 'G89.28'],
    ['pathway-cnmp', ICD10CM, 'G89.29'],
    ['pathway-cnmp', ICD10CM, 'M54.10'],
    ['pathway-cnmp', ICD10CM, 'M54.18'],
    ['pathway-cnmp', ICD10CM, 'M79.2'],
    ['pathway-cnmp', SNOMED, '82423001'],
    ['pathway-cnmp', SNOMED, '247398009'],
    ['pathway-cnmp', SNOMED, '128200000'],
    ['pathway-spasticity', SNOMED, '221360009'],
    ['pathway-spasticity', ICD10CM, 'G80.0'],
    ['pathway-spasticity', ICD10CM, 'G80.2'],
    ['pathway-spasticity', ICD10CM, 'G82.50'],
    ['pathway-spasticity', ICD10CM, 'G11.4'],
    ['malignant-neoplasm', SNOMED, '363346000'],
    ['metastases', SNOMED, '128462008'],
    ['metastases', SNOMED, '94222008'],
    ['increased-icp-condition', SNOMED, '271719001'],
    ['icp-observation', 'http://loinc.org', '60956-0'],
    ['icp-observation', SNOMED, '250844005'],
    ['prognosis-observation', 'http://loinc.org', '75328-5'],
    ['functional-status-observation', SNOMED, '273302005'],
    ['functional-status-observation', SNOMED, '273469003'],
    ['functional-status-observation', 'http://loinc.org', '10158-4'],
    ['modified-ashworth-scale', SNOMED, '765771006'],
    ['pain-score', 'http://loinc.org', '72514-3'],
    ['pain-score', 'http://loinc.org', '38208-5'],
    ['no-further-treatment', ICD10CM, 'Z53.09'],
    ['no-further-treatment', ICD10CM, 'Z53.1'],
    ['no-further-treatment', ICD10CM, 'Z53.29'],
    ['no-further-treatment', SNOMED, '183932001'],
    ['no-further-treatment', SNOMED, '183944003'],
    ['physical-therapy', 'http://www.ama-assn.org/go/cpt', '97110'],
    ['physical-therapy', 'http://www.ama-assn.org/go/cpt', '97164'],
    ['physical-therapy', SNOMED, '91251008'],
    ['psychotherapy', 'http://www.ama-assn.org/go/cpt', '90832'],
    ['psychotherapy', 'http://www.ama-assn.org/go/cpt', '90834'],
    ['psychotherapy', 'http://www.ama-assn.org/go/cpt', '90837'],
    ['psychotherapy', SNOMED, '75516001'],
    ['psychological-evaluation', 'http://www.ama-assn.org/go/cpt', '90791'],
    ['psychological-evaluation', 'http://www.ama-assn.org/go/cpt', '90792'],
    ['psychological-evaluation', 'http://www.ama-assn.org/go/cpt', '96130'],
    ['psychological-evaluation', 'http://www.ama-assn.org/go/cpt', '96131'],
    ['psychological-evaluation', SNOMED, '10197000'],
    ['psych-screening-observation', 'http://loinc.org', '44249-1'],
    ['psych-screening-observation', 'http://loinc.org', '69737-5'],
    ['psych-screening-observation', 'http://loinc.org', '72109-2'],
    ['psych-screening-observation', 'http://loinc.org', '82667-7'],
    ['intrathecal-trial-agent', 'http://www.nlm.nih.gov/research/umls/rxnorm', '7052'],
  ])('%s contains %s %s', (valueSet, system, code) => {
    expect(matches(valueSet, system, code)).toBe(true);
  });

  test.each(['62320', '62321', '62322', '62323', '62324', '62325', '62326', '62327'])('trial-procedure contains CPT %s', (code) => {
    expect(matches('trial-procedure', 'http://www.ama-assn.org/go/cpt', code)).toBe(true);
  });

  test.each(['62350', '62351', '62360', '62361', '62362'])('implant-procedure contains CPT %s', (code) => {
    expect(matches('implant-procedure', 'http://www.ama-assn.org/go/cpt', code)).toBe(true);
  });

  test.each(['F10.20', 'F16.10', 'F18.10', 'F19.20', 'F20.9', 'F29', 'F32.1', 'F39', 'F41.1', 'F48.9', 'F60.3'])(
    'psych-clearance-condition contains %s',
    (code) => {
      expect(matches('psych-clearance-condition', ICD10CM, code)).toBe(true);
    },
  );
});

describe('loading', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'value-sets-'));
  });
  afterEach(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const write = (name: string, content: unknown) => {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  };
  const valueSet = (include: unknown) => ({ resourceType: 'ValueSet', url: 'http://example.org/vs', version: '1', compose: { include } });

  test('every value set the project keeps is loaded under its canonical URL', () => {
    const files = fs.readdirSync(VALUE_SET_DIR).filter((f) => f.endsWith('.json'));
    expect(codes.urls).toHaveLength(files.length);
    for (const f of files) expect(codes.findValueSet(URL(path.basename(f, '.json')))).not.toBeNull();
  });

  test('findValueSetsByOid answers the cql-execution code-service lookup', () => {
    expect(codes.findValueSetsByOid(URL('pain-score'))).toHaveLength(1);
    expect(codes.findValueSetsByOid('http://example.org/unknown')).toEqual([]);
  });

  test.each<[string, unknown]>([
    ['not JSON', '{ "resourceType": '],
    ['not a ValueSet', { resourceType: 'CodeSystem', url: 'http://example.org/cs' }],
    ['a ValueSet without url', { resourceType: 'ValueSet' }],
    ['an include without a concept list', valueSet([{ system: 'http://loinc.org', filter: [{ property: 'x', op: '=', value: 'y' }] }])],
    ['a concept without a code', valueSet([{ system: 'http://loinc.org', concept: [{ display: 'no code' }] }])],
    ['no codes at all', valueSet([])],
  ])('a file that is %s is refused with its path', (_name, content) => {
    const file = write('broken.json', content);
    expect(() => readValueSetFile(file)).toThrow(file);
    expect(() => loadValueSets(tmp)).toThrow(file);
  });

  test('a folder that does not exist is refused with its path', () => {
    const missing = path.join(tmp, 'missing');
    expect(() => loadValueSets(missing)).toThrow(missing);
  });

  test('files that are not .json are not read', () => {
    write('notes.md', '# not a value set');
    write('ok.json', valueSet([{ system: 'http://loinc.org', concept: [{ code: '72514-3' }] }]));
    expect(loadValueSets(tmp).urls).toEqual(['http://example.org/vs']);
  });
});
