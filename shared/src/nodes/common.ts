import { z } from 'zod';

/** A connection name, or an absolute URL: how HTTP nodes say which system they talk to. */
export const connectionParams = {
  connection: z
    .string()
    .min(1)
    .optional()
    .describe('Name of a connection (base URL and credentials). Leave empty to use an absolute URL.'),
  url: z
    .string()
    .min(1, 'must not be empty')
    .describe('Path joined onto the connection base URL, or an absolute http(s) URL.'),
};

/** Checks that an HTTP node names a connection or gives an absolute URL. */
export function requireConnectionOrAbsoluteUrl(
  value: { connection?: string | undefined; url: string },
  ctx: z.RefinementCtx,
): void {
  if (value.connection) return;
  if (!/^https?:\/\//i.test(value.url)) {
    ctx.addIssue({
      code: 'custom',
      path: ['url'],
      message: 'must be an absolute http(s) URL when no connection is set',
    });
  }
}

export const keyFieldParam = z
  .string()
  .min(1)
  .optional()
  .describe('Field holding the record key (e.g. "key"). Empty: a key is derived from the record content.');

export const retryParams = z
  .strictObject({
    maxAttempts: wholeNumber(1, 1000).default(5).describe('Attempts per record, the first included.'),
    initialDelayMs: wholeNumber(0, 86_400_000)
      .default(500)
      .describe('Wait before the second attempt; doubles each time.'),
    maxDelayMs: wholeNumber(0, 86_400_000).default(30_000).describe('Longest single wait between attempts.'),
  })
  .default({ maxAttempts: 5, initialDelayMs: 500, maxDelayMs: 30_000 })
  .describe('Retries for network errors, timeouts, 408, 429 and 5xx. Other 4xx go to the error port.');

/** A whole number within bounds, with messages that say which bound was crossed. */
export function wholeNumber(min: number, max: number) {
  return z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max.toLocaleString('en-US')}`);
}
