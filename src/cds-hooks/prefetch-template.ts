/**
 * Prefetch template tokens (CDS Hooks 2.0 "Prefetch tokens"): `{{context.<field>}}` for a string
 * field of the hook context, and `{{userPractitionerId}}` (and the other `user<Type>Id` forms) for
 * the id part of `context.userId`. Templates are parsed once at startup; per call only the values
 * are substituted.
 */
import type { HookContext } from './types';

const TOKEN = /\{\{\s*([A-Za-z.]+)\s*\}\}/g;
const CONTEXT_FIELDS = new Set(['patientId', 'userId', 'encounterId']);
const USER_TOKENS: Record<string, string> = {
  userPractitionerId: 'Practitioner',
  userPractitionerRoleId: 'PractitionerRole',
  userPatientId: 'Patient',
  userRelatedPersonId: 'RelatedPerson',
};

type Part = { text: string } | { token: string };

export interface CompiledTemplate {
  readonly source: string;
  /** The query with every token replaced (URL-encoded); undefined when a token has no value in this context. */
  render(context: HookContext): string | undefined;
}

function tokenValue(token: string, context: HookContext): string | undefined {
  if (token.startsWith('context.')) {
    const value = (context as unknown as Record<string, unknown>)[token.slice('context.'.length)];
    return typeof value === 'string' && value !== '' ? value : undefined;
  }
  const type = USER_TOKENS[token];
  const [userType, userId] = context.userId.split('/');
  return type !== undefined && userType === type && userId ? userId : undefined;
}

/** Throws at startup for a token this service cannot fill, so a typo in hooks/*.json fails fast. */
export function compileTemplate(source: string): CompiledTemplate {
  const parts: Part[] = [];
  let last = 0;
  for (const match of source.matchAll(TOKEN)) {
    const token = match[1];
    const known = token.startsWith('context.') ? CONTEXT_FIELDS.has(token.slice(8)) : token in USER_TOKENS;
    if (!known) throw new Error(`prefetch template "${source}" uses an unsupported token {{${token}}}`);
    parts.push({ text: source.slice(last, match.index) }, { token });
    last = match.index + match[0].length;
  }
  parts.push({ text: source.slice(last) });
  return {
    source,
    render(context) {
      let out = '';
      for (const part of parts) {
        if ('text' in part) {
          out += part.text;
          continue;
        }
        const value = tokenValue(part.token, context);
        if (value === undefined) return undefined;
        out += encodeURIComponent(value);
      }
      return out;
    },
  };
}
