/**
 * Generates the project's FHIRHelpers 4.0.1: the hand-written core (cql/fhirhelpers/FHIRHelpers.core.cql) plus one
 * ToString overload for every `FHIRHelpers.ToString` conversion entry of the FHIR model info. Those entries are all
 * primitive or code types whose only element is `value: System.String`; any other shape fails the build, because
 * a silently wrong helper would make the CQL read nothing.
 */
import fs from 'node:fs';

export function generateFhirHelpers(coreCqlPath: string, fhirModelInfoXml: string): string {
  const core = fs.readFileSync(coreCqlPath, 'utf8');
  const conversions = [...fhirModelInfoXml.matchAll(/<conversionInfo\s+functionName="FHIRHelpers\.ToString"\s+fromType="FHIR\.([^"]+)"\s+toType="System\.String"\s*\/>/g)]
    .map((m) => m[1]);
  if (conversions.length === 0) throw new Error('FHIR model info has no FHIRHelpers.ToString conversion entries');
  const overloads = [...new Set(conversions)].sort().map((type) => {
    assertStringValueType(fhirModelInfoXml, type);
    return `define function ToString(value FHIR.${quoteIfNeeded(type)}): value.value`;
  });
  return `${core.trimEnd()}\n\n// Generated from the FHIR 4.0.1 model info's ToString conversion entries (${overloads.length}).\n${overloads.join('\n')}\n`;
}

function assertStringValueType(xml: string, type: string): void {
  const info = new RegExp(`<typeInfo[^>]*\\sname="${type.replace(/\./g, '\\.')}"[^>]*?(/>|>([\\s\\S]*?)</typeInfo>)`).exec(xml);
  if (!info) throw new Error(`FHIR model info names ToString for FHIR.${type} but defines no such type`);
  const body = info[2] ?? '';
  const base = /baseType="FHIR\.([^"]+)"/.exec(info[0])?.[1];
  if (body.includes('<element name="value" elementType="System.String"/>')) return;
  // A type without elements of its own (FHIR.id, FHIR.code...) inherits `value` from FHIR.string.
  if (!body.includes('<element') && base && base !== 'Element') return assertStringValueType(xml, base);
  throw new Error(`FHIR.${type} has no System.String value element; FHIRHelpers.ToString cannot be generated for it`);
}

function quoteIfNeeded(type: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(type) ? type : `"${type}"`;
}
