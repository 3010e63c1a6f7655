/**
 * Policy packs: every folder under policies/ (and any other pack root the caller names, such as test/packs/) is one
 * policy: its CQL (translated to build/elm/ by `npm run build:cql`), value sets, service definitions (hooks/) and
 * pack.json. Loaded once at startup; anything inconsistent stops startup with a message naming the pack and field,
 * never a blank text or a silently missing criterion later.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { loadValueSets } from '../engine/value-sets';
import { envBool, envInt } from '../env-values';
import { PROJECT_ROOT } from '../project-root';
import { criteriaTable, type CriteriaTable } from './criteria-from-elm';
import { dataRequirements, type DataRequirement } from './data-requirements';
import { formatParameter, parameterDefaults, PARAMETER_FORMATS, type ParameterFormat, type ParameterValue } from './elm-parameters';
import type { ElmLibrary } from './elm-walk';
import { packSchema, type PackManifest, type PackSetting } from './pack-schema';

export interface PolicyPack {
  id: string;
  dir: string;
  /** pack.json with every `{Parameter}` in its texts replaced by the parameter's value in this deployment. */
  manifest: PackManifest;
  elm: ElmLibrary;
  /** CQL parameter values the deployment sets through the pack's settings (environment). */
  deploymentParameters: Record<string, boolean | number | string>;
  /** Every parameter's value as evaluated: deployment setting, else the CQL default. */
  parameterValues: ReadonlyMap<string, ParameterValue>;
  /** Pathway ids in the order pack.json lists them. */
  pathways: string[];
  phases: string[];
  /** pathway -> phase -> criterion ids, from the CQL. */
  criteria: CriteriaTable;
  /** The pathway the CQL gives when no indication was found. */
  undeterminedPathway?: string;
  /** What the CQL retrieves, by resource type, with the codes it filters on: the prefetch is derived from it. */
  dataRequirements: DataRequirement[];
  /** Path of the policy page on this service. */
  pagePath: string;
  valueSetDir: string;
  hooksDir: string;
}

export interface PackLocations {
  /** Folders whose sub-folders are packs; default POLICY_PACK_DIRS, else <root>/policies. */
  roots?: string[];
  /** Where `npm run build:cql` wrote the ELM; default <root>/build/elm. */
  elmDir?: string;
  /** Source of deployment settings; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_PACK_ROOT = path.join(PROJECT_ROOT, 'policies');
const DEFAULT_ELM_DIR = path.join(PROJECT_ROOT, 'build', 'elm');

const validateManifest = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(packSchema);

/** The pack folders under each root (folders holding a pack.json), sorted by name. */
export function packDirs(roots: string[] = [DEFAULT_PACK_ROOT]): string[] {
  return roots.flatMap((root) => {
    if (!fs.existsSync(root)) throw new Error(`pack folder ${root} does not exist`);
    return fs
      .readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && fs.existsSync(path.join(root, d.name, 'pack.json')))
      .map((d) => path.join(root, d.name))
      .sort();
  });
}

/** POLICY_PACK_DIRS: folders of packs, separated by the platform's path delimiter (":"); default policies/. */
export function packRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const listed = (env.POLICY_PACK_DIRS ?? '').split(path.delimiter).filter((d) => d.trim() !== '');
  return listed.length > 0 ? listed.map((d) => path.resolve(PROJECT_ROOT, d)) : [DEFAULT_PACK_ROOT];
}

