import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunLeases } from './leases.js';
import { type Db, databaseFile, openDatabase } from './open.js';
import { RunRepository } from './runs.js';

let dir: string;
let db: Db;

function setup() {
  dir = mkdtempSync(path.join(tmpdir(), 'sluice-leases-'));
  db = openDatabase(databaseFile(dir));
  let now = 1_000_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const runs = new RunRepository(db, clock.now);
  const runId = runs.create({ flowId: null, flowVersionId: null, flowName: 'x', trigger: 'api' });
  return { clock, runs, runId };
}

afterEach(() => {
  db.$client.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('run leases', () => {
  it('lets one process claim a run; another takes it over only once the lease has expired', () => {
    const { clock, runId } = setup();
    const a = new RunLeases(db, clock.now, 15_000);
    const b = new RunLeases(db, clock.now, 15_000);
    // b stands for a process on another host (two leases in one process would see each other as dead)
    Object.defineProperty(b, 'owner', { value: 'otherhost/2/y' });
    expect(a.claim(runId, ['queued'])).toBe(true);
    // pretend a's holder lives on another host, where liveness cannot be checked
    db.$client.prepare('UPDATE runs SET lease_owner = ? WHERE id = ?').run('elsewhere/4242/abc', Number(runId));
    db.$client.prepare(`UPDATE runs SET status = 'running' WHERE id = ?`).run(Number(runId));
    expect(b.candidates(10)).toEqual([]);
    expect(b.claim(runId, ['running'])).toBe(false);
    clock.advance(15_001);
    expect(b.candidates(10)).toEqual([{ id: runId, status: 'running', flowId: null }]);
    expect(b.claim(runId, ['running'])).toBe(true);
    expect(a.claim(runId, ['running'])).toBe(false);
  });

  it('takes over at once a run whose holder on this host has died', () => {
    const { clock, runId } = setup();
    const b = new RunLeases(db, clock.now, 15_000);
    db.$client
      .prepare(`UPDATE runs SET status = 'running', lease_owner = ?, lease_expires_at = ? WHERE id = ?`)
      .run(`${b.owner.split('/')[0]}/999999999/dead`, clock.now() + 15_000, Number(runId));
    expect(b.claim(runId, ['running'])).toBe(true);
  });

  it('keeps a renewed lease alive and frees a released one', () => {
    const { clock, runId } = setup();
    const a = new RunLeases(db, clock.now, 15_000);
    const b = new RunLeases(db, clock.now, 15_000);
    expect(a.claim(runId, ['queued'])).toBe(true);
    db.$client.prepare('UPDATE runs SET lease_owner = ? WHERE id = ?').run('elsewhere/1/x', Number(runId));
    const owner = new RunLeases(db, clock.now, 15_000);
    Object.defineProperty(owner, 'owner', { value: 'elsewhere/1/x' });
    clock.advance(10_000);
    owner.renew([runId]);
    clock.advance(10_000);
    expect(b.claim(runId, ['queued'])).toBe(false);
    owner.release(runId);
    expect(b.claim(runId, ['queued'])).toBe(true);
  });
});
