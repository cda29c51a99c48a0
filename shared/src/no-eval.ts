import { config } from 'zod';

/**
 * Imported first by pages served under a Content-Security-Policy without 'unsafe-eval' (the editor):
 * zod otherwise probes whether it may compile parsers with `new Function`, which such a policy
 * refuses and the browser reports as a violation. Parsing is as correct without it, a little slower.
 */
config({ jitless: true });
