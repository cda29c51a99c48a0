import { once } from 'node:events';
import type { RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../demo.js';
import { openTestSluice, type TestSluice } from '../http/test-support.js';
import type { SqliteRunStore } from '../storage/sqlite/run-store.js';
import { readiness } from './readiness.js';

/**
 * `/api/ready` on a real server's parts (SQLite file, the run store's writer thread, the scheduler
 * ticking): what it answers when everything is up, when the writer thread dies, and once the store
 * has replaced it.
 */

let t: TestSluice;

interface ReadyBody {
  status: string;
  checks: Record<string, { ready: boolean; detail: string }>;
}
interface ErrorBody {
  error: { code: string; message: string; path?: string };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asks /api/ready (no token: readiness is open) until it answers `status`, for at most `ms`. */
async function readyAnswers(status: number, ms = 15_000): Promise<Response> {
  const deadline = Date.now() + ms;
  for (;;) {
    const res = await t.raw.request('/api/ready');
    if (res.status === status || Date.now() > deadline) return res;
    await sleep(50);
  }
}

beforeAll(async () => {
  t = await openTestSluice();
  t.parts.scheduler.start();
  await t.parts.store.ready();
});
afterAll(() => t?.close());

describe('/api/ready', () => {
  it('answers 200 without a token once the database, the migrations, the writer and the scheduler are', async () => {
    const res = await readyAnswers(200);
    expect(res.status).toBe(200);
    const body = (await res.json()) as ReadyBody;
    expect(body.status).toBe('ready');
    expect(Object.keys(body.checks)).toEqual(['database', 'migrations', 'writer', 'scheduler']);
    for (const check of Object.values(body.checks)) expect(check.ready).toBe(true);
    expect(body.checks.writer?.detail).toBe('the writer thread is running');
    expect(body.checks.scheduler?.detail).toMatch(/^ticked \d+ ms ago$/);
  });

  it('answers 503 naming the writer when the writer thread dies, and 200 again once the store replaced it', async () => {
    const store = t.parts.store as SqliteRunStore;
    const dying = store.writerThread;
    expect(dying).toBeDefined();
    const exited = once(dying as NonNullable<typeof dying>, 'exit');
    // the real thread stops, as one that crashed or ran out of its heap would
    await dying?.terminate();
    await exited;
    const down = await t.raw.request('/api/ready');
    expect(down.status).toBe(503);
    const { error } = (await down.json()) as ErrorBody;
    expect(error.code).toBe('not_ready');
    expect(error.path).toBe('writer');
    expect(error.message).toMatch(/^not ready: writer \(the last writer thread stopped \(exit code 1\)/);
    expect(error.message).not.toMatch(/database|migrations|scheduler/);
    // liveness is another matter: the process is up
    expect((await t.raw.request('/api/health')).status).toBe(200);

    const up = await readyAnswers(200);
    expect(up.status).toBe(200);
    expect(((await up.json()) as ReadyBody).checks.writer).toEqual({
      ready: true,
      detail: 'the writer thread is running',
    });
    expect(store.writerThread).toBeDefined();
    expect(store.writerThread).not.toBe(dying);

    // and the new thread writes: a run after it stores every outcome
    const flowId = (await seedDemo(t.parts.flows)) as string;
    const { runId } = (await (await t.app.request(`/api/flows/${flowId}/runs`, { method: 'POST' })).json()) as {
      runId: string;
    };
    expect((await t.parts.runner.wait(runId)).status).toBe('succeeded');
    const run = (await (await t.app.request(`/api/runs/${runId}`)).json()) as RunDetail;
    expect(run.counts.read).toBe(120);
    const failed = (await (await t.app.request(`/api/runs/${runId}/records?status=failed&limit=500`)).json()) as {
      items: unknown[];
    };
    expect(failed.items).toHaveLength(run.counts.failed);
  }, 60_000);

  it('names the scheduler once it has not ticked for 5 s', async () => {
    const now = await readiness({ storage: t.parts.storage, scheduler: t.parts.scheduler });
    expect(now.ready).toBe(true);
    // the same scheduler, looked at 6 s later than its last tick
    const last = t.parts.scheduler.lastTickAt as number;
    const later = await readiness({ storage: t.parts.storage, scheduler: t.parts.scheduler, now: () => last + 6_000 });
    expect(later.ready).toBe(false);
    expect(later.checks.scheduler).toEqual({
      ready: false,
      detail: 'the scheduler last ticked 6.0 s ago (at most 5 s)',
    });
    expect(later.checks.writer.ready).toBe(true);
    // a process that runs no schedules (a worker) is not held to it
    const worker = await readiness({ storage: t.parts.storage });
    expect(worker.checks.scheduler).toEqual({ ready: true, detail: 'this process runs no schedules' });
  });

  it('answers 503 naming the migrations when the database lacks this build’s newest', async () => {
    const { sqliteClient } = await import('../storage/sqlite/index.js');
    const c = sqliteClient(t.parts.storage).$client;
    const newest = c
      .prepare('SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at DESC LIMIT 1')
      .get() as {
      hash: string;
      created_at: number;
    };
    c.prepare('DELETE FROM __drizzle_migrations WHERE created_at = ?').run(newest.created_at);
    try {
      const res = await t.raw.request('/api/ready');
      expect(res.status).toBe(503);
      const { error } = (await res.json()) as ErrorBody;
      expect(error.path).toBe('migrations');
      expect(error.message).toMatch(/^not ready: migrations \(the database's newest migration is of /);
    } finally {
      c.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run(
        newest.hash,
        newest.created_at,
      );
    }
    expect((await t.raw.request('/api/ready')).status).toBe(200);
  });
});
