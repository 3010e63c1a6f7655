/**
 * Our FHIRHelpers 4.0.1 (cql/fhirhelpers/FHIRHelpers.core.cql + generated ToString overloads), evaluated through
 * test/cql/FHIRHelpersTest.cql with cql-execution exactly as the engine loads and runs ELM. Expected values follow
 * the FHIR R4 data types and the CQL specification (interval boundary and null semantics).
 * Needs `npm run build:cql` (build/elm/FHIRHelpersTest.json).
 */
import path from 'node:path';
import type { Patient, Resource } from 'fhir/r4';
import { Code, Concept, DateTime, Executor, Interval, Quantity, Ratio } from 'cql-execution';
import { loadElmLibrary } from './elm';
import { fhirModel } from './fhir-model';
import { RecordSource, SinglePatient } from './record-source';

const ELM_DIR = path.resolve(__dirname, '..', '..', 'build', 'elm');
const UCUM = 'http://unitsofmeasure.org';

const ucum = (value: number, code: string) => ({ value, unit: code, system: UCUM, code });
const observation = (id: string, fields: Record<string, unknown>): Resource =>
  ({ resourceType: 'Observation', id, status: 'final', subject: { reference: 'Patient/fh-patient' }, ...fields }) as Resource;

const patient: Patient = { resourceType: 'Patient', id: 'fh-patient', birthDate: '1970-04-12' };
const record: Resource[] = [
  patient,
  observation('period-both', {
    code: { coding: [{ system: 'http://loinc.org', code: '72514-3', display: 'Pain severity' }], text: 'Pain score' },
    effectivePeriod: { start: '2026-01-01T00:00:00.000Z', end: '2026-01-31T00:00:00.000Z' },
    issued: '2026-02-01T08:05:00.250Z',
    valueQuantity: { value: 7, unit: 'score', system: UCUM, code: '{score}' },
  }),
  observation('period-no-start', { code: { text: 'no start' }, effectivePeriod: { end: '2026-01-31T00:00:00.000Z' } }),
  observation('period-no-end', { code: { text: 'no end' }, effectivePeriod: { start: '2026-01-01T00:00:00.000Z' } }),
  observation('effective-datetime', { code: { text: 'point in time' }, effectiveDateTime: '2026-03-15T10:30:00Z' }),
  observation('value-range', { code: { text: 'range' }, valueRange: { low: ucum(1.5, 'mg'), high: ucum(3, 'mg') } }),
];

let library: ConstructorParameters<typeof Executor>[0];
beforeAll(() => {
  library = loadElmLibrary(ELM_DIR, 'FHIRHelpersTest').library;
});

function dateTime(iso: string): DateTime {
  const parsed = DateTime.parse(iso);
  if (!parsed) throw new Error(`not a DateTime: ${iso}`);
  return parsed;
}

async function evaluate(expression: string): Promise<unknown> {
  const executor = new Executor(library);
  const source = new SinglePatient(new RecordSource(fhirModel(), record));
  const results = await executor.exec_expression(expression, source, dateTime('2026-03-01T12:00:00.000Z'));
  const values = results.patientResults[patient.id!] as Record<string, unknown> | undefined;
  if (!values || !(expression in values)) throw new Error(`no result for "${expression}"`);
  return values[expression];
}

/** Value equality in CQL terms (same precision and instant), not JS object identity. */
function expectSameDateTime(actual: unknown, iso: string): void {
  expect(actual).toBeInstanceOf(DateTime);
  expect((actual as DateTime).isDateTime).toBe(true);
  expect((actual as DateTime).sameAs(dateTime(iso))).toBe(true);
  expect((actual as DateTime).getPrecision()).toBe(dateTime(iso).getPrecision());
}

/** A DateTime interval; a null bound is given as null. */
function expectDateTimeInterval(actual: unknown, low: string | null, high: string | null, lowClosed: boolean, highClosed: boolean): void {
  expect(actual).toBeInstanceOf(Interval);
  const interval = actual as Interval;
  expect({ lowClosed: interval.lowClosed, highClosed: interval.highClosed }).toEqual({ lowClosed, highClosed });
  for (const [bound, want] of [[interval.low, low], [interval.high, high]] as const) {
    if (want === null) expect(bound).toBeNull();
    else expectSameDateTime(bound, want);
  }
}

function expectQuantity(actual: unknown, value: number, unit: string): void {
  expect(actual).toBeInstanceOf(Quantity);
  expect({ value: (actual as Quantity).value, unit: (actual as Quantity).unit }).toEqual({ value, unit });
}

describe('ToInterval(Period) on Observation.effectivePeriod', () => {
  test('a period with both ends is closed at both ends', async () => {
    expectDateTimeInterval(await evaluate('Period Both Ends'), '2026-01-01T00:00:00.000Z', '2026-01-31T00:00:00.000Z', true, true);
  });

  test('a period without a start is open (unknown) at the start', async () => {
    expectDateTimeInterval(await evaluate('Period No Start'), null, '2026-01-31T00:00:00.000Z', false, true);
    // Unknown start: a point before the end may or may not be in the period; a point after the end is not.
    expect(await evaluate('Period No Start Before End Unknown')).toBeNull();
    expect(await evaluate('Period No Start After End')).toBe(false);
  });

  test('a period without an end is closed with a null end, i.e. ongoing', async () => {
    expectDateTimeInterval(await evaluate('Period No End'), '2026-01-01T00:00:00.000Z', null, true, true);
    expect(await evaluate('Period No End Includes 2030')).toBe(true);
  });

  test('no Period (effective[x] is a dateTime) gives null', async () => {
    expect(await evaluate('Period Null')).toBeNull();
  });
});

