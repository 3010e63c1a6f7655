/**
 * The logging surface the hooks code uses: pino's, so a pino logger can be passed as is.
 * Log ids, timings and outcomes only: never request bodies, patient data or tokens.
 */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = {
  info() {},
  warn() {},
  error() {},
};
