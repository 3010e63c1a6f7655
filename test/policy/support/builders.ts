/**
 * Small FHIR R4 builders for the policy tests: each test states only the fields its criterion reads.
 * Ids are generated unless given; every clinical resource points at the one test patient `Patient/p1`.
 * Dates are fixed: the order date of every test is ORDER_DATE (draft orders carry it as authoredOn).
 */
import type {
  AllergyIntolerance,
  CodeableConcept,
  Coding,
  Condition,
  DeviceRequest,
  MedicationRequest,
  MedicationStatement,
  Observation,
  Patient,
  Procedure,
  Reference,
  Resource,
  ServiceRequest,
} from 'fhir/r4';

export const ORDER_DATE = '2026-06-15';
export const PATIENT_ID = 'p1';

export const SYSTEM = {
  cpt: 'http://www.ama-assn.org/go/cpt',
  icd10cm: 'http://hl7.org/fhir/sid/icd-10-cm',
  snomed: 'http://snomed.info/sct',
  loinc: 'http://loinc.org',
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  hcpcsBlueButton: 'https://bluebutton.cms.gov/resources/codesystem/hcpcs',
  hcpcsCms: 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets',
  spasticityScales: 'http://intrathecal-cds.example.org/fhir/CodeSystem/spasticity-scales',
  conditionClinical: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  conditionVerification: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
} as const;

export const cpt = (code: string, display?: string): Coding => ({ system: SYSTEM.cpt, code, ...(display ? { display } : {}) });
export const icd = (code: string, display?: string): Coding => ({ system: SYSTEM.icd10cm, code, ...(display ? { display } : {}) });
export const sct = (code: string, display?: string): Coding => ({ system: SYSTEM.snomed, code, ...(display ? { display } : {}) });
export const loinc = (code: string, display?: string): Coding => ({ system: SYSTEM.loinc, code, ...(display ? { display } : {}) });
export const rx = (code: string, display?: string): Coding => ({ system: SYSTEM.rxnorm, code, ...(display ? { display } : {}) });

/** Common codings, named after what criteria.md calls them. */
export const CODE = {
  nrs: loinc('72514-3', 'Pain severity - 0-10 verbal numeric rating [Score] - Reported'),
  painSeverity: loinc('38208-5', 'Pain severity - Reported'),
  ashworth: sct('765771006', 'Modified Ashworth scale'),
  penn: { system: SYSTEM.spasticityScales, code: 'penn-spasm-frequency' } as Coding,
  morphine: rx('7052', 'morphine'),
  gabapentin: rx('25480', 'gabapentin'),
  duloxetine: rx('72625', 'duloxetine'),
  oxycodone: rx('7804', 'oxycodone'),
  baclofen: rx('1292', 'baclofen'),
  tizanidine: rx('57258', 'tizanidine'),
  bupivacaine: rx('1815', 'bupivacaine'),
  methylprednisolone: rx('6902', 'methylprednisolone'),
  lisinopril: rx('29046', 'lisinopril'),
  physicalTherapy: cpt('97110', 'Therapeutic exercises'),
  psychotherapy: cpt('90837', 'Psychotherapy, 60 minutes'),
  psychEvaluation: cpt('90791', 'Psychiatric diagnostic evaluation'),
  laminectomy: cpt('63047', 'Laminectomy, lumbar'),
  trial: cpt('62322', 'Interlaminar epidural or subarachnoid injection, lumbar'),
};

let sequence = 0;
function nextId(prefix: string): string {
  sequence += 1;
  return `${prefix}-${sequence}`;
}

const subject: Reference = { reference: `Patient/${PATIENT_ID}` };

/** `Type/id` of a resource, as the evaluation cites it. */
export function ref(resource: Resource): string {
  return `${resource.resourceType}/${resource.id}`;
}

function concept(coding: Coding | Coding[], text?: string): CodeableConcept {
  return { coding: Array.isArray(coding) ? coding : [coding], ...(text ? { text } : {}) };
}

export function patient(opts: { id?: string; birthDate?: string | null } = {}): Patient {
  const birthDate = opts.birthDate === undefined ? '1970-03-12' : opts.birthDate;
  return {
    resourceType: 'Patient',
    id: opts.id ?? PATIENT_ID,
    name: [{ family: 'Testpatient', given: ['Synthetic'] }],
    ...(birthDate === null ? {} : { birthDate }),
  };
}

export type ClinicalStatus = 'active' | 'recurrence' | 'relapse' | 'inactive' | 'remission' | 'resolved';
export type VerificationStatus = 'unconfirmed' | 'provisional' | 'differential' | 'confirmed' | 'refuted' | 'entered-in-error';

