/**
 * Loads the ELM that `npm run build:cql` wrote to build/elm/ (never translates: see scripts/build-cql.mts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Library, Repository } from 'cql-execution';
import { constantDefinitions, rememberConstantDefinitions } from './constant-definitions';

export interface ElmLibraryJson {
  library: {
    identifier: { id: string; version?: string };
    parameters?: { def?: Array<{ name: string }> };
    valueSets?: { def?: Array<{ name: string; id: string }> };
    statements?: { def?: Array<{ name: string }> };
  };
}

function readElm(file: string): ElmLibraryJson {
  if (!fs.existsSync(file)) throw new Error(`ELM ${file} not found: run \`npm run build:cql\` first`);
  try {
    const elm = JSON.parse(fs.readFileSync(file, 'utf8')) as ElmLibraryJson;
    if (!elm?.library?.identifier?.id) throw new Error('no library identifier');
    return elm;
  } catch (error) {
    throw new Error(`ELM ${file} cannot be loaded: ${(error as Error).message}`);
  }
}

/**
 * The main library with every ELM file in the folder available to its includes; its definitions that are the same
 * for every patient and call are evaluated once (./constant-definitions.ts).
 */
export function loadElmLibrary(dir: string, name: string): { library: Library; elm: ElmLibraryJson } {
  const all = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
  const elms = Object.fromEntries(all.map((f) => [path.basename(f, '.json'), readElm(path.join(dir, f))]));
  const elm = elms[name] ?? readElm(path.join(dir, `${name}.json`));
  try {
    const library = new Library(elm, new Repository(elms));
    rememberConstantDefinitions(library, constantDefinitions(elm, elms));
    return { library, elm };
  } catch (error) {
    throw new Error(`ELM ${path.join(dir, `${name}.json`)} cannot be loaded: ${(error as Error).message}`);
  }
}
