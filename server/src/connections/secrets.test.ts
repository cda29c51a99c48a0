import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LEGACY_KEY_ID,
  loadSecretKey,
  maskSecret,
  openWithKey,
  SecretBox,
  SecretError,
  safeEqual,
  sealedKeyId,
  sealWithKey,
} from './secrets.js';

const OPEN_FAILED = 'cannot decrypt a stored secret: wrong SLUICE_SECRET_KEY or damaged data';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sluice-secrets-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Flips one bit in the decoded bytes of part `index` of a sealed string. */
function tamper(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index] ?? '', 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

function expectOpenFails(box: SecretBox, sealed: string): void {
  expect(() => box.open(sealed)).toThrow(SecretError);
  expect(() => box.open(sealed)).toThrow(OPEN_FAILED);
}

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips plain text, unicode and the empty string', () => {
    for (const plain of ['hunter2', 'pässwörd 🔑 秘密', '', 'x'.repeat(10_000)]) {
      expect(box.open(box.seal(plain))).toBe(plain);
    }
  });

  it('writes v1.iv.tag.ciphertext in base64url', () => {
    const sealed = box.seal('token');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*$/);
  });

  it('uses a fresh IV, so two seals of the same text differ', () => {
    const a = box.seal('same text');
    const b = box.seal('same text');
    expect(a).not.toBe(b);
    expect(a.split('.')[1]).not.toBe(b.split('.')[1]);
  });

  it('does not contain the plain text', () => {
    const plain = 'super-secret-api-key-0123456789';
    const sealed = box.seal(plain);
    expect(sealed).not.toContain(plain);
    expect(sealed).not.toContain(Buffer.from(plain).toString('base64url'));
  });

  it.each([
    [1, 'iv'],
    [2, 'tag'],
    [3, 'ciphertext'],
  ])('refuses a tampered %s (%s)', (index) => {
    expectOpenFails(box, tamper(box.seal('do not touch'), index));
  });

  it('refuses a non-canonical base64url part', () => {
    const parts = box.seal('abc').split('.');
    const tag = parts[2] ?? '';
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // The last of 22 characters carries 2 data bits and 4 padding bits: flip a padding bit only.
    const last = alphabet[alphabet.indexOf(tag.at(-1) ?? 'A') ^ 1] ?? 'A';
    parts[2] = tag.slice(0, -1) + last;
    expect(Buffer.from(parts[2], 'base64url').equals(Buffer.from(tag, 'base64url'))).toBe(true);
    expectOpenFails(box, parts.join('.'));
  });

  it('fails under a different key', () => {
    const other = new SecretBox(randomBytes(32));
    expectOpenFails(other, box.seal('for the first key only'));
  });

  it.each(['', 'v2.a.b.c', 'v1.a.b', 'v1.a.b.c', 'v1...', 'v1.!!!.???.***', 'plain text'])(
    'refuses malformed %j',
    (s) => {
      expectOpenFails(box, s);
    },
  );

  it('refuses an extra part', () => {
    expectOpenFails(box, `${box.seal('x')}.AAAA`);
  });

  it('requires a 32-byte key', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(SecretError);
    expect(() => new SecretBox(Buffer.alloc(0))).toThrow(SecretError);
  });

  it('keeps its own copy of the key', () => {
    const key = randomBytes(32);
    const own = new SecretBox(key);
    const sealed = own.seal('copy');
    key.fill(0);
    expect(own.open(sealed)).toBe('copy');
  });
});

