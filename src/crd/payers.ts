/**
 * Which payers this deployment answers for (CRD hook-13) and the insurer name its cards carry
 * (CRD resp-4), from `CRD_PAYERS`: JSON text, or the path of a JSON file. The prior-authorization
 * setting per order code and the DTR questionnaire are payer configuration too, so they live here.
 * README.md ("Da Vinci CRD") documents the shape and the defaults.
 */
import fs from 'node:fs';

export type PriorAuthSetting = 'auth-needed' | 'no-auth';

export interface PayerIdentifier {
  system: string;
  value: string;
}

export interface PayerConfig {
  /** The name on the patient's insurance card: every card's `source.label`. */
  insurer: string;
  /** Identifiers of the payer Organization; a Coverage is ours when its `payor` carries one of them. */
  identifiers: PayerIdentifier[];
  /** `pa-needed` of a covered order, by order code (CPT/HCPCS); codes not listed get `default`. */
  priorAuth: { default: PriorAuthSetting; codes: Record<string, PriorAuthSetting> };
  /** Canonical URL of the DTR Questionnaire that collects the policy's missing documentation, if the payer has one. */
  questionnaire?: string;
}

/** The sandbox's synthetic payer (Organization/itp-payer-1 in fixtures/patients/itp-practitioners.json). */
export const SANDBOX_PAYER: PayerConfig = {
  insurer: 'Testpayer Health Plan (synthetic)',
  identifiers: [{ system: 'http://intrathecal-cds.example.org/fhir/sid/payer-id', value: 'TESTPAYER-1' }],
  priorAuth: { default: 'auth-needed', codes: {} },
};

const PRIOR_AUTH_SETTINGS: readonly string[] = ['auth-needed', 'no-auth'];

function fail(what: string): never {
  throw new Error(`CRD_PAYERS: ${what}`);
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

export function parsePayerConfig(raw: unknown): PayerConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('must be a JSON object');
  const c = raw as Record<string, unknown>;
  if (!nonEmpty(c.insurer)) fail('"insurer" (the insurer name shown on cards) is required');
  if (!Array.isArray(c.identifiers) || c.identifiers.length === 0) fail('"identifiers" must list at least one {system, value}');
  const identifiers = c.identifiers.map((id, i): PayerIdentifier => {
    const { system, value } = (id ?? {}) as Record<string, unknown>;
    if (!nonEmpty(system) || !nonEmpty(value)) fail(`identifiers[${i}] needs a "system" and a "value"`);
    return { system, value };
  });
  const pa = (c.priorAuth ?? {}) as Record<string, unknown>;
  if (typeof pa !== 'object' || Array.isArray(pa)) fail('"priorAuth" must be an object');
  const defaultSetting = pa.default ?? 'auth-needed';
  if (!PRIOR_AUTH_SETTINGS.includes(defaultSetting as string)) fail('priorAuth.default must be "auth-needed" or "no-auth"');
  const codes = (pa.codes ?? {}) as Record<string, unknown>;
  if (typeof codes !== 'object' || Array.isArray(codes)) fail('priorAuth.codes must map order codes to "auth-needed" or "no-auth"');
  for (const [code, setting] of Object.entries(codes)) {
    if (!PRIOR_AUTH_SETTINGS.includes(setting as string)) fail(`priorAuth.codes.${code} must be "auth-needed" or "no-auth"`);
  }
  if (c.questionnaire !== undefined && !nonEmpty(c.questionnaire)) fail('"questionnaire" must be a canonical URL');
  return {
    insurer: c.insurer.trim(),
    identifiers,
    priorAuth: { default: defaultSetting as PriorAuthSetting, codes: codes as Record<string, PriorAuthSetting> },
    ...(nonEmpty(c.questionnaire) && { questionnaire: c.questionnaire }),
  };
}

/** `CRD_PAYERS` holds the JSON itself (starts with "{") or the path of a file holding it; unset: the sandbox payer. */
export function loadPayerConfig(env: NodeJS.ProcessEnv): PayerConfig {
  const raw = env.CRD_PAYERS?.trim();
  if (!raw) return SANDBOX_PAYER;
  let text = raw;
  if (!raw.startsWith('{')) {
    try {
      text = fs.readFileSync(raw, 'utf8');
    } catch {
      fail(`not JSON and no readable file at "${raw}"`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    fail('is not valid JSON');
  }
  return parsePayerConfig(parsed);
}

export function priorAuthFor(payer: PayerConfig, code: string): PriorAuthSetting {
  return payer.priorAuth.codes[code] ?? payer.priorAuth.default;
}
