/**
 * The CDS services this server offers, read once at startup from every pack's hooks/*.json. The discovery response
 * is those files with the prefetch derived from the pack's CQL (./derived-prefetch.ts) in place of their prefetch
 * adjustments. A malformed file, or an adjustment that would miss data the CQL reads, stops startup.
 */
import fs from 'node:fs';
import path from 'node:path';
import { discoveryExtension } from '../crd/configuration';
import type { PolicyPack } from '../packs/load-packs';
import { derivePrefetch, type PrefetchOverrides } from './derived-prefetch';
import { compileTemplate, type CompiledTemplate } from './prefetch-template';
import { HOOK_NAMES, type HookName, type ServiceDefinition } from './types';

export interface LoadedService {
  definition: ServiceDefinition;
  /** The policy pack whose hooks folder defines the service: its orders are evaluated against that pack. */
  pack: PolicyPack;
  /** Prefetch key -> compiled template, in the file's order. */
  templates: Map<string, CompiledTemplate>;
}

export interface ServiceCatalog {
  /** The body of `GET /cds-services`, serialised once. */
  discoveryJson: string;
  get(id: string): LoadedService | undefined;
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/** A hooks/*.json file: the discovery entry, with prefetch adjustments in place of the derived prefetch. */
type ServiceFile = Omit<ServiceDefinition, 'prefetch'> & PrefetchOverrides;

function parseDefinition(raw: unknown, file: string): ServiceFile {
  const fail = (what: string): never => {
    throw new Error(`${file}: ${what}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('not a JSON object');
  const d = raw as Record<string, unknown>;
  if (!nonEmptyString(d.id) || !/^[A-Za-z0-9._-]+$/.test(d.id)) fail('"id" must be a URL-safe string');
  if (!HOOK_NAMES.includes(d.hook as HookName)) fail(`"hook" must be one of ${HOOK_NAMES.join(', ')}`);
  if (!nonEmptyString(d.title)) fail('"title" is required');
  if (!nonEmptyString(d.description)) fail('"description" is required');
  for (const field of ['prefetch', 'prefetchExclude']) {
    if (d[field] === undefined) continue;
    if (typeof d[field] !== 'object' || d[field] === null || Array.isArray(d[field])) fail(`"${field}" must be an object`);
    for (const [key, value] of Object.entries(d[field] as object)) {
      if (!nonEmptyString(value)) fail(field === 'prefetch' ? `prefetch "${key}" must be a query string` : `prefetchExclude "${key}" must give the reason`);
    }
  }
  if (d.usageRequirements !== undefined && !nonEmptyString(d.usageRequirements)) fail('"usageRequirements" must be a non-empty string');
  return d as unknown as ServiceFile;
}

function serviceFiles(pack: PolicyPack): string[] {
  const dir = pack.hooksDir;
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.endsWith('.json')).sort() : [];
  if (files.length === 0) throw new Error(`policy pack ${pack.id}: no service definitions (*.json) in ${dir}`);
  return files.map((name) => path.join(dir, name));
}

export function loadServiceCatalog(packs: readonly PolicyPack[]): ServiceCatalog {
  const services = new Map<string, LoadedService>();
  for (const pack of packs) {
    for (const file of serviceFiles(pack)) {
      const { id, hook, title, description, usageRequirements, extension, prefetch: overrides, prefetchExclude } = parseDefinition(
        JSON.parse(fs.readFileSync(file, 'utf8')),
        file,
      );
      const prefetch = derivePrefetch(pack.dataRequirements, { prefetch: overrides, prefetchExclude }, file);
      const definition: ServiceDefinition = {
        id,
        hook,
        title,
        description,
        prefetch,
        ...(usageRequirements !== undefined && { usageRequirements }),
        extension: { ...extension, ...discoveryExtension(hook) },
      };
      if (services.has(definition.id)) throw new Error(`${file}: duplicate service id "${definition.id}"`);
      const templates = new Map(Object.entries(definition.prefetch).map(([key, source]) => [key, compileTemplate(source)]));
      services.set(definition.id, { definition, pack, templates });
    }
  }

  const discoveryJson = JSON.stringify({ services: [...services.values()].map((s) => s.definition) });
  return {
    discoveryJson,
    get: (id) => services.get(id),
  };
}