export function condition(
  code: Coding | Coding[],
  opts: { id?: string; clinical?: ClinicalStatus | null; verification?: VerificationStatus; recordedDate?: string; onsetDateTime?: string } = {},
): Condition {
  const clinical = opts.clinical === undefined ? 'active' : opts.clinical;
  return {
    resourceType: 'Condition',
    id: opts.id ?? nextId('cond'),
    subject,
    code: concept(code),
    ...(clinical ? { clinicalStatus: concept({ system: SYSTEM.conditionClinical, code: clinical }) } : {}),
    ...(opts.verification ? { verificationStatus: concept({ system: SYSTEM.conditionVerification, code: opts.verification }) } : {}),
    ...(opts.recordedDate ? { recordedDate: opts.recordedDate } : {}),
    ...(opts.onsetDateTime ? { onsetDateTime: opts.onsetDateTime } : {}),
  };
}

export interface ProcedureOptions {
  id?: string;
  status?: Procedure['status'];
  performedDateTime?: string;
  /** [start, end]; end may be omitted. */
  performedPeriod?: [string, string?];
  statusReason?: string;
  reasonCode?: Coding[];
  reasonReference?: Resource[];
  usedCode?: CodeableConcept[];
  partOf?: Resource[];
  text?: string;
}

export function procedure(code: Coding | Coding[], opts: ProcedureOptions = {}): Procedure {
  const [start, end] = opts.performedPeriod ?? [];
  return {
    resourceType: 'Procedure',
    id: opts.id ?? nextId('proc'),
    status: opts.status ?? 'completed',
    subject,
    code: concept(code, opts.text),
    ...(opts.performedDateTime ? { performedDateTime: opts.performedDateTime } : {}),
    ...(opts.performedPeriod ? { performedPeriod: { start, ...(end ? { end } : {}) } } : {}),
    ...(opts.statusReason ? { statusReason: { text: opts.statusReason } } : {}),
    ...(opts.reasonCode ? { reasonCode: opts.reasonCode.map((c) => concept(c)) } : {}),
    ...(opts.reasonReference ? { reasonReference: opts.reasonReference.map((r) => ({ reference: ref(r) })) } : {}),
    ...(opts.usedCode ? { usedCode: opts.usedCode } : {}),
    ...(opts.partOf ? { partOf: opts.partOf.map((r) => ({ reference: ref(r) })) } : {}),
  };
}

/** A completed trial (CPT 62322 unless given) at a point in time or over a period. */
export function trialProcedure(opts: ProcedureOptions & { code?: Coding } = {}): Procedure {
  return procedure(opts.code ?? CODE.trial, opts);
}

export interface ObservationOptions {
  id?: string;
  status?: Observation['status'];
  effectiveDateTime?: string;
  effectivePeriod?: [string, string?];
  valueQuantity?: number;
  valueInteger?: number;
  valueString?: string;
  valueCodeableConcept?: CodeableConcept;
  partOf?: Resource[];
}

export function observation(code: Coding | Coding[], opts: ObservationOptions = {}): Observation {
  const [start, end] = opts.effectivePeriod ?? [];
  return {
    resourceType: 'Observation',
    id: opts.id ?? nextId('obs'),
    status: opts.status ?? 'final',
    subject,
    code: concept(code),
    ...(opts.effectiveDateTime ? { effectiveDateTime: opts.effectiveDateTime } : {}),
    ...(opts.effectivePeriod ? { effectivePeriod: { start, ...(end ? { end } : {}) } } : {}),
    ...(opts.valueQuantity !== undefined ? { valueQuantity: { value: opts.valueQuantity } } : {}),
    ...(opts.valueInteger !== undefined ? { valueInteger: opts.valueInteger } : {}),
    ...(opts.valueString !== undefined ? { valueString: opts.valueString } : {}),
    ...(opts.valueCodeableConcept ? { valueCodeableConcept: opts.valueCodeableConcept } : {}),
    ...(opts.partOf ? { partOf: opts.partOf.map((r) => ({ reference: ref(r) })) } : {}),
  };
}

/** A 0-10 numeric pain score (LOINC 72514-3) at a date-time. */
export function painScore(value: number, effectiveDateTime: string, opts: ObservationOptions = {}): Observation {
  return observation(CODE.nrs, { effectiveDateTime, valueQuantity: value, ...opts });
}

export interface MedicationRequestOptions {
  id?: string;
  status?: MedicationRequest['status'];
  authoredOn?: string;
  validityEnd?: string;
  statusReason?: string;
  reasonCode?: Coding[];
  reasonReference?: Resource[];
  text?: string;
}

