import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';
const KEY_FILE_NAME = 'secret.key';
const ENV_NAME = 'SLUICE_SECRET_KEY';
const OPEN_FAILED = `cannot decrypt a stored secret: wrong ${ENV_NAME} or damaged data`;
export const MASK = '••••';

/** Raised when a secret or the secret key cannot be used; messages never contain secret material. */
export class SecretError extends Error {
  override name = 'SecretError';
}

/** Encrypts and decrypts short secrets with AES-256-GCM under one 32-byte key. */
export class SecretBox {
  readonly #key: Buffer;

  /** Takes a copy of the key; throws SecretError unless it is exactly 32 bytes. */
  constructor(key: Buffer) {
    if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
      throw new SecretError(`secret key must be ${KEY_BYTES} bytes`);
    }
    this.#key = Buffer.from(key);
  }

  /**
   * Encrypts to 'v1.' + base64url(iv 12 bytes) + '.' + base64url(tag 16 bytes) + '.' + base64url(ciphertext),
   * with a fresh random IV every call.
   */
  seal(plain: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.#key, iv, { authTagLength: TAG_BYTES });
    const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return `${VERSION}.${encode(iv)}.${encode(tag)}.${encode(ciphertext)}`;
  }

  /**
   * Decrypts a sealed string; throws SecretError('cannot decrypt a stored secret: wrong SLUICE_SECRET_KEY or damaged
   * data') on a bad tag, wrong key, or a malformed (including non-canonical base64url) string.
   */
  open(sealed: string): string {
    const { iv, tag, ciphertext } = parseSealed(sealed);
    try {
      const decipher = createDecipheriv(ALGORITHM, this.#key, iv, { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretError(OPEN_FAILED);
    }
  }
}

/** The key id a value sealed before key ids (format v1, sealed with the master key itself) counts as. */
export const LEGACY_KEY_ID = 'legacy';
const KEYED_VERSION = 'v2';

/**
 * Encrypts under a data key of the key ring, to 'v2.' + key id + '.' + iv + '.' + tag + '.' + ciphertext
 * (base64url), the key id bound in as associated data so a value cannot be passed off as another key's.
 */
