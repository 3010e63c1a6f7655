import { workerCount } from './workers';

it('runs one worker without DATABASE_URL (PGlite: one process per data folder)', () => {
  expect(workerCount({}, 8)).toBe(1);
  expect(workerCount({ WORKERS: '1' }, 8)).toBe(1);
});

it('refuses more than one worker without DATABASE_URL, naming both variables', () => {
  expect(() => workerCount({ WORKERS: '4' }, 8)).toThrow(/WORKERS=4 needs DATABASE_URL/);
});

it('runs one worker per core with DATABASE_URL, or the number WORKERS gives', () => {
  expect(workerCount({ DATABASE_URL: 'postgres://db/cds' }, 8)).toBe(8);
  expect(workerCount({ DATABASE_URL: 'postgres://db/cds', WORKERS: '3' }, 8)).toBe(3);
});

it('refuses WORKERS that is not a positive integer', () => {
  expect(() => workerCount({ WORKERS: '0', DATABASE_URL: 'postgres://db/cds' }, 8)).toThrow(/at least 1/);
  expect(() => workerCount({ WORKERS: 'many' }, 8)).toThrow(/WORKERS/);
});