export function medicationRequest(medication: Coding | Coding[] | null, opts: MedicationRequestOptions = {}): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id: opts.id ?? nextId('medrx'),
    status: opts.status ?? 'active',
    intent: 'order',
    subject,
    medicationCodeableConcept: medication ? concept(medication, opts.text) : { text: opts.text ?? '' },
    ...(opts.authoredOn ? { authoredOn: opts.authoredOn } : {}),
    ...(opts.validityEnd ? { dispenseRequest: { validityPeriod: { start: opts.authoredOn, end: opts.validityEnd } } } : {}),
    ...(opts.statusReason ? { statusReason: { text: opts.statusReason } } : {}),
    ...(opts.reasonCode ? { reasonCode: opts.reasonCode.map((c) => concept(c)) } : {}),
    ...(opts.reasonReference ? { reasonReference: opts.reasonReference.map((r) => ({ reference: ref(r) })) } : {}),
  };
}

export interface MedicationStatementOptions {
  id?: string;
  status?: MedicationStatement['status'];
  effectiveDateTime?: string;
  effectivePeriod?: [string, string?];
  statusReason?: string;
}

export function medicationStatement(medication: Coding, opts: MedicationStatementOptions = {}): MedicationStatement {
  const [start, end] = opts.effectivePeriod ?? [];
  return {
    resourceType: 'MedicationStatement',
    id: opts.id ?? nextId('medst'),
    status: opts.status ?? 'completed',
    subject,
    medicationCodeableConcept: concept(medication),
    ...(opts.effectiveDateTime ? { effectiveDateTime: opts.effectiveDateTime } : {}),
    ...(opts.effectivePeriod ? { effectivePeriod: { start, ...(end ? { end } : {}) } } : {}),
    ...(opts.statusReason ? { statusReason: [{ text: opts.statusReason }] } : {}),
  };
}

export function allergyIntolerance(
  substance: Coding,
  opts: { id?: string; type?: 'allergy' | 'intolerance'; recordedDate?: string; onsetDateTime?: string } = {},
): AllergyIntolerance {
  return {
    resourceType: 'AllergyIntolerance',
    id: opts.id ?? nextId('allergy'),
    patient: subject,
    type: opts.type ?? 'intolerance',
    code: concept(substance),
    ...(opts.recordedDate ? { recordedDate: opts.recordedDate } : {}),
    ...(opts.onsetDateTime ? { onsetDateTime: opts.onsetDateTime } : {}),
  };
}

export interface OrderOptions {
  id?: string;
  /** Defaults to ORDER_DATE; null leaves authoredOn out. */
  authoredOn?: string | null;
  reasonCode?: Coding[];
  reasonReference?: Resource[];
  /** Each entry becomes one orderDetail CodeableConcept: a string is its text. */
  orderDetail?: Array<string | CodeableConcept>;
}

export function serviceRequest(code: Coding | Coding[], opts: OrderOptions = {}): ServiceRequest {
  const authoredOn = opts.authoredOn === undefined ? ORDER_DATE : opts.authoredOn;
  return {
    resourceType: 'ServiceRequest',
    id: opts.id ?? nextId('sr'),
    status: 'draft',
    intent: 'order',
    subject,
    code: concept(code),
    ...(authoredOn ? { authoredOn } : {}),
    ...(opts.reasonCode ? { reasonCode: opts.reasonCode.map((c) => concept(c)) } : {}),
    ...(opts.reasonReference ? { reasonReference: opts.reasonReference.map((r) => ({ reference: ref(r) })) } : {}),
    ...(opts.orderDetail ? { orderDetail: opts.orderDetail.map((d) => (typeof d === 'string' ? { text: d } : d)) } : {}),
  };
}

export function deviceRequest(code: Coding | Coding[], opts: OrderOptions = {}): DeviceRequest {
  const authoredOn = opts.authoredOn === undefined ? ORDER_DATE : opts.authoredOn;
  return {
    resourceType: 'DeviceRequest',
    id: opts.id ?? nextId('dr'),
    status: 'draft',
    intent: 'order',
    subject,
    codeCodeableConcept: concept(code),
    ...(authoredOn ? { authoredOn } : {}),
    ...(opts.reasonCode ? { reasonCode: opts.reasonCode.map((c) => concept(c)) } : {}),
    ...(opts.reasonReference ? { reasonReference: opts.reasonReference.map((r) => ({ reference: ref(r) })) } : {}),
  };
}

/** A pump implant order (CPT 62362). */
export const implantOrder = (opts: OrderOptions = {}): ServiceRequest => serviceRequest(cpt('62362'), opts);

/** A trial order (CPT 62322); pair it with `trialAgentDraft()` in draftOrders. */
export const trialOrder = (opts: OrderOptions = {}): ServiceRequest => serviceRequest(CODE.trial, opts);

/** The intrathecal morphine MedicationRequest that makes a 62322 order a trial (a draft order, not the record). */
export const trialAgentDraft = (opts: MedicationRequestOptions = {}): MedicationRequest =>
  medicationRequest(CODE.morphine, { status: 'draft', authoredOn: ORDER_DATE, ...opts });

export function bundle(resources: Resource[]): { resourceType: 'Bundle'; type: 'searchset'; entry: Array<{ resource: Resource }> } {
  return { resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) };
}
