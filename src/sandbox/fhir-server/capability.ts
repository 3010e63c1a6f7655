/**
 * The CapabilityStatement at GET /fhir/metadata. Medplum's router has none; clients such as the CDS Hooks
 * sandbox and fhir-kit-client read it to discover the server. Built once per process: it lists every R4 resource
 * type with the search parameters this server can actually evaluate (see search-params.ts).
 */
import type { CapabilityStatement, CapabilityStatementRestResource } from 'fhir/r4';
import { knownResourceTypes, supportedSearchParameters } from './definitions';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './search-params';

type ResourceInteraction = NonNullable<CapabilityStatementRestResource['interaction']>[number]['code'];

const RESOURCE_INTERACTIONS: ResourceInteraction[] = [
  'read',
  'vread',
  'update',
  'patch',
  'delete',
  'history-instance',
  'create',
  'search-type',
];

let cached: CapabilityStatement | undefined;

export function capabilityStatement(baseUrl: string): CapabilityStatement {
  cached ??= build();
  return { ...cached, implementation: { description: 'Embedded FHIR R4 sandbox (in memory)', url: baseUrl } };
}

function build(): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    publisher: 'intrathecal-pump-cds development sandbox',
    kind: 'instance',
    software: { name: 'Embedded FHIR sandbox on @medplum/fhir-router, in memory' },
    fhirVersion: '4.0.1',
    format: ['json', 'application/fhir+json'],
    rest: [
      {
        mode: 'server',
        documentation:
          `No authentication (development sandbox). Data lives in memory. Search pages default to ${DEFAULT_PAGE_SIZE} ` +
          `entries (at most ${MAX_PAGE_SIZE}), paged with _count and _offset.`,
        resource: knownResourceTypes().map(resource),
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
      },
    ],
  };
}

function resource(type: string): CapabilityStatementRestResource {
  return {
    type,
    interaction: RESOURCE_INTERACTIONS.map((code) => ({ code })),
    versioning: 'versioned',
    readHistory: true,
    updateCreate: true,
    searchParam: supportedSearchParameters(type).map((p) => ({
      name: p.code,
      type: p.type,
      ...(p.url ? { definition: p.url } : {}),
    })),
  };
}
