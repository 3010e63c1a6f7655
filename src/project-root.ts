/**
 * The project's root folder (where package.json is), from which the service reads what it ships as data: build/elm,
 * cql/valuesets, hooks, fixtures. Found by walking up, so it holds for src/ (tsx, jest) and dist/src/ (built) alike.
 */
import fs from 'node:fs';
import path from 'node:path';

function findRoot(start: string): string {
  let dir = start;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the project root (package.json) above ${start}`);
    dir = parent;
  }
  return dir;
}

export const PROJECT_ROOT = findRoot(__dirname);
