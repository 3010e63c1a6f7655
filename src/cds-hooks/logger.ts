/**
 * The logging surface the hooks code uses: pino's (created by src/logging/logger.ts with tokens redacted).
 * Log ids, timings and outcomes only: never request bodies, patient data or tokens.
 */
import pino from 'pino';

export type { Logger } from 'pino';

/** For tests and benchmarks that do not read the logs. */
export const silentLogger = pino({ level: 'silent' });
