/**
 * The project's value sets (cql/valuesets/*.json, FHIR ValueSet resources) as a cql-execution code service.
 * Loaded once at startup; a file that cannot be read or is not a usable ValueSet stops startup with its name.
 *
 * ICD-10-CM is a hierarchy in which every code's descendants extend it (G35 -> G35.A, C50 -> C50.911), so a listed
 * ICD-10-CM code also matches the codes below it (cql/valuesets/README.md). Other systems match exactly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Code, ValueSet } from 'cql-execution';
import type { ValueSet as FhirValueSet } from 'fhir/r4';

export const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';

/** The key a coding is matched and indexed by; ICD-10-CM codes without their dot. */
export function codeKey(system: string | undefined, code: string | undefined): string {
  return `${system ?? ''}|${system === ICD10CM ? (code ?? '').replace('.', '').toUpperCase() : code ?? ''}`;
}

/** Keys a coding matches under: itself and, for ICD-10-CM, every ancestor category (3 characters or more). */
export function matchKeys(system: string | undefined, code: string | undefined): string[] {
  const key = codeKey(system, code);
  if (system !== ICD10CM) return [key];
  const bare = key.slice(system.length + 1);
  const keys: string[] = [];
  for (let length = bare.length; length >= 3; length--) keys.push(`${system}|${bare.slice(0, length)}`);
  return keys;
}

interface CodeLike {
  code?: string;
  system?: string;
  codes?: CodeLike[];
}

export class PolicyValueSet extends ValueSet {
  readonly keys: ReadonlySet<string>;

  constructor(url: string, version: string, codes: Code[]) {
    super(url, version, codes);
    this.keys = new Set(codes.map((c) => codeKey(c.system, c.code)));
  }

  hasMatch(code: unknown): boolean {
    // One coding, the usual case (every record a retrieve returns is matched again by cql-execution): no lists made.
    if (code !== null && typeof code === 'object' && !Array.isArray(code) && !Array.isArray((code as CodeLike).codes)) return this.matches(code as CodeLike);
    return flatten(code).some((c) => (typeof c === 'string' ? this.codes.some((own: Code) => own.code === c) : this.matches(c)));
  }

  private matches(c: CodeLike): boolean {
    if (c.system !== ICD10CM) return this.keys.has(codeKey(c.system, c.code));
    return matchKeys(c.system, c.code).some((k) => this.keys.has(k));
  }
}

function flatten(value: unknown): Array<CodeLike | string> {
  if (value == null) return [];
  if (Array.isArray(value)) return value.flatMap(flatten);
  if (typeof value === 'string') return [value];
  const like = value as CodeLike;
  return Array.isArray(like.codes) ? like.codes.flatMap(flatten) : [like];
}

/** Implements the cql-execution code-service interface over the loaded value sets. */
export class PolicyCodeService {
  private readonly byUrl = new Map<string, PolicyValueSet>();

  constructor(valueSets: PolicyValueSet[]) {
    for (const vs of valueSets) this.byUrl.set(vs.oid, vs);
  }

  get urls(): string[] {
    return [...this.byUrl.keys()];
  }

  findValueSetsByOid(url: string): PolicyValueSet[] {
    const vs = this.byUrl.get(url);
    return vs ? [vs] : [];
  }

  findValueSet(url: string): PolicyValueSet | null {
    return this.byUrl.get(url) ?? null;
  }
}

export function readValueSetFile(file: string): PolicyValueSet {
  let resource: FhirValueSet;
  try {
    resource = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`value set ${file}: cannot be read as JSON (${(error as Error).message})`);
  }
  if (resource?.resourceType !== 'ValueSet' || typeof resource.url !== 'string') {
    throw new Error(`value set ${file}: not a FHIR ValueSet with a url`);
  }
  const codes: Code[] = [];
  for (const [i, include] of (resource.compose?.include ?? []).entries()) {
    if (typeof include.system !== 'string' || !Array.isArray(include.concept)) {
      throw new Error(`value set ${file}: compose.include[${i}] needs a system and an explicit concept list`);
    }
    for (const concept of include.concept) {
      if (typeof concept.code !== 'string' || concept.code === '') throw new Error(`value set ${file}: compose.include[${i}] has a concept without a code`);
      codes.push(new Code(concept.code, include.system, undefined, concept.display));
    }
  }
  if (codes.length === 0) throw new Error(`value set ${file}: no codes`);
  return new PolicyValueSet(resource.url, resource.version ?? '', codes);
}

export function loadValueSets(dir: string): PolicyCodeService {
  if (!fs.existsSync(dir)) throw new Error(`value set folder ${dir} does not exist`);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  return new PolicyCodeService(files.map((f) => readValueSetFile(path.join(dir, f))));
}
