/**
 * Build step `npm run build:cql`: translates the shared CQL (cql/*.cql), every policy pack's CQL (policies/<id>/*.cql)
 * and the CQL test libraries (test/cql/, test/packs/<id>/) to ELM JSON
 * in build/elm/ with the official translator compiled to JavaScript. Runs at build time only: the service loads
 * the ELM and never translates per request. Any message of error severity fails the build and is printed as
 * `file:line:column message`.
 *
 * Options (for tests that translate a folder of their own): `--cql-dir <dir>` (repeatable; default the folders
 * above) and `--out <dir>` (default build/). Relative paths are taken from the current directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CqlCompilerOptions,
  CqlTranslator,
  LibraryManager,
  ModelManager,
  createLibrarySourceProvider,
  createModelInfoProvider,
  createUcumService,
  stringAsSource,
} from '@cqframework/cql/cql-to-elm';
import ucum from '@lhncbc/ucum-lhc';
import { generateFhirHelpers } from './cql/fhirhelpers.mts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = parseArgs({ options: { 'cql-dir': { type: 'string', multiple: true }, out: { type: 'string' } } }).values;
const cqlDirs = (args['cql-dir'] ?? defaultCqlDirs()).map((d) => path.resolve(d));
const out = path.resolve(args.out ?? path.join(root, 'build'));
const fhirModelInfo = fs.readFileSync(require_resolve('cql-exec-fhir/lib/modelInfos/fhir-modelinfo-4.0.1.xml'), 'utf8');
const systemModelInfo = fs.readFileSync(path.join(root, 'cql/modelinfo/system-modelinfo.xml'), 'utf8');

/** Shared CQL (cql/), every policy pack (policies/<id>/), and the test libraries and packs (test/cql/, test/packs/<id>/). */
function defaultCqlDirs(): string[] {
  const packs = (dir: string) =>
    fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => path.join(dir, d.name)) : [];
  return [path.join(root, 'cql'), ...packs(path.join(root, 'policies')), path.join(root, 'test/cql'), ...packs(path.join(root, 'test/packs'))];
}

function require_resolve(spec: string): string {
  return path.join(root, 'node_modules', spec);
}

/** A UCUM service from @lhncbc/ucum-lhc: the translator validates unit literals with it. */
function ucumService(): unknown {
  const utils = ucum.UcumLhcUtils.getInstance();
  const unsupported = (what: string) => () => {
    throw new Error(`UCUM ${what} at translation time is not supported by this build`);
  };
  return createUcumService(
    (value: string, from: string, to: string) => {
      const result = utils.convertUnitTo(from, Number(value), to);
      if (result.status !== 'succeeded') throw new Error(`cannot convert ${from} to ${to}: ${(result.msg ?? []).join('; ')}`);
      return String(result.toVal);
    },
    (unit: string) => {
      const result = utils.validateUnitString(unit);
      return result.status === 'valid' ? null : (result.msg ?? []).join('; ') || `invalid UCUM unit ${unit}`;
    },
    unsupported('multiply'),
    unsupported('divide'),
  );
}

interface Source {
  file: string;
  text: string;
  name: string;
}

function librarySources(dirs: string[], fhirHelpers: Source): Map<string, Source> {
  const sources = new Map<string, Source>([[fhirHelpers.name, fhirHelpers]]);
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir).filter((f) => f.endsWith('.cql')).sort()) {
      const file = path.join(dir, entry);
      const text = fs.readFileSync(file, 'utf8');
      const name = /^\s*library\s+("?)([A-Za-z][A-Za-z0-9_]*)\1/m.exec(text)?.[2];
      if (!name) throw new Error(`${path.relative(root, file)}:1:1 no library declaration`);
      sources.set(name, { file, text, name });
    }
  }
  return sources;
}

function translate(source: Source, sources: Map<string, Source>): { elm: string; errors: string[]; warnings: number } {
  const models = new ModelManager();
  models.modelInfoLoader.registerModelInfoProvider(
    createModelInfoProvider((id: string, _system: string | null | undefined, version: string | null | undefined) => {
      if (id === 'System') return stringAsSource(systemModelInfo);
      if (id === 'FHIR' && (version == null || version === '4.0.1')) return stringAsSource(fhirModelInfo);
      return null;
    }),
  );
  const options = new CqlCompilerOptions();
  const libraries = new LibraryManager(models, options, undefined, ucumService());
  libraries.librarySourceLoader.registerProvider(
    createLibrarySourceProvider((id: string) => {
      const found = sources.get(id);
      return found ? stringAsSource(found.text) : null;
    }),
  );
  const translator = CqlTranslator.fromText(source.text, libraries);
  const errors = [...translator.errors.asJsReadonlyArrayView()].map((e) => describe(e, source, sources));
  return { elm: translator.toJson(), errors, warnings: [...translator.warnings.asJsReadonlyArrayView()].length };
}

/**
 * `file:line:column message`. The Kotlin-compiled TrackBack exposes its fields only through toString
 * (`TrackBack{library=..., startLine=3, startChar=7, ...}`), and names the library, which may be an included one.
 */
function describe(error: { message?: string; locator?: unknown }, source: Source, sources: Map<string, Source>): string {
  const locator = error.locator == null ? '' : String(error.locator);
  const line = /startLine=(\d+)/.exec(locator)?.[1] ?? '1';
  const column = /startChar=(\d+)/.exec(locator)?.[1] ?? '1';
  const libraryId = (error.locator as { library?: { id?: string } } | undefined)?.library?.id;
  const file = (libraryId && sources.get(libraryId)?.file) || source.file;
  return `${path.relative(root, file)}:${line}:${column} ${error.message ?? 'translation error'}`;
}

function main(): void {
  const started = Date.now();
  fs.mkdirSync(path.join(out, 'cql'), { recursive: true });
  fs.mkdirSync(path.join(out, 'elm'), { recursive: true });
  const helpersFile = path.join(out, 'cql', 'FHIRHelpers.cql');
  fs.writeFileSync(helpersFile, generateFhirHelpers(path.join(root, 'cql/fhirhelpers/FHIRHelpers.core.cql'), fhirModelInfo));
  const helpers: Source = { file: helpersFile, text: fs.readFileSync(helpersFile, 'utf8'), name: 'FHIRHelpers' };
  const sources = librarySources(cqlDirs, helpers);

  let failed = false;
  for (const source of sources.values()) {
    const t0 = Date.now();
    const { elm, errors, warnings } = translate(source, sources);
    if (errors.length > 0) {
      failed = true;
      for (const line of errors) console.error(line);
      continue;
    }
    const elmFile = path.join(out, 'elm', `${source.name}.json`);
    fs.writeFileSync(elmFile, elm);
    console.log(`translated ${path.relative(root, source.file)} -> ${path.relative(root, elmFile)} (${Date.now() - t0} ms, ${warnings} warnings)`);
  }
  if (failed) {
    console.error('CQL translation failed');
    process.exit(1);
  }
  console.log(`build:cql done in ${Date.now() - started} ms`);
}

main();
