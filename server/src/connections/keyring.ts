import { randomBytes } from 'node:crypto';
import { ConflictError } from '../errors.js';
import type { SecretKeyRow, SecretRows } from '../storage/port.js';
import { LEGACY_KEY_ID, openWithKey, type SecretBox, SecretError, sealedKeyId, sealWithKey } from './secrets.js';

/**
 * A stored secret sealed with a key a rotation retired: refused (409 through the API), naming the key
 * and when it was retired, so whoever reads it knows to set the secret again.
 */
export class RetiredKeyError extends ConflictError {
  constructor(message: string) {
    super('secret_key_retired', message);
  }
}

/** What seals and opens stored secrets: the key ring, or (in unit tests) a bare `SecretBox`. */
export interface Sealer {
  seal(plain: string): string | Promise<string>;
  open(sealed: string): string | Promise<string>;
}

/** The key that seals new values, as `GET /api/settings` shows it. */
export interface SecretKeyInfo {
  id: string;
  createdAt: string;
}

/**
 * How long a process trusts the ring it read: it reads it again before sealing or opening after this.
 * A rotation waits a few times this long after making its key before it re-seals, so every process
 * seals with the new key by then (see `rotateSecrets`).
 */
export const KEY_RING_REFRESH_MS = 1_000;

interface LoadedKey {
  row: SecretKeyRow;
  /** The data key, opened with the master key; undefined when retired, or the master key cannot open it. */
  key?: Buffer;
}

/**
 * The key ring: data keys kept in the database (`SecretRows`), each sealed with the master key, so
 * every process on the database sees the same keys and a rotation needs no change to the master key
 * or to any process's environment. Values are sealed with the newest key not retired, and carry its
 * id ('v2.<id>.…'); values sealed before key ids ('v1.…', the master key itself) are read until a
 * rotation retires them. A retired key's values are refused with a message saying so.
 */
export class SecretKeyring implements Sealer {
  private keys = new Map<string, LoadedKey>();
  private order: SecretKeyRow[] = [];
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly rows: SecretRows,
    private readonly master: SecretBox,
    private readonly options: { now?: () => number; refreshMs?: number } = {},
  ) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** Reads the ring, and makes its first key when it has none in use (a new database, or one from before key ids). */
  async load(): Promise<void> {
    await this.reload();
    if (!this.currentRow()) {
      await this.addKey();
      await this.reload();
    }
  }

  /** Makes a new data key, which seals from now on (in every process once it has read the ring again). */
  async addKey(): Promise<SecretKeyRow> {
    const key = randomBytes(32);
    const row: SecretKeyRow = {
      id: `k${randomBytes(5).toString('hex')}`,
      sealedKey: this.master.seal(key.toString('base64')),
      createdAt: this.now(),
      retiredAt: null,
    };
    await this.rows.addKey(row);
    this.keys.set(row.id, { row, key });
    this.order.push(row);
    return row;
  }

  /** Reads the ring again now (every process does so after KEY_RING_REFRESH_MS anyway). */
  reload(): Promise<void> {
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async read(): Promise<void> {
    const rows = await this.rows.keys();
    const keys = new Map<string, LoadedKey>();
    for (const row of rows) {
      const known = this.keys.get(row.id);
      keys.set(row.id, row.sealedKey === null ? { row } : { row, ...this.unwrap(row, known) });
    }
    this.keys = keys;
    this.order = rows;
    this.readAt = this.now();
  }

  private unwrap(row: SecretKeyRow, known: LoadedKey | undefined): { key?: Buffer } {
    if (known?.key && known.row.sealedKey === row.sealedKey) return { key: known.key };
    try {
      return { key: Buffer.from(this.master.open(row.sealedKey as string), 'base64') };
    } catch {
      // the master key is not the one the ring was made with: its values cannot be opened (said at use)
      return {};
    }
  }

  private async fresh(): Promise<void> {
    if (this.now() - this.readAt >= (this.options.refreshMs ?? KEY_RING_REFRESH_MS)) await this.reload();
  }

  /** The newest key not retired, ordered by creation time, then id (so every process agrees). */
  private currentRow(): SecretKeyRow | undefined {
    const live = this.order.filter((r) => r.retiredAt === null && r.id !== LEGACY_KEY_ID);
    return live[live.length - 1];
  }

  /** The key that seals new values. */
  async current(): Promise<SecretKeyInfo> {
    await this.fresh();
    const row = this.currentRow();
    if (!row) throw new SecretError('the secret key ring holds no key in use');
    return { id: row.id, createdAt: new Date(row.createdAt).toISOString() };
  }

  /**
   * Throws unless this process can open the key in use: a rotation run with another master key than
   * the servers' would add a key they cannot open, and every secret they seal would fail.
   */
  async assertMasterKey(): Promise<void> {
    await this.reload();
    const row = this.currentRow();
    if (row && !this.keys.get(row.id)?.key)
      throw new SecretError(`cannot open secret key ${row.id}: ${this.unusable(row.id)}; nothing was changed`);
  }

  /** Every key of the ring, oldest first (rotation reads it). */
  async list(): Promise<SecretKeyRow[]> {
    await this.reload();
    return [...this.order];
  }

  async seal(plain: string): Promise<string> {
    await this.fresh();
    const row = this.currentRow();
    if (!row) throw new SecretError('the secret key ring holds no key in use');
    return this.sealWith(row.id, plain);
  }

  /** Seals with one key of the ring (rotation seals with the key it made). */
  sealWith(keyId: string, plain: string): string {
    const key = this.keys.get(keyId)?.key;
    if (!key) throw new SecretError(`cannot seal with secret key ${keyId}: ${this.unusable(keyId)}`);
    return sealWithKey(key, keyId, plain);
  }

  async open(sealed: string): Promise<string> {
    await this.fresh();
    const keyId = sealedKeyId(sealed);
    if (keyId === LEGACY_KEY_ID) {
      const legacy = this.keys.get(LEGACY_KEY_ID);
      if (legacy?.row.retiredAt != null) throw this.retired(legacy.row);
      return this.master.open(sealed);
    }
    // sealed by another process with a key made since this one read the ring
    if (!this.keys.has(keyId)) await this.reload();
    const found = this.keys.get(keyId);
    if (found?.row.retiredAt != null) throw this.retired(found.row);
    if (!found?.key)
      throw new SecretError(`cannot decrypt a stored secret sealed with key ${keyId}: ${this.unusable(keyId)}`);
    return openWithKey(found.key, sealed);
  }

  private unusable(keyId: string): string {
    const found = this.keys.get(keyId);
    if (!found) return 'the key ring has no such key (a database restored without its key ring?)';
    if (found.row.retiredAt !== null) return `it was retired at ${new Date(found.row.retiredAt).toISOString()}`;
    return "the master key (SLUICE_SECRET_KEY or the data folder's secret.key) is not the one the key ring was sealed with";
  }

  private retired(row: SecretKeyRow): RetiredKeyError {
    const at = new Date(row.retiredAt ?? 0).toISOString();
    return new RetiredKeyError(
      `cannot decrypt a stored secret sealed with key ${row.id}: that key was retired at ${at} by a secret rotation ` +
        '(sluice secrets rotate); set the secret again',
    );
  }

  /** Records that values sealed before key ids (with the master key itself) are refused from now on. */
  async retireLegacy(at: number): Promise<void> {
    try {
      await this.rows.addKey({ id: LEGACY_KEY_ID, sealedKey: null, createdAt: 0, retiredAt: at });
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
}
