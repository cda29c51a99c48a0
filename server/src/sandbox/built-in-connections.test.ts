import type { ConnectionView } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestSluice, type TestSluice } from '../http/test-support.js';

let t: TestSluice;

beforeAll(async () => {
  t = await openTestSluice({ workOrders: 10 });
});
afterAll(() => t.close());

describe('the built-in sandbox connections', () => {
  it('each passes its own Test (the status check the connections panel runs)', async () => {
    const { items } = (await (await t.app.request('/api/connections')).json()) as { items: ConnectionView[] };
    const builtIn = items.filter((c) => c.builtIn);
    expect(builtIn.map((c) => c.name).sort()).toEqual(['erp-sandbox', 'maintenance-sandbox']);
    for (const c of builtIn) {
      const res = await t.app.request(`/api/connections/${c.name}/check`, { method: 'POST' });
      expect(res.status).toBe(200);
      const status = (await res.json()) as ConnectionView['status'];
      expect({ name: c.name, state: status?.state }).toEqual({ name: c.name, state: 'ok' });
      expect(status?.message).toMatch(/^HTTP 200 /);
    }
  });
});
