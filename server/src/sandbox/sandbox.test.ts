import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workOrderAt } from './data.js';
import { type Sandbox, startSandbox } from './index.js';

let sandbox: Sandbox;
const maint = { authorization: 'Bearer sandbox-maintenance-token' };
const erp = { authorization: 'Bearer sandbox-erp-token', 'content-type': 'application/json' };

beforeAll(async () => {
  sandbox = await startSandbox({ workOrders: 250 });
});
afterAll(() => sandbox.close());

describe('maintenance system', () => {
  it('refuses requests without the bearer token', async () => {
    const res = await fetch(`${sandbox.url}/maintenance/api/eam/work-orders`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: 'missing or wrong bearer token' } });
  });

  it('pages by continuation token to the end, each work order once, deterministically', async () => {
    const keys: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const url = new URL(`${sandbox.url}/maintenance/api/eam/work-orders`);
      url.searchParams.set('limit', '100');
      if (token) url.searchParams.set('continuation_token', token);
      const body = (await (await fetch(url, { headers: maint })).json()) as {
        data: { key: string }[];
        meta: { continuation_token: string | null };
      };
      keys.push(...body.data.map((w) => w.key));
      token = body.meta.continuation_token;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(keys).toHaveLength(250);
    expect(new Set(keys).size).toBe(250);
    expect(keys[0]).toBe('03000538475429');
    expect(workOrderAt(42, 7)).toEqual(workOrderAt(42, 7));
  });

  it('pages by page and per_page with links.next and meta.last_page', async () => {
    const res = await fetch(`${sandbox.url}/maintenance/api/eam/work-orders?page=3&per_page=100`, { headers: maint });
    const body = (await res.json()) as {
      data: unknown[];
      links: { next: string | null; prev: string };
      meta: { last_page: number; total: number };
    };
    expect(body.data).toHaveLength(50);
    expect(body.links.next).toBeNull();
    expect(body.links.prev).toContain('page=2');
    expect(body.meta).toMatchObject({ last_page: 3, total: 250 });
  });

  it('answers a bad page size or a forged token with a 400 naming the parameter', async () => {
    const bad = await fetch(`${sandbox.url}/maintenance/api/eam/work-orders?limit=0`, { headers: maint });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^limit: /);
    const forged = await fetch(`${sandbox.url}/maintenance/api/eam/work-orders?continuation_token=abc`, {
      headers: maint,
    });
    expect(forged.status).toBe(400);
  });

  it('makes a known share of work orders incomplete', () => {
    const all = Array.from({ length: 1000 }, (_, i) => workOrderAt(42, i));
    const incomplete = all.filter((w) => !w.assetKey || !w.title).length;
    expect(incomplete).toBeGreaterThan(40);
    expect(incomplete).toBeLessThan(140);
  });
});

describe('ERP', () => {
  const post = (body: unknown, key?: string) =>
    fetch(`${sandbox.url}/erp/api/erp/work-orders`, {
      method: 'POST',
      headers: { ...erp, ...(key ? { 'idempotency-key': key } : {}) },
      body: JSON.stringify(body),
    });

  it('rejects a work order missing a required field with 422 and the reason', async () => {
    const res = await post({ externalKey: 'A1', title: 'Fix', assetKey: '' });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      error: { code: 'validation_failed', message: 'assetKey is required', field: 'assetKey' },
    });
  });

  it('writes once per idempotency key and replays the first answer', async () => {
    const body = { externalKey: 'B7', title: 'Fix pump', assetKey: 'AS-1' };
    const first = await post(body, 'k-1');
    const again = await post(body, 'k-1');
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(await first.json());
    expect(sandbox.erpStats().writes.B7).toBe(1);
    expect(sandbox.erpStats().replays).toBe(1);
  });

  it('refuses writes without its token', async () => {
    const res = await fetch(`${sandbox.url}/erp/api/erp/work-orders`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
  });
});
