import { DateTime } from 'cql-execution';
import { parseDateTime } from './fhir-record';

/** The fields a cql-execution DateTime carries (or null when the text is not a date). */
function fields(value: DateTime | null): unknown {
  if (value == null) return null;
  const { year, month, day, hour, minute, second, millisecond, timezoneOffset } = value;
  return { year, month, day, hour, minute, second, millisecond, timezoneOffset: Object.is(timezoneOffset, -0) ? '-0' : timezoneOffset };
}

function texts(): string[] {
  const out: string[] = [];
  const years = ['0000', '0001', '1899', '1900', '2000', '2023', '2024', '9999'];
  const months = ['00', '01', '02', '04', '12', '13'];
  const days = ['00', '01', '28', '29', '30', '31', '32'];
  for (const y of years) {
    out.push(y);
    for (const mo of months) {
      out.push(`${y}-${mo}`);
      for (const d of days) out.push(`${y}-${mo}-${d}`);
    }
  }
  const times = ['00:00:00', '23:59:59', '24:00:00', '12:60:00', '12:00:60', '07:30:15'];
  const fractions = ['', '.5', '.05', '.123', '.1234'];
  const zones = ['', 'Z', '+00:00', '-00:00', '+05:30', '-04:00', '+14:00', '-12:00', '+15:00', '+05:60', '+05'];
  for (const date of ['2024-02-29', '2023-02-29', '2026-06-15']) {
    for (const t of times) for (const f of fractions) for (const z of zones) out.push(`${date}T${t}${f}${z}`);
  }
  out.push('2024-06-15T12', '2024-06-15T12:30', '2024-06-15T12:30+02:00', '2024-06-15TZ', '2024-6-15', 'not a date', '', '2024-06-15 ', ' 2024');
  return out;
}

test('parseDateTime gives what cql-execution\'s DateTime.parse gives, for every text', () => {
  const all = texts();
  expect(all.length).toBeGreaterThan(500);
  for (const text of all) expect([text, fields(parseDateTime(text))]).toEqual([text, fields(DateTime.parse(text))]);
});

test('parseDateTime reads a dateTime with an offset and one without', () => {
  expect(fields(parseDateTime('2025-03-05T10:20:30.250-05:30'))).toEqual({
    year: 2025, month: 3, day: 5, hour: 10, minute: 20, second: 30, millisecond: 250, timezoneOffset: -5.5,
  });
  expect(parseDateTime('2025-02-30')).toBeNull();
});