describe('ToInterval(Range)', () => {
  test('Observation.valueRange becomes a closed interval of quantities', async () => {
    const interval = (await evaluate('Range Both Ends')) as Interval;
    expect(interval).toBeInstanceOf(Interval);
    expect({ lowClosed: interval.lowClosed, highClosed: interval.highClosed }).toEqual({ lowClosed: true, highClosed: true });
    expectQuantity(interval.low, 1.5, 'mg');
    expectQuantity(interval.high, 3, 'mg');
  });

  test('a null range gives null', async () => {
    expect(await evaluate('Range Null')).toBeNull();
  });
});

describe('ToQuantity', () => {
  test('a UCUM quantity takes the UCUM code as its unit (not the human-readable unit)', async () => {
    expectQuantity(await evaluate('Quantity UCUM'), 5.5, 'mg');
    expect(await evaluate('Quantity UCUM Compares')).toBe(true);
  });

  test('a quantity coded in another system is unitless (unit 1)', async () => {
    expectQuantity(await evaluate('Quantity Non-UCUM System'), 3, '1');
  });

  test('a quantity without a value, and a null quantity, give null', async () => {
    expect(await evaluate('Quantity No Value')).toBeNull();
    expect(await evaluate('Quantity Null')).toBeNull();
  });

  test('a quantity with a comparator (a bound, not a value) gives null', async () => {
    expect(await evaluate('Quantity With Comparator')).toBeNull();
  });
});

describe('ToRatio', () => {
  test('numerator and denominator are converted quantities', async () => {
    const ratio = (await evaluate('Ratio')) as { numerator: unknown; denominator: unknown };
    expectQuantity(ratio.numerator, 1, 'mg');
    expectQuantity(ratio.denominator, 2, 'mL');
  });

  test('the result is a System.Ratio, equal to the ratio literal 1 mg : 2 mL', async () => {
    expect(await evaluate('Ratio')).toBeInstanceOf(Ratio);
    expect(await evaluate('Ratio Equals Literal')).toBe(true);
  });

  test('a null ratio gives null', async () => {
    expect(await evaluate('Ratio Null')).toBeNull();
  });
});

describe('ToCode and ToConcept', () => {
  test('a Coding becomes a Code with code, system, version and display', async () => {
    const code = await evaluate('Code');
    expect(code).toBeInstanceOf(Code);
    expect({ ...(code as Code) }).toEqual({
      code: '62350',
      system: 'http://www.ama-assn.org/go/cpt',
      version: '2026',
      display: 'Implantation of intrathecal catheter',
    });
    expect(await evaluate('Code Null')).toBeNull();
  });

  test('a CodeableConcept becomes a Concept with every coding, in order, and the text as display', async () => {
    const concept = (await evaluate('Concept')) as Concept;
    expect(concept).toBeInstanceOf(Concept);
    expect(concept.display).toBe('Multiple sclerosis');
    expect(concept.codes.map((c: Code) => [c.system, c.code])).toEqual([
      ['http://snomed.info/sct', '24700007'],
      ['http://hl7.org/fhir/sid/icd-10-cm', 'G35'],
    ]);
    for (const c of concept.codes) expect(c).toBeInstanceOf(Code);
    expect(await evaluate('Concept Null')).toBeNull();
  });
});

describe('primitive conversions', () => {
  test('boolean, integer and decimal', async () => {
    expect(await evaluate('Boolean True')).toBe(true);
    expect(await evaluate('Boolean False')).toBe(false);
    expect(await evaluate('Boolean Null')).toBeNull();
    expect(await evaluate('Integer')).toBe(42);
    expect(await evaluate('Decimal')).toBe(2.75);
  });

  test('date keeps day precision', async () => {
    const date = await evaluate('Date');
    expect((date as { isDate?: boolean }).isDate).toBe(true);
    expect(String(date)).toBe('2026-03-15');
  });

  test('dateTime and instant (Observation.effectiveDateTime, .issued) become DateTime values at their precision', async () => {
    expectSameDateTime(await evaluate('DateTime'), '2026-03-15T10:30:00Z');
    expectSameDateTime(await evaluate('Instant'), '2026-02-01T08:05:00.250Z');
    expect(await evaluate('DateTime Null')).toBeNull();
  });

  test('time becomes a Time value', async () => {
    const time = (await evaluate('Time')) as DateTime;
    expect(time.isTime()).toBe(true);
    expect([time.hour, time.minute, time.second]).toEqual([14, 5, 30]);
  });
});

describe('generated ToString overloads', () => {
  test('string, code and a code-valued enumeration give their value', async () => {
    expect(await evaluate('String From string')).toBe('baclofen');
    expect(await evaluate('String From code')).toBe('mg');
    expect(await evaluate('String From ObservationStatus')).toBe('final');
    expect(await evaluate('String Null')).toBeNull();
  });
});

describe('conversions on a resource of the record (the engine\'s record source)', () => {
  test('valueQuantity with a UCUM code', async () => {
    expectQuantity(await evaluate('Record Value'), 7, '{score}');
  });

  test('code keeps its coding (with no version) and text', async () => {
    const concept = (await evaluate('Record Code')) as Concept;
    expect(concept).toBeInstanceOf(Concept);
    expect(concept.display).toBe('Pain score');
    expect(concept.codes.map((c: Code) => ({ ...c }))).toEqual([
      { code: '72514-3', system: 'http://loinc.org', version: null, display: 'Pain severity' },
    ]);
  });

  test('ToString of status (ObservationStatus) and code.text (string); ToDate of birthDate', async () => {
    expect(await evaluate('Record Status')).toBe('final');
    expect(await evaluate('Record Code Text')).toBe('Pain score');
    expect(String(await evaluate('Record Birth Date'))).toBe('1970-04-12');
  });
});