describe('loadSecretKey', () => {
  it('reads a 64-hex-character key from SLUICE_SECRET_KEY', () => {
    const key = randomBytes(32);
    const loaded = loadSecretKey(dir, { SLUICE_SECRET_KEY: key.toString('hex') });
    expect(loaded.source).toBe('env');
    expect(loaded.file).toBeUndefined();
    expect(loaded.key.equals(key)).toBe(true);
  });

  it('reads base64 and base64url keys from SLUICE_SECRET_KEY', () => {
    const key = Buffer.alloc(32, 0xfb);
    for (const text of [key.toString('base64'), key.toString('base64').replace(/=$/, ''), key.toString('base64url')]) {
      const loaded = loadSecretKey(dir, { SLUICE_SECRET_KEY: text });
      expect(loaded.source).toBe('env');
      expect(loaded.key.equals(key)).toBe(true);
    }
  });

  it('prefers the env key over an existing key file', () => {
    loadSecretKey(dir, {});
    const key = randomBytes(32);
    expect(loadSecretKey(dir, { SLUICE_SECRET_KEY: key.toString('hex') }).key.equals(key)).toBe(true);
  });

  it.each([
    'not-a-key-at-all',
    'abcd'.repeat(15),
    randomBytes(16).toString('hex'),
    randomBytes(31).toString('base64'),
    randomBytes(33).toString('base64'),
    `${randomBytes(32).toString('base64')}==`,
  ])('refuses a bad env key without echoing it (%#)', (bad) => {
    let error: unknown;
    try {
      loadSecretKey(dir, { SLUICE_SECRET_KEY: bad });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SecretError);
    const message = (error as Error).message;
    expect(message).toContain('SLUICE_SECRET_KEY');
    expect(message).toContain('64 hex characters');
    expect(message).not.toContain(bad);
  });

  it('generates a key file with mode 0600, then reads the same key back', () => {
    const dataDir = path.join(dir, 'nested', 'data');
    const first = loadSecretKey(dataDir, {});
    const file = path.join(dataDir, 'secret.key');
    expect(first.source).toBe('generated');
    expect(first.file).toBe(file);
    expect(first.key).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64').equals(first.key)).toBe(true);

    const second = loadSecretKey(dataDir, {});
    expect(second.source).toBe('file');
    expect(second.file).toBe(file);
    expect(second.key.equals(first.key)).toBe(true);
  });

  it('treats an empty SLUICE_SECRET_KEY as unset', () => {
    expect(loadSecretKey(dir, { SLUICE_SECRET_KEY: '' }).source).toBe('generated');
  });

  it.skipIf(process.platform === 'win32')('refuses a key file readable by others, explaining chmod 600', () => {
    const { file } = loadSecretKey(dir, {});
    chmodSync(file!, 0o644);
    expect(() => loadSecretKey(dir, {})).toThrow(SecretError);
    expect(() => loadSecretKey(dir, {})).toThrow(/0644.*chmod 600/);
  });

  it('refuses a damaged key file instead of replacing it', () => {
    const file = path.join(dir, 'secret.key');
    writeFileSync(file, 'garbage\n', { mode: 0o600 });
    expect(() => loadSecretKey(dir, {})).toThrow(SecretError);
    expect(readFileSync(file, 'utf8')).toBe('garbage\n');
  });

  it('gives a key that opens what it sealed across loads', () => {
    const sealed = new SecretBox(loadSecretKey(dir, {}).key).seal('webhook-secret');
    expect(new SecretBox(loadSecretKey(dir, {}).key).open(sealed)).toBe('webhook-secret');
  });
});

describe('maskSecret', () => {
  it.each([
    [undefined, null],
    [null, null],
    ['', null],
    ['abc', '••••'],
    ['12345678', '••••'],
    ['123456789', '••••6789'],
    ['sk_live_abcdefWXYZ', '••••WXYZ'],
  ])('masks %j as %j', (input, expected) => {
    expect(maskSecret(input)).toBe(expected);
  });
});

describe('safeEqual', () => {
  it('compares strings of equal and different lengths', () => {
    expect(safeEqual('token-123', 'token-123')).toBe(true);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual('token-123', 'token-124')).toBe(false);
    expect(safeEqual('token', 'token-123')).toBe(false);
    expect(safeEqual('', 'x')).toBe(false);
  });
});

describe('values sealed with a data key of the key ring', () => {
  const key = randomBytes(32);

  it('carry their key id and round-trip', () => {
    for (const plain of ['hunter2', 'pässwörd 🔑', '']) {
      const sealed = sealWithKey(key, 'k0123456789', plain);
      expect(sealed.startsWith('v2.k0123456789.')).toBe(true);
      expect(sealedKeyId(sealed)).toBe('k0123456789');
      expect(openWithKey(key, sealed)).toBe(plain);
    }
    expect(sealedKeyId(new SecretBox(key).seal('x'))).toBe(LEGACY_KEY_ID);
    expect(() => sealedKeyId('v3.nothing')).toThrow(SecretError);
  });

  it('refuse a value whose key id was changed (the id is bound in), tampered bytes and another key', () => {
    const sealed = sealWithKey(key, 'kaaaaaaaaaa', 'secret');
    expect(() => openWithKey(key, sealed.replace('kaaaaaaaaaa', 'kbbbbbbbbbb'))).toThrow(
      'cannot decrypt a stored secret sealed with key kbbbbbbbbbb: damaged data',
    );
    for (const part of [2, 3, 4]) expect(() => openWithKey(key, tamper(sealed, part))).toThrow(SecretError);
    expect(() => openWithKey(randomBytes(32), sealed)).toThrow(SecretError);
    expect(() => openWithKey(key, 'v2.kaaaaaaaaaa.x.y')).toThrow(SecretError);
  });
});