export function sealWithKey(key: Buffer, keyId: string, plain: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(keyId, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return `${KEYED_VERSION}.${keyId}.${encode(iv)}.${encode(cipher.getAuthTag())}.${encode(ciphertext)}`;
}

/** Decrypts a 'v2.' value with its key; throws SecretError (never with secret material) when it cannot. */
export function openWithKey(key: Buffer, sealed: string): string {
  const keyId = sealedKeyId(sealed);
  const { iv, tag, ciphertext } = parseSealed(sealed.slice(sealed.indexOf('.', KEYED_VERSION.length + 1) + 1), false);
  try {
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(keyId, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretError(`cannot decrypt a stored secret sealed with key ${keyId}: damaged data`);
  }
}

/** The id of the key a value was sealed with: its key ring id, or LEGACY_KEY_ID for a v1 value. */
export function sealedKeyId(sealed: string): string {
  if (typeof sealed === 'string' && sealed.startsWith(`${VERSION}.`)) return LEGACY_KEY_ID;
  const match = typeof sealed === 'string' ? /^v2\.([a-z0-9]{1,40})\./.exec(sealed) : null;
  if (!match) throw new SecretError(OPEN_FAILED);
  return match[1] as string;
}

function encode(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/** Strict base64url decoding: only the url alphabet, no padding, and the canonical encoding of its bytes. */
function decodeStrict(text: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  return encode(bytes) === text ? bytes : null;
}

/** Reads 'v1.' + iv + '.' + tag + '.' + ciphertext, or (versioned false) the same without the version. */
function parseSealed(sealed: string, versioned = true): { iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  if (!versioned) parts.unshift(VERSION);
  const [version, ivText, tagText, ciphertextText] = parts;
  if (parts.length !== 4 || version !== VERSION) throw new SecretError(OPEN_FAILED);
  const iv = decodeStrict(ivText ?? '');
  const tag = decodeStrict(tagText ?? '');
  const ciphertext = decodeStrict(ciphertextText ?? '');
  if (iv?.length !== IV_BYTES || tag?.length !== TAG_BYTES || !ciphertext) throw new SecretError(OPEN_FAILED);
  return { iv, tag, ciphertext };
}

/** A loaded secret key and where it came from. */
export interface LoadedSecretKey {
  key: Buffer;
  source: 'env' | 'file' | 'generated';
  file?: string;
}

/**
 * Where the key comes from, in order:
 * 1. env.SLUICE_SECRET_KEY: 64 hex chars or base64/base64url of exactly 32 bytes; anything else throws SecretError
 *    naming SLUICE_SECRET_KEY and the expected form (never the value itself). An empty value counts as unset.
 * 2. otherwise the key file `<dataDir>/secret.key` (base64 of 32 bytes), refused if group/others may read or write it;
 * 3. otherwise 32 fresh random bytes written to that file with mode 0o600 (flag 'wx', so racing processes agree).
 */
export function loadSecretKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): LoadedSecretKey {
  const fromEnv = env[ENV_NAME]?.trim();
  if (fromEnv) return { key: parseEnvKey(fromEnv), source: 'env' };
  const file = path.join(dataDir, KEY_FILE_NAME);
  const existing = readKeyFile(file);
  if (existing) return { key: existing, source: 'file', file };
  return createKeyFile(dataDir, file);
}

function parseEnvKey(value: string): Buffer {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  const key = decodeBase64Key(value);
  if (key) return key;
  throw new SecretError(
    `${ENV_NAME} must be ${KEY_BYTES} bytes written as 64 hex characters or as base64/base64url ` +
      `(got ${value.length} characters that are neither); generate one with: openssl rand -hex 32`,
  );
}

/** Accepts standard base64 (padded or not) or base64url of exactly 32 bytes. */
function decodeBase64Key(value: string): Buffer | null {
  const unpadded = value.replace(/=+$/, '');
  if (value.length - unpadded.length > 2) return null;
  const key = decodeStrict(unpadded.replace(/\+/g, '-').replace(/\//g, '_'));
  return key?.length === KEY_BYTES ? key : null;
}

/** Reads the key file, or returns null when it does not exist. */
function readKeyFile(file: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
  try {
    checkKeyFile(file, fd);
    return parseKeyFile(file, readFileSync(fd, 'utf8'));
  } finally {
    closeSync(fd);
  }
}

function checkKeyFile(file: string, fd: number): void {
  const stat = fstatSync(fd);
  if (!stat.isFile()) throw new SecretError(`${file} is not a regular file`);
  if (process.platform === 'win32' || (stat.mode & 0o077) === 0) return;
  const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
  throw new SecretError(
    `${file} has mode ${mode}, so other users can read or change the secret key; ` +
      `restrict it with: chmod 600 ${JSON.stringify(file)}`,
  );
}

function parseKeyFile(file: string, text: string): Buffer {
  const key = decodeBase64Key(text.trim());
  if (key) return key;
  throw new SecretError(
    `${file} does not hold a base64 ${KEY_BYTES}-byte key; restore it from a backup or set ${ENV_NAME} ` +
      '(a new key cannot decrypt secrets stored under the old one)',
  );
}

/** Generates and writes a new key file; if another process created it first, uses theirs. */
function createKeyFile(dataDir: string, file: string): LoadedSecretKey {
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(KEY_BYTES);
  try {
    writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return { key, source: 'generated', file };
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
    return { key: readRacedKeyFile(file), source: 'file', file };
  }
}

/** The winner of a creation race may not have written its key yet: wait briefly for a non-empty file. */
function readRacedKeyFile(file: string): Buffer {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const key = readKeyFile(file);
      if (key) return key;
    } catch (error) {
      if (!(error instanceof SecretError) || readFileSync(file, 'utf8').trim() !== '') throw error;
    }
    sleepSync(10);
  }
  return readKeyFile(file) ?? parseKeyFile(file, '');
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/** Masks a secret for display: '••••' + last 4 chars when longer than 8, else '••••'; undefined/null/'' → null. */
export function maskSecret(secret: string | null | undefined): string | null {
  if (!secret) return null;
  const chars = Array.from(secret);
  return chars.length > 8 ? MASK + chars.slice(-4).join('') : MASK;
}

/** Constant-time comparison of two strings (timingSafeEqual over SHA-256 digests, so lengths may differ). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
