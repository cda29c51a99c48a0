import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestSluice, type TestSluice } from '../http/test-support.js';
import type { ErpStats } from '../sandbox/erp.js';

let t: TestSluice;
beforeAll(async () => {
  t = await openTestSluice();
});
afterAll(async () => {
  await t?.close();
});

describe('tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  it('sends no traceparent: the HTTP client is not wrapped', async () => {
    const flow = await (
      await t.app.request('/api/flows', {
        method: 'POST',
        body: JSON.stringify({
          format: 2,
          name: 'Untraced',
          nodes: [
            { id: 'start', type: 'manual' },
            {
              id: 'src',
              type: 'inline-records',
              params: {
                keyField: 'externalKey',
                records: [1, 2, 3].map((i) => ({ externalKey: `U-${i}`, title: `u${i}`, assetKey: 'AS-1' })),
              },
            },
            { id: 'write', type: 'http-write', params: { connection: 'erp-sandbox', url: '/api/erp/work-orders' } },
          ],
          edges: [
            { source: 'start', target: 'src' },
            { source: 'src', target: 'write' },
          ],
        }),
      })
    ).json();
    const { runId } = (await (
      await t.app.request(`/api/flows/${(flow as { id: string }).id}/runs`, { method: 'POST', body: '{}' })
    ).json()) as { runId: string };
    const result = await t.parts.runner.wait(runId);
    expect(result.counts).toMatchObject({ read: 3, succeeded: 3 });
    const stats = (await (await fetch(`${t.parts.sandbox.url}/erp/_sandbox/stats`)).json()) as ErpStats;
    const written = stats.log.filter((e) => e.idempotencyKey?.startsWith(`${runId}:`));
    expect(written).toHaveLength(3);
    expect(written.map((e) => e.traceparent)).toEqual([null, null, null]);
  });
});
