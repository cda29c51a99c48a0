import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteLeases } from './leases.js';
import { type Db, databaseFile, openDatabase } from './open.js';
import { SqliteRunQueries } from './runs.js';

let dir: string;
let db: Db;

async function setup() {
  dir = mkdtempSync(path.join(tmpdir(), 'sluice-leases-'));
  db = openDatabase(databaseFile(dir));
  let now = 1_000_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const runs = new SqliteRunQueries(db, clock.now);
  const runId = await runs.create({ flowId: null, flowVersionId: null, flowName: 'x', trigger: 'api' });
  return { clock, runs, runId };
}

afterEach(() => {
  db.$client.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('run leases', () => {
  it('lets one process claim a run; another takes it over only once the lease has expired, at a higher epoch', async () => {
    const { clock, runId } = await setup();
    const a = new SqliteLeases(db, clock.now, 15_000);
    const b = new SqliteLeases(db, clock.now, 15_000);
    // b stands for a process on another host (two leases in one process would see each other as dead)
    Object.defineProperty(b, 'owner', { value: 'otherhost/2/y' });
    expect(await a.claim(runId, ['queued'])).toBe(1);
    // pretend a's holder lives on another host, where liveness cannot be checked
    db.$client.prepare('UPDATE runs SET lease_owner = ? WHERE id = ?').run('elsewhere/4242/abc', Number(runId));
    db.$client.prepare(`UPDATE runs SET status = 'running' WHERE id = ?`).run(Number(runId));
    expect(await b.candidates(10)).toEqual([]);
    expect(await b.claim(runId, ['running'])).toBeNull();
    clock.advance(15_001);
    expect(await b.candidates(10)).toEqual([{ id: runId, status: 'running', flowId: null }]);
    expect(await b.claim(runId, ['running'])).toBe(2);
    expect(await a.claim(runId, ['running'])).toBeNull();
    // a refused claim leaves the epoch as it was
    expect(db.$client.prepare('SELECT lease_epoch FROM runs WHERE id = ?').pluck().get(Number(runId))).toBe(2);
  });

  it('takes over at once a run whose holder on this host has died', async () => {
    const { clock, runId } = await setup();
    const b = new SqliteLeases(db, clock.now, 15_000);
    db.$client
      .prepare(`UPDATE runs SET status = 'running', lease_owner = ?, lease_expires_at = ? WHERE id = ?`)
      .run(`${b.owner.split('/')[0]}/999999999/dead`, clock.now() + 15_000, Number(runId));
    expect(await b.claim(runId, ['running'])).toBe(1);
  });

  it('keeps a renewed lease alive and frees a released one', async () => {
    const { clock, runId } = await setup();
    const a = new SqliteLeases(db, clock.now, 15_000);
    const b = new SqliteLeases(db, clock.now, 15_000);
    expect(await a.claim(runId, ['queued'])).toBe(1);
    db.$client.prepare('UPDATE runs SET lease_owner = ? WHERE id = ?').run('elsewhere/1/x', Number(runId));
    const owner = new SqliteLeases(db, clock.now, 15_000);
    Object.defineProperty(owner, 'owner', { value: 'elsewhere/1/x' });
    clock.advance(10_000);
    expect(await owner.renew([runId])).toEqual([]);
    clock.advance(10_000);
    expect(await b.claim(runId, ['queued'])).toBeNull();
    await owner.release(runId);
    expect(await b.claim(runId, ['queued'])).toBe(2);
  });

  it('says which leases it could not renew: those another process has taken', async () => {
    const { clock, runs, runId } = await setup();
    const other = await runs.create({ flowId: null, flowVersionId: null, flowName: 'y', trigger: 'api' });
    const a = new SqliteLeases(db, clock.now, 15_000);
    expect(await a.claim(runId, ['queued'])).toBe(1);
    expect(await a.claim(other, ['queued'])).toBe(1);
    // the first run's lease expired and another process took it
    db.$client.prepare('UPDATE runs SET lease_owner = ? WHERE id = ?').run('elsewhere/1/x', Number(runId));
    expect(await a.renew([runId, other])).toEqual([runId]);
    expect(await a.renew([])).toEqual([]);
  });
});
