import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretKeyring } from '../connections/keyring.js';
import { rotateSecrets } from '../connections/rotation.js';
import { SecretBox, sealedKeyId } from '../connections/secrets.js';
import type { SealedValue, Storage } from './port.js';
import { SEALED_COLUMNS } from './sealed-places.js';
import { type StoreUnderTest, storesUnderTest } from './stores-under-test.js';

/**
 * The key ring and rotation on every store: two storages on one database stand for two processes
 * (a server and the `sluice secrets rotate` command), each with its own ring.
 */
describe.each(storesUnderTest())('secret key ring and rotation: $kind', (kind: StoreUnderTest) => {
  const master = new SecretBox(randomBytes(32));
  let server: Storage;
  let cli: Storage;
  let ring: SecretKeyring;

  beforeAll(async () => {
    server = await kind.open();
    cli = await kind.open();
    ring = new SecretKeyring(server.secrets, master, { refreshMs: 20 });
    await ring.load();
  });
  afterAll(async () => {
    await server.close();
    await cli.close();
    await kind.dispose();
  });

  /** One sealed value in every sealed column, as the server seals them. */
  async function sealEverywhere(tag: string): Promise<Record<string, string>> {
    const flowId = `flow_${tag}`;
    await server.flows.create({ id: flowId, name: `flow ${tag}`, description: null, document: '{}', at: 1 });
    const plain = {
      secret: `secret-${tag}`,
      refresh: `refresh-${tag}`,
      hook: `hook-${tag}`,
      alert: `https://hooks.example.invalid/${tag}`,
    };
    await server.connections.insert(
      {
        name: `erp-${tag}`,
        baseUrl: 'http://127.0.0.1:1/erp',
        auth: 'oauth2',
        username: null,
        headerName: null,
        secret: await ring.seal(plain.secret),
        checkPath: null,
        breakerThreshold: null,
        breakerCooldownMs: null,
        limitMaxConcurrent: null,
        limitMaxPerSecond: null,
        limitAdaptive: false,
        oauth2: '{}',
        refreshToken: await ring.seal(plain.refresh),
      },
      1,
    );
    await server.hooks.insert({
      id: `hk_${tag}`,
      flowId,
      nodeId: 'hook',
      secret: await ring.seal(plain.hook),
      createdAt: 1,
    });
    await server.alerts.insertRule({
      id: `al_${tag}`,
      flowId,
      name: 'r',
      enabled: true,
      condition: '{}',
      channel: '{}',
      secret: await ring.seal(plain.alert),
      createdAt: 1,
      updatedAt: 1,
    });
    return plain;
  }

  const mine = (values: SealedValue[], tag: string) => values.filter((v) => v.id.endsWith(tag));

  it('makes a first key, seals with its id, and lists every sealed column', async () => {
    const first = await ring.current();
    expect(first.id).toMatch(/^k[0-9a-f]{10}$/);
    await sealEverywhere('a');
    const values = mine(await server.secrets.sealedValues(), 'a');
    expect(values.map((v) => `${v.table}.${v.column}`).sort()).toEqual(
      SEALED_COLUMNS.map((c) => `${c.table}.${c.column}`).sort(),
    );
    expect(values.every((v) => sealedKeyId(v.sealed) === first.id)).toBe(true);
  });

  it('rotates: every value re-sealed with the new key and still opened by the server; the old key then refused', async () => {
    const plain = await sealEverywhere('b');
    const before = await ring.current();
    const oldValues = mine(await server.secrets.sealedValues(), 'b');
    // a value sealed before key ids (the master key itself) is read until the rotation
    const legacy = master.seal('from before key ids');
    expect(await ring.open(legacy)).toBe('from before key ids');

    const cliRing = new SecretKeyring(cli.secrets, master);
    await cliRing.load();
    const lines: string[] = [];
    const result = await rotateSecrets({ ring: cliRing, rows: cli.secrets, graceMs: 60, log: (l) => lines.push(l) });

    expect(result.keyId).not.toBe(before.id);
    expect(result.retired).toContain(before.id);
    expect(result.resealed).toBeGreaterThanOrEqual(8);
    const after = await server.secrets.sealedValues();
    expect(after.every((v) => sealedKeyId(v.sealed) === result.keyId)).toBe(true);
    // the server's ring picks the new key up by itself
    await new Promise((r) => setTimeout(r, 30));
    expect((await ring.current()).id).toBe(result.keyId);
    const opened = await Promise.all(mine(after, 'b').map((v) => ring.open(v.sealed)));
    expect(opened.sort()).toEqual(Object.values(plain).sort());
    // the old key's values are refused, saying why
    for (const old of oldValues) {
      await expect(ring.open(old.sealed)).rejects.toThrow(
        new RegExp(`sealed with key ${before.id}: that key was retired at .* by a secret rotation`),
      );
    }
    await expect(ring.open(legacy)).rejects.toThrow(/key legacy: that key was retired/);
    // and its material is gone from the ring
    expect((await cli.secrets.keys()).find((k) => k.id === before.id)).toMatchObject({ sealedKey: null });
    // a new seal uses the new key
    expect(sealedKeyId(await ring.seal('x'))).toBe(result.keyId);
  });

  it('refuses to rotate with another master key than the ring was sealed with, changing nothing', async () => {
    const keys = await cli.secrets.keys();
    const wrong = new SecretKeyring(cli.secrets, new SecretBox(randomBytes(32)));
    await expect(rotateSecrets({ ring: wrong, rows: cli.secrets, graceMs: 0 })).rejects.toThrow(
      /^cannot open secret key k[0-9a-f]{10}: the master key \(SLUICE_SECRET_KEY or the data folder's secret.key\) is not the one the key ring was sealed with; nothing was changed$/,
    );
    expect(await cli.secrets.keys()).toEqual(keys);
  });

  it('replaces a value only when it is still the one read (a change meanwhile wins)', async () => {
    await sealEverywhere('c');
    const [value] = mine(await server.secrets.sealedValues(), 'c');
    if (!value) throw new Error('no value');
    const changed = await ring.seal('changed meanwhile');
    expect(await server.secrets.replaceSealed(value, value.sealed, changed)).toBe(true);
    expect(await server.secrets.replaceSealed(value, value.sealed, await ring.seal('stale'))).toBe(false);
    const now = mine(await server.secrets.sealedValues(), 'c').find(
      (v) => v.table === value.table && v.column === value.column,
    );
    expect(await ring.open(now?.sealed ?? '')).toBe('changed meanwhile');
  });

  it('gives way to a newer rotation: the older one stops before retiring anything', async () => {
    const older = new SecretKeyring(cli.secrets, master);
    await older.load();
    const rotation = rotateSecrets({ ring: older, rows: cli.secrets, graceMs: 100 }).then(
      () => 'finished',
      (err: Error) => err.message,
    );
    await new Promise((r) => setTimeout(r, 20));
    const newer = await rotateSecrets({
      ring: new SecretKeyring(server.secrets, master),
      rows: server.secrets,
      graceMs: 150,
    });
    expect(await rotation).toMatch(/another rotation began meanwhile/);
    const values = await server.secrets.sealedValues();
    expect(values.every((v) => sealedKeyId(v.sealed) === newer.keyId)).toBe(true);
    expect(await Promise.all(values.map((v) => ring.open(v.sealed)))).toHaveLength(values.length);
  });
});
