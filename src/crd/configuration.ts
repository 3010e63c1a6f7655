/**
 * CRD configuration (CRD 2.2 "New hook configuration mechanism"): the options a service offers in
 * discovery (`davinci-crd.configuration-options`, dev-4, dev-5) and the values a client sends per
 * call in the request's `extension["davinci-crd.configuration"]` (dev-12, dev-14). Options this
 * service does not offer are ignored (dev-17); a known option with a value of the wrong type breaks a
 * CRD rule, not a CDS Hooks one, so it is a 422 (hook-13).
 */
import { crdRuleViolation as unprocessable } from '../cds-hooks/errors';
import type { HookName } from '../cds-hooks/types';
import { CLINICAL_REMINDER_TOPIC, COVERAGE_INFO_CODE, GUIDELINE_TOPIC } from './card-types';

/** The CRD version this service implements, as discovery declares it (first two parts only, dev-1). */
export const CRD_VERSION = '2.2';

export interface ConfigurationOption {
  code: string;
  type: 'boolean' | 'integer';
  name: string;
  description: string;
  default: boolean | number;
}

export interface CrdSettings {
  /** Whether Coverage Information system actions are returned. */
  coverageInfo: boolean;
  /** Card topic code -> whether cards of that type are returned. */
  cardTypes: Record<string, boolean>;
  maxCards: number;
}

export const DEFAULT_MAX_CARDS = 10;

/** order-sign is a CRD primary hook (coverage information always, hook-16); order-select a secondary one. */
export function configurationOptions(hook: HookName): ConfigurationOption[] {
  return [
    {
      code: COVERAGE_INFO_CODE,
      type: 'boolean',
      name: 'Coverage Information',
      description:
        'Adds a coverage-information extension to each order the policy governs (a system action): covered, prior authorization and documentation needed.',
      default: hook === 'order-sign',
    },
    {
      code: GUIDELINE_TOPIC.code as string,
      type: 'boolean',
      name: 'Policy checklist',
      description: 'One card per order the policy governs, listing each criterion of the policy as met, not met, not documented or not applicable.',
      default: true,
    },
    {
      code: CLINICAL_REMINDER_TOPIC.code as string,
      type: 'boolean',
      name: 'Orders that document a criterion',
      description: 'A card suggesting a draft order (for example a psychological evaluation) when a criterion is not documented.',
      default: true,
    },
    {
      code: 'max-cards',
      type: 'integer',
      name: 'Maximum cards',
      description: 'The most cards returned in one answer; policy checklist cards come before suggested orders.',
      default: DEFAULT_MAX_CARDS,
    },
  ];
}

/**
 * The settings for one call: each offered option's default, overridden by the request's value.
 * `extension` is the request's top-level `extension` object (already checked to be an object or absent).
 */
export function settingsFor(hook: HookName, extension: Record<string, unknown> | undefined): CrdSettings {
  const options = configurationOptions(hook);
  const values = new Map<string, boolean | number>(options.map((o) => [o.code, o.default]));
  const requestedVersion = extension?.['davinci-crd.requestedVersion'];
  if (requestedVersion !== undefined && requestedVersion !== CRD_VERSION) {
    throw unprocessable(`extension.davinci-crd.requestedVersion: this service implements CRD ${CRD_VERSION} only`);
  }
  const sent = extension?.['davinci-crd.configuration'];
  if (sent !== undefined) {
    if (typeof sent !== 'object' || sent === null || Array.isArray(sent)) {
      throw unprocessable('extension.davinci-crd.configuration must be an object of option codes and values');
    }
    for (const option of options) {
      if (!Object.prototype.hasOwnProperty.call(sent, option.code)) continue;
      const value = (sent as Record<string, unknown>)[option.code];
      const field = `extension.davinci-crd.configuration.${option.code}`;
      if (option.type === 'boolean' && typeof value !== 'boolean') throw unprocessable(`${field} must be a boolean`);
      if (option.type === 'integer' && !(typeof value === 'number' && Number.isInteger(value) && value >= 0)) {
        throw unprocessable(`${field} must be a non-negative integer`);
      }
      values.set(option.code, value as boolean | number);
    }
  }
  return {
    coverageInfo: values.get(COVERAGE_INFO_CODE) as boolean,
    cardTypes: {
      [GUIDELINE_TOPIC.code as string]: values.get(GUIDELINE_TOPIC.code as string) as boolean,
      [CLINICAL_REMINDER_TOPIC.code as string]: values.get(CLINICAL_REMINDER_TOPIC.code as string) as boolean,
    },
    maxCards: values.get('max-cards') as number,
  };
}

/** The `extension` of a discovery entry. */
export function discoveryExtension(hook: HookName): Record<string, unknown> {
  return { 'davinci-crd.version': [CRD_VERSION], 'davinci-crd.configuration-options': configurationOptions(hook) };
}
