/**
 * The CDS Hooks 2.0 shapes this service reads and writes. Only the parts we use are typed;
 * FHIR resources come from @types/fhir.
 */
import type { Bundle, Coding, FhirResource, Resource, ServiceRequest } from 'fhir/r4';
import type { SystemAction } from '../crd/system-actions';

export type HookName = 'order-select' | 'order-sign';
export const HOOK_NAMES: readonly HookName[] = ['order-select', 'order-sign'];

/** One entry of the discovery response, as stored in hooks/*.json. */
export interface ServiceDefinition {
  id: string;
  hook: HookName;
  title: string;
  description: string;
  /** Prefetch key -> FHIR query template with {{context.*}} tokens. */
  prefetch: Record<string, string>;
  usageRequirements?: string;
  /** Da Vinci CRD discovery: `davinci-crd.version`, `davinci-crd.configuration-options` (added from src/crd/configuration.ts). */
  extension?: Record<string, unknown>;
}

export interface FhirAuthorization {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  subject: string;
  patient?: string;
}

export interface HookContext {
  userId: string;
  patientId: string;
  encounterId?: string;
  draftOrders: Bundle;
  /** order-select only: `Type/id` of the orders the clinician selected. */
  selections?: string[];
}

/** A hook request after validation. */
export interface HookRequest {
  hook: HookName;
  hookInstance: string;
  fhirServer?: string;
  fhirAuthorization?: FhirAuthorization;
  context: HookContext;
  /** Only the keys the EHR sent; null means "the EHR has no data for this key". */
  prefetch: Record<string, Resource | null>;
  /** The request's `extension` object (CRD: `davinci-crd.configuration`, `davinci-crd.requestedVersion`). */
  extension?: Record<string, unknown>;
}

export interface CardSource {
  label: string;
  url?: string;
  topic?: Coding;
}

export interface CardLink {
  label: string;
  url: string;
  type: 'absolute' | 'smart';
}

export interface SuggestionAction {
  type: 'create';
  description: string;
  resource: ServiceRequest;
}

export interface Suggestion {
  label: string;
  uuid: string;
  isRecommended: boolean;
  actions: SuggestionAction[];
}

export type Indicator = 'info' | 'warning' | 'critical';

export interface Card {
  uuid: string;
  summary: string;
  detail?: string;
  indicator: Indicator;
  source: CardSource;
  suggestions?: Suggestion[];
  selectionBehavior?: 'at-most-one' | 'any';
  overrideReasons?: Coding[];
  links?: CardLink[];
  extension?: Record<string, unknown>;
}

export interface HookResponse {
  cards: Card[];
  /** CRD Coverage Information actions (src/crd/system-actions.ts); always present on order-sign. */
  systemActions?: SystemAction[];
}

/** The resources a hook call hands to the evaluator. */
export type PatientRecord = FhirResource[];
