import type { HookContext } from './types';
import { compileTemplate } from './prefetch-template';

const context: HookContext = {
  userId: 'Practitioner/dr-1',
  patientId: 'p-1.a',
  draftOrders: { resourceType: 'Bundle', type: 'collection' },
};

describe('compileTemplate', () => {
  it('substitutes context tokens', () => {
    expect(compileTemplate('Condition?patient={{context.patientId}}').render(context)).toBe('Condition?patient=p-1.a');
  });

  it('substitutes the user id tokens only for the matching user type', () => {
    expect(compileTemplate('Practitioner/{{userPractitionerId}}').render(context)).toBe('Practitioner/dr-1');
    expect(compileTemplate('PractitionerRole/{{userPractitionerRoleId}}').render(context)).toBeUndefined();
  });

  it('URL-encodes substituted values', () => {
    expect(compileTemplate('Patient/{{context.patientId}}').render({ ...context, patientId: 'a b&c' })).toBe('Patient/a%20b%26c');
  });

  it('renders nothing when a token has no value in this context', () => {
    expect(compileTemplate('Encounter/{{context.encounterId}}').render(context)).toBeUndefined();
  });

  it('refuses an unknown token when the template is compiled', () => {
    expect(() => compileTemplate('Patient/{{context.patientID}}')).toThrow(/unsupported token \{\{context\.patientID\}\}/);
    expect(() => compileTemplate('Patient/{{whatever}}')).toThrow(/unsupported token/);
  });
});
