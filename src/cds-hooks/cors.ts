/**
 * CORS for browser-based EHRs and the CDS Hooks sandbox (the `cors` package): any origin may call, with the
 * Authorization (CDS Hooks JWT) and Content-Type headers; a preflight is answered 204 and cached 10 minutes.
 * No cookies are used, so no credentials.
 */
import corsMiddleware from 'cors';

export const cors = corsMiddleware({
  origin: '*',
  methods: 'GET, POST, OPTIONS',
  allowedHeaders: 'Authorization, Content-Type',
  maxAge: 600,
  optionsSuccessStatus: 204,
});
