/**
 * The CRD response types this service returns (CRD 2.2 cards page) and their `source.topic` codes
 * from the CDS Hooks card-type code system (CRD resp-5). Each card is exactly one response type.
 */
import type { Coding } from 'fhir/r4';

export const CARD_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/cdshooks-card-type';

/** The policy evaluation: an "External Reference" card (text plus the link to our policy page). */
export const GUIDELINE_TOPIC: Coding = { system: CARD_TYPE_SYSTEM, code: 'guideline', display: 'Guideline' };

/** Orders that would document a missing criterion: an "Identify Additional Orders" card. */
export const CLINICAL_REMINDER_TOPIC: Coding = { system: CARD_TYPE_SYSTEM, code: 'clinical-reminder', display: 'Clinical Reminder' };

/** The Coverage Information response type is a system action, never a card (CRD resp-25); its configuration code. */
export const COVERAGE_INFO_CODE = 'coverage-info';
