import { setTimeout as sleep } from 'node:timers/promises';
import type { SecretRows } from '../storage/port.js';
import { KEY_RING_REFRESH_MS, type SecretKeyring } from './keyring.js';
import { LEGACY_KEY_ID, SecretError, sealedKeyId } from './secrets.js';

/** What a rotation did. */
export interface RotationResult {
  /** The key every stored secret is sealed with now. */
  keyId: string;
  createdAt: string;
  /** Values re-sealed. */
  resealed: number;
  /** Keys retired (their values are refused from now on). */
  retired: string[];
}

export interface RotationOptions {
  ring: SecretKeyring;
  rows: SecretRows;
  /**
   * How long to wait after making the new key before re-sealing, so that every process has read the
   * ring again (they do after KEY_RING_REFRESH_MS) and seals with the new key: a value one of them
   * sealed with the old key after the sweep passed would be lost when the old key is retired.
   */
  graceMs?: number;
  now?: () => number;
  /** A line per step, for the command's output. */
  log?: (line: string) => void;
}

const MAX_PASSES = 10;

/**
 * Re-seals every stored secret under a new key while the server runs, then retires the keys before
 * it. Each value is replaced on its own by a conditional update (a value changed meanwhile is read
 * again on the next pass), so no lock is held and the old keys open values until the end. Two
 * rotations at once: the one whose key is older gives up, the newer finishes for both.
 */
export async function rotateSecrets(o: RotationOptions): Promise<RotationResult> {
  const now = o.now ?? Date.now;
  const log = o.log ?? (() => {});
  await o.ring.assertMasterKey();
  const made = await o.ring.addKey();
  log(`new key ${made.id}; waiting for every process to seal with it`);
  await sleep(o.graceMs ?? 3 * KEY_RING_REFRESH_MS);
  let resealed = 0;
  for (let pass = 0; ; pass++) {
    const stale = (await o.rows.sealedValues()).filter((v) => sealedKeyId(v.sealed) !== made.id);
    if (stale.length === 0) break;
    if (pass === MAX_PASSES)
      throw new SecretError(`${stale.length} secrets kept changing under older keys; run the rotation again`);
    await stillNewest(o.ring, made.id);
    for (const value of stale) {
      const plain = await o.ring.open(value.sealed);
      if (await o.rows.replaceSealed(value, value.sealed, o.ring.sealWith(made.id, plain))) resealed++;
    }
  }
  await stillNewest(o.ring, made.id);
  const older = (await o.ring.list()).filter((k) => k.id !== made.id && k.id !== LEGACY_KEY_ID && k.retiredAt === null);
  const at = now();
  await o.rows.retireKeys(
    older.map((k) => k.id),
    at,
  );
  await o.ring.retireLegacy(at);
  await o.ring.reload();
  const retired = older.map((k) => k.id);
  log(
    `re-sealed ${resealed} secrets; retired ${retired.length ? retired.join(', ') : 'no key'} and values sealed before key ids`,
  );
  return { keyId: made.id, createdAt: new Date(made.createdAt).toISOString(), resealed, retired };
}

/** Refuses to go on when a newer rotation has begun: its key is the one to seal with, and it retires this one. */
async function stillNewest(ring: SecretKeyring, keyId: string): Promise<void> {
  await ring.reload();
  const current = await ring.current();
  if (current.id !== keyId)
    throw new SecretError(`another rotation began meanwhile (key ${current.id}); it finishes the job`);
}
