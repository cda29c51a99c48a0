import type { ReadinessCheck } from './port.js';

/** How long the database has to answer a readiness probe before it counts as not answering. */
export const DATABASE_ANSWER_MS = 2_000;

/** Whether the database answered `probe` within `ms`, as a readiness check. */
export async function answers(probe: () => Promise<unknown>, ms = DATABASE_ANSWER_MS): Promise<ReadinessCheck> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([probe(), late]);
    return { ready: true, detail: `answered in ${Math.round(performance.now() - started)} ms` };
  } catch (err) {
    return { ready: false, detail: `the database does not answer: ${(err as Error).message.split('\n')[0]}` };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The migrations check: the newest migration the database records (drizzle's folder time, ms; 0 or
 * null when it records none) against the newest this build has.
 */
export function migrationsCheck(recorded: number | null, known: number): ReadinessCheck {
  if (recorded !== null && recorded >= known)
    return { ready: true, detail: 'every migration of this build is applied' };
  const newest = new Date(known).toISOString();
  return {
    ready: false,
    detail: recorded
      ? `the database's newest migration is of ${new Date(recorded).toISOString()}, this build's of ${newest}: restart to migrate`
      : `the database records no migration (this build's newest is of ${newest})`,
  };
}
