/**
 * The service's structured JSON logger (pino). Log lines carry request ids, timings, counts and
 * outcomes, never patient data or credentials. The redaction below is a safety net for a careless
 * log call, not a licence to log whole objects.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Paths pino censors wherever a log call passes them (wildcards match one level). */
export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
  'access_token',
  '*.access_token',
  'accessToken',
  '*.accessToken',
  'fhirAuthorization',
  '*.fhirAuthorization',
  'token',
  '*.token',
];

export interface LoggerOptions {
  level: string;
  /** Where lines go; stdout when omitted. Tests pass a stream that captures them. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  // Synchronous stdout writes (pino's default destination): a line logged just before
  // process.exit, e.g. by the shutdown handler, is not lost.
  return pino(
    {
      level: options.level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    options.destination ?? pino.destination(1),
  );
}
