/**
 * Reads the expected-results table of fixtures/README.md: the oracle that the fixture consistency test
 * and the integration test (real CQL against the fixture patients) both hold to.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import type { CriterionStatus, Pathway } from '../../src/engine/types';

export const FIXTURES_DIR = join(__dirname, '..', '..', 'fixtures');

export interface ExpectedCriterion {
  id: string;
  status: CriterionStatus;
}

export interface FixtureTableRow {
  /** Request file name without `.json`. */
  request: string;
  patient: string;
  /** `ServiceRequest/<id>` or `DeviceRequest/<id>`; `-` when the request yields no card. */
  order: string;
  shows: string;
  /** `-` when the request yields no card. */
  pathway: Pathway | '-';
  otherPathways: Pathway[];
  criteria: ExpectedCriterion[] | 'no card';
}

const HEADER = ['request', 'patient', 'order', 'what it shows', 'pathway', 'criteria'];
const PATHWAYS: readonly string[] = ['cancer-pain', 'spasticity', 'chronic-non-malignant-pain', 'undetermined'];
const STATUSES: readonly string[] = ['met', 'not-met', 'not-documented', 'not-applicable'];

function cells(line: string): string[] {
  const trimmed = line.trim();
  if (!trimmed.startsWith('|') || !trimmed.endsWith('|')) throw new Error(`not a table row: ${line}`);
  return trimmed.slice(1, -1).split('|').map((cell) => cell.trim());
}

const unquote = (cell: string): string => cell.replace(/`/g, '').trim();

function pathwayId(text: string, row: string): Pathway {
  if (!PATHWAYS.includes(text)) throw new Error(`${row}: unknown pathway "${text}"`);
  return text as Pathway;
}

function parsePathway(cell: string, row: string): { pathway: Pathway | '-'; otherPathways: Pathway[] } {
  if (cell === '-') return { pathway: '-', otherPathways: [] };
  const match = /^([a-z-]+)(?:\s*\(\+\s*([^)]*)\))?$/.exec(cell);
  if (!match) throw new Error(`${row}: pathway cell "${cell}" is not "<id>" or "<id> (+ <id>, ...)"`);
  const others = match[2] === undefined ? [] : match[2].split(',').map((id) => pathwayId(id.trim(), row));
  return { pathway: pathwayId(match[1], row), otherPathways: others };
}

function parseCriteria(cell: string, row: string): ExpectedCriterion[] | 'no card' {
  if (cell === 'no card') return 'no card';
  return cell.split(',').map((pair) => {
    const match = /^([a-z0-9-]+)=([a-z-]+)$/.exec(pair.trim());
    if (!match || !STATUSES.includes(match[2])) throw new Error(`${row}: criterion "${pair.trim()}" is not "<id>=<status>"`);
    return { id: match[1], status: match[2] as CriterionStatus };
  });
}

/** Every row of the table, in file order. Throws, naming the row, when a cell does not parse. */
export function readFixtureTable(): FixtureTableRow[] {
  const lines = readFileSync(join(FIXTURES_DIR, 'README.md'), 'utf8').split('\n');
  const start = lines.findIndex((line) => line.trim().startsWith('|') && cells(line).join('|') === HEADER.join('|'));
  if (start < 0) throw new Error(`fixtures/README.md has no table with the columns: ${HEADER.join(', ')}`);
  const rows: FixtureTableRow[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.trim().startsWith('|')) break;
    const [request, patient, order, shows, pathway, criteria, ...extra] = cells(line);
    const where = `fixtures/README.md row "${unquote(request ?? '')}" ${unquote(order ?? '')}`;
    if (criteria === undefined || extra.length > 0) throw new Error(`${where}: expected ${HEADER.length} cells (is there a "|" inside one?)`);
    rows.push({
      request: unquote(request),
      patient: unquote(patient),
      order: unquote(order),
      shows,
      ...parsePathway(pathway, where),
      criteria: parseCriteria(criteria, where),
    });
  }
  return rows;
}
