import { type FlowDetail, isFinalRunStatus, type RunDetail } from '@sluice/shared';
import { api, type RunningServer, startServer } from '../support/server.js';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * The HTTP flow of the benchmark: the maintenance sandbox's work orders (token paging, 100 a page) →
 * batch 50 → map → one write per record to the sandbox ERP.
 */
export function httpFlow(name = 'bench-http') {
  return {
    format: 1,
    name,
    nodes: [
      { id: 'start', type: 'manual' },
      {
        id: 'src',
        type: 'http-source',
        params: {
          connection: 'maintenance-sandbox',
          url: '/api/eam/work-orders',
          keyField: 'key',
          pageSize: 100,
          pagination: { type: 'token' },
        },
      },
      { id: 'batch', type: 'batch', params: { size: 50 } },
      {
        id: 'shape',
        type: 'map',
        params: {
          keep: 'none',
          fields: [
            { name: 'externalKey', expression: 'key' },
            { name: 'title', expression: 'title' },
            { name: 'assetKey', expression: 'assetKey' },
          ],
        },
      },
      { id: 'write', type: 'http-write', params: { connection: 'erp-sandbox', url: '/api/erp/work-orders' } },
    ],
    edges: [
      { source: 'start', target: 'src' },
      { source: 'src', target: 'batch' },
      { source: 'batch', target: 'shape' },
      { source: 'shape', target: 'write' },
    ],
  };
}

/** The engine flow of the benchmark, as a document for the API. */
export function engineFlow(count: number, delay?: number) {
  const nodes: Record<string, unknown>[] = [
    { id: 'start', type: 'manual' },
    { id: 'gen', type: 'generate', params: { count, pageSize: 1000 } },
    { id: 'batch', type: 'batch', params: { size: 100 } },
    { id: 'shape', type: 'map', params: { fields: [{ name: 'total', expression: 'amount * 2' }] } },
    { id: 'keep', type: 'filter', params: { condition: 'group != 0' } },
    { id: 'out', type: 'collect' },
  ];
  const edges = [
    { source: 'start', target: 'gen' },
    { source: 'gen', target: 'batch' },
    { source: 'batch', target: 'shape' },
    { source: 'shape', target: 'keep' },
    { source: 'keep', target: 'out' },
  ];
  if (delay !== undefined) {
    nodes.splice(3, 0, { id: 'pause', type: 'delay', params: { ms: delay } });
    edges.splice(2, 1, { source: 'batch', target: 'pause' }, { source: 'pause', target: 'shape' });
  }
  return { format: 1, name: `Benchmark ${count}`, nodes, edges };
}

/** Samples the p99 is taken over at least: a run too quick to give them is followed by another. */
const MIN_SAMPLES = 400;

/**
 * Latency of the runs list over HTTP, asked every 20 ms while the real server runs `records` records
 * (the server `start` starts: by default on SQLite), run after run until there are `MIN_SAMPLES`
 * (a 1,000,000-record run on SQLite is over in about 3 s, some 60 samples, whose p99 is their slowest).
 */
export async function apiUnderLoad(records: number, start: () => Promise<RunningServer> = () => startServer()) {
  const server = await start();
  try {
    const flow = await api<FlowDetail>(`${server.url}/api/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(engineFlow(records)),
    });
    const ms: number[] = [];
    let runs = 0;
    let seconds = 0;
    while (ms.length < MIN_SAMPLES) {
      const { runId } = await api<{ runId: string }>(`${server.url}/api/flows/${flow.id}/runs`, { method: 'POST' });
      runs++;
      const started = performance.now();
      for (;;) {
        const t0 = performance.now();
        await api(`${server.url}/api/runs?limit=50`);
        ms.push(performance.now() - t0);
        const run = await api<RunDetail>(`${server.url}/api/runs/${runId}`);
        if (isFinalRunStatus(run.status)) {
          if (run.status !== 'succeeded' || run.counts.read !== records)
            throw new Error(`load run ended ${run.status}`);
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      seconds += (performance.now() - started) / 1000;
    }
    return {
      p50: percentile(ms, 50),
      p99: percentile(ms, 99),
      samples: ms.length,
      runs,
      rps: (runs * records) / seconds,
    };
  } finally {
    await server.stop();
  }
}