export function loadPacks(locations: PackLocations = {}): PolicyPack[] {
  const roots = locations.roots ?? packRoots(locations.env);
  const dirs = packDirs(roots);
  if (dirs.length === 0) throw new Error(`no policy pack (a folder with pack.json) in ${roots.join(', ')}`);
  const packs = dirs.map((dir) => loadPack(dir, locations));
  const ids = packs.map((p) => p.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw new Error(`two policy packs have the id ${duplicate}`);
  return packs;
}

export function loadPack(dir: string, locations: Omit<PackLocations, 'roots'> = {}): PolicyPack {
  const file = path.join(dir, 'pack.json');
  const fail = (what: string): never => {
    throw new Error(`policy pack ${file}: ${what}`);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    return fail(`cannot be read as JSON (${(error as Error).message})`);
  }
  if (!validateManifest(raw)) {
    return fail((validateManifest.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`).join('; '));
  }
  const declared = raw as PackManifest;
  if (declared.id !== path.basename(dir)) fail(`id "${declared.id}" must be the folder's name "${path.basename(dir)}"`);

  const elmDir = locations.elmDir ?? DEFAULT_ELM_DIR;
  const elm = readElm(path.join(elmDir, `${declared.cql.library}.json`), fail);
  const statements = new Set((elm.library.statements?.def ?? []).map((d) => d.name as string));
  for (const [role, name] of Object.entries(declared.cql)) {
    if (role !== 'library' && !statements.has(name)) fail(`cql.${role}: ${declared.cql.library} has no expression "${name}"`);
  }

  const defaults = parameterDefaults(elm.library.parameters?.def ?? []);
  const deploymentParameters = settingsToParameters(declared.settings, defaults, locations.env ?? process.env, fail);
  const parameterValues = new Map(defaults);
  for (const [name, value] of Object.entries(deploymentParameters)) parameterValues.set(name, value);
  // Texts quote parameters and, by their CQL names, value sets (the names of their concepts: the trial agents).
  const textValues = new Map<string, ParameterValue>([...valueSetNames(elm, path.join(dir, 'valuesets')), ...parameterValues]);
  const manifest = fillTexts(declared, textValues, fail);

  const pathways = Object.keys(manifest.pathways);
  const phases = Object.keys(manifest.phases);
  const undetermined = pathways.filter((p) => manifest.pathways[p].undetermined);
  if (undetermined.length > 1) fail(`pathways: only one may be "undetermined" (${undetermined.join(', ')})`);
  const criteria = (() => {
    try {
      return criteriaTable(elm, manifest.cql, pathways, phases);
    } catch (error) {
      return fail((error as Error).message);
    }
  })();
  const used = new Set([...criteria.values()].flatMap((byPhase) => [...byPhase.values()].flat()));
  for (const id of used) if (!manifest.criteria[id]) fail(`criteria: no text for criterion "${id}" (the CQL evaluates it)`);
  for (const id of Object.keys(manifest.criteria)) if (!used.has(id)) fail(`criteria: "${id}" is not a criterion of the CQL`);
  for (const [i, s] of manifest.suggestions.entries()) {
    for (const id of s.criteria) if (!used.has(id)) fail(`suggestions[${i}]: "${id}" is not a criterion of the CQL`);
  }
  for (const [i, r] of manifest.overrideReasons.entries()) {
    for (const id of r.criteria ?? []) if (!used.has(id)) fail(`overrideReasons[${i}]: "${id}" is not a criterion of the CQL`);
  }
  if (manifest.externalCriteria === undefined && pathways.some((p) => manifest.pathways[p].externalCriteria)) {
    fail('pathways: a pathway refers to externalCriteria, which the pack does not describe');
  }

  const valueSetDir = path.join(dir, 'valuesets');
  const requirements = (() => {
    try {
      return dataRequirements(elm, elmDir, loadValueSets(valueSetDir));
    } catch (error) {
      return fail((error as Error).message);
    }
  })();

  return {
    id: manifest.id,
    dir,
    manifest,
    elm,
    deploymentParameters,
    parameterValues,
    pathways,
    phases,
    criteria,
    undeterminedPathway: undetermined[0],
    dataRequirements: requirements,
    pagePath: `/policy/${encodeURIComponent(manifest.id)}`,
    valueSetDir,
    hooksDir: path.join(dir, 'hooks'),
  };
}

/** Each value set the CQL declares, by its CQL name, as the distinct displays of its concepts (files by canonical URL). */
function valueSetNames(elm: ElmLibrary, valueSetDir: string): Map<string, ParameterValue> {
  const defs = elm.library.valueSets?.def ?? [];
  if (defs.length === 0 || !fs.existsSync(valueSetDir)) return new Map();
  const byUrl = new Map<string, string[]>();
  for (const file of fs.readdirSync(valueSetDir).filter((f) => f.endsWith('.json'))) {
    try {
      const vs = JSON.parse(fs.readFileSync(path.join(valueSetDir, file), 'utf8')) as {
        url?: string;
        compose?: { include?: Array<{ concept?: Array<{ display?: string }> }> };
      };
      const displays = (vs.compose?.include ?? []).flatMap((i) => (i.concept ?? []).map((c) => c.display)).filter((d): d is string => !!d);
      if (typeof vs.url === 'string') byUrl.set(vs.url, [...new Set(displays)]);
    } catch {
      // An unreadable value set file stops startup in the engine's loader, which names it.
    }
  }
  return new Map(defs.filter((d) => byUrl.has(d.id)).map((d) => [d.name, byUrl.get(d.id) as string[]]));
}

function readElm(file: string, fail: (what: string) => never): ElmLibrary {
  if (!fs.existsSync(file)) return fail(`ELM ${file} not found: run \`npm run build:cql\` first`);
  try {
    const elm = JSON.parse(fs.readFileSync(file, 'utf8')) as ElmLibrary;
    if (!elm?.library?.identifier?.id) throw new Error('no library identifier');
    return elm;
  } catch (error) {
    return fail(`ELM ${file} cannot be loaded: ${(error as Error).message}`);
  }
}

function settingsToParameters(
  settings: Record<string, PackSetting>,
  defaults: ReadonlyMap<string, ParameterValue>,
  env: NodeJS.ProcessEnv,
  fail: (what: string) => never,
): Record<string, boolean | number | string> {
  const parameters: Record<string, boolean | number | string> = {};
  for (const [name, setting] of Object.entries(settings)) {
    if (!defaults.has(setting.parameter)) fail(`settings.${name}: the CQL has no parameter "${setting.parameter}"`);
    const expected = setting.type === 'boolean' ? 'boolean' : setting.type === 'string' ? 'string' : 'number';
    if (typeof setting.default !== expected) fail(`settings.${name}: default must be a ${setting.type}`);
    parameters[setting.parameter] = readSetting(env, name, setting);
  }
  return parameters;
}

function readSetting(env: NodeJS.ProcessEnv, name: string, setting: PackSetting): boolean | number | string {
  const raw = env[name];
  switch (setting.type) {
    case 'boolean':
      return envBool(env, name, setting.default as boolean);
    case 'integer':
      return envInt(env, name, setting.default as number);
    case 'decimal': {
      if (raw === undefined || raw === '') return setting.default;
      const value = Number(raw);
      if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got "${raw}"`);
      return value;
    }
    default:
      return raw === undefined || raw === '' ? setting.default : raw;
  }
}

// `{Parameter Name}` or `{Parameter Name|percent}`; parameter (and value set) names start with a capital letter.
const PLACEHOLDER = /\{([A-Z][A-Za-z0-9 _-]*?)(?:\|([a-z-]+))?\}/g;
const NOT_TEXT = new Set(['$comment', 'id', 'cql', 'settings', 'codeSystemNames', 'effective']);

/** The manifest with every parameter placeholder in its texts replaced by the parameter's value. */
function fillTexts(manifest: PackManifest, values: ReadonlyMap<string, ParameterValue>, fail: (what: string) => never): PackManifest {
  const fill = (value: unknown, where: string): unknown => {
    if (typeof value === 'string') {
      return value.replace(PLACEHOLDER, (_match, name: string, format: string | undefined) => {
        if (!values.has(name)) fail(`${where}: {${name}} is not a parameter or value set of the CQL`);
        if (format !== undefined && !PARAMETER_FORMATS.includes(format as ParameterFormat)) {
          fail(`${where}: unknown format |${format} (use ${PARAMETER_FORMATS.join(', ')})`);
        }
        const text = formatParameter(values.get(name) ?? null, format as ParameterFormat | undefined);
        return text ?? fail(`${where}: the value of {${name}} cannot be shown${format ? ` as ${format}` : ''}`);
      });
    }
    if (Array.isArray(value)) return value.map((v, i) => fill(v, `${where}[${i}]`));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, where === '' && NOT_TEXT.has(k) ? v : fill(v, where ? `${where}.${k}` : k)]),
      );
    }
    return value;
  };
  return fill(manifest, '') as PackManifest;
}
