import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { startPruning } from '../runs/pruning.js';
import { openSqliteStorage, type SqliteStorage } from '../storage/sqlite/index.js';
import { AuditLog, cliActor, withoutSecrets } from './audit-log.js';

let dir: string;
let storage: SqliteStorage;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'sluice-audit-'));
  storage = await openSqliteStorage(path.join(dir, 'sluice.sqlite'));
});

afterAll(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('AuditLog', () => {
  it('records what it is told, with its time, and answers pages with a cursor', async () => {
    let now = 1_000;
    const log = new AuditLog(storage.audit, () => now);
    for (const name of ['a', 'b', 'c']) {
      now += 1;
      await log.record({
        actor: { kind: 'system', id: 'system', name: 'Sluice' },
        action: 'settings.changed',
        objectType: 'settings',
        summary: { name },
      });
    }
    const first = await log.list({ limit: 2, action: 'settings.changed' });
    expect(first.items.map((e) => [e.summary?.name, e.at, e.outcome, e.address])).toEqual([
      ['c', new Date(1_003).toISOString(), 'ok', null],
      ['b', new Date(1_002).toISOString(), 'ok', null],
    ]);
    const rest = await log.list({ limit: 2, action: 'settings.changed', cursor: Number(first.nextCursor) });
    expect(rest.items.map((e) => e.summary?.name)).toEqual(['a']);
    expect(rest.nextCursor).toBeNull();
  });

  it('drops keys that name a secret from a summary, at any depth, as a second line of defence', () => {
    expect(
      withoutSecrets({
        fields: ['secret', 'baseUrl'],
        secret: 's',
        clientSecret: 's',
        password: 'p',
        refreshToken: 't',
        channel: { type: 'email', smtpPassword: 'p', apiKey: 'k' },
      }),
    ).toEqual({ fields: ['secret', 'baseUrl'], channel: { type: 'email' } });
  });

  it('is pruned by the retention job, past its own retention', async () => {
    const day = 86_400_000;
    const old = new AuditLog(storage.audit, () => Date.now() - 40 * day);
    const actor = { kind: 'system', id: 'system', name: 'Sluice' } as const;
    await old.record({ actor, action: 'backup.taken', objectType: 'backup', objectId: 'old' });
    const log = new AuditLog(storage.audit);
    await log.record({ actor, action: 'backup.taken', objectType: 'backup', objectId: 'new' });
    const stop = startPruning(
      storage.retention,
      { days: 30, runsPerFlow: 100 },
      createLogger({ level: 'silent' }),
      3_600_000,
      {
        log,
        days: 30,
      },
    );
    try {
      await expect
        .poll(async () => (await log.list({ limit: 10, action: 'backup.taken' })).items.map((e) => e.objectId))
        .toEqual(['new']);
    } finally {
      stop();
    }
  });

  it('names the command line after the system user who ran it', () => {
    expect(cliActor()).toMatchObject({ kind: 'cli', id: 'cli', name: expect.stringMatching(/^command line/) });
  });
});
