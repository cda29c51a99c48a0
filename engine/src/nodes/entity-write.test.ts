import { entityWrite } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { startRun } from '../run.js';
import { fakeConnectors, flowOf, json, MemoryRunStore, SimulatedClock, testRuntime } from '../testing/index.js';
import { entityWriteParams } from './entity-write.js';

describe('entity write', () => {
  it('builds the HTTP write parameters of the unified ERP API', () => {
    expect(entityWriteParams(entityWrite.params.parse({ entity: 'purchase-orders' }))).toMatchObject({
      connection: 'erp-sandbox',
      url: '/api/erp/purchase-orders/batch',
      method: 'POST',
      mode: 'batch',
      batchSize: 50,
      bodyPath: 'items',
      successStatuses: [200, 207],
      resultsPath: 'results',
    });
    const single = entityWriteParams(
      entityWrite.params.parse({ entity: 'assets', mode: 'record', connection: 'acme' }),
    );
    expect(single).toMatchObject({ connection: 'acme', url: '/api/erp/assets', mode: 'record' });
    expect(single.resultsPath).toBeUndefined();
  });

  it('writes a batch through the HTTP write and fails the records the ERP rejects', async () => {
    const records = [
      { externalKey: 'A-1', name: 'Pump 1' },
      { externalKey: 'A-2', name: '' },
      { externalKey: 'A-3', name: 'Fan 3' },
    ];
    const flow = flowOf([
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records', params: { records, keyField: 'externalKey' } },
      { id: 'erp', type: 'entity-write', params: { connection: 'erp', entity: 'assets' } },
    ]);
    const connectors = fakeConnectors(
      (_req, body) => {
        const items = (body as { items: { externalKey: string; name: string }[] }).items;
        const results = items.map((item, index) =>
          item.name
            ? { index, key: item.externalKey, status: 201, id: `ERP-AS-${index}` }
            : {
                index,
                key: item.externalKey,
                status: 422,
                error: { code: 'validation_failed', message: 'name is required' },
              },
        );
        return json(207, { results });
      },
      { erp: { name: 'erp', baseUrl: 'https://erp.test', headers: {} } },
    );
    const clock = new SimulatedClock();
    const store = new MemoryRunStore();
    const done = await clock.run(startRun({ runId: 'r', clock, runtime: testRuntime, store, connectors, flow }).done);
    expect(done.counts).toMatchObject({ read: 3, succeeded: 2, failed: 1 });
    const writes = connectors.requests.filter((r) => r.url.startsWith('https://erp.test'));
    expect(writes.map((r) => [r.method, r.url])).toEqual([['POST', 'https://erp.test/api/erp/assets/batch']]);
    expect(store.outcomes.find((o) => o.status === 'failed')).toMatchObject({
      key: 'A-2',
      error: { message: 'HTTP 422: name is required' },
    });
  });
});
