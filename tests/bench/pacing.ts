/**
 * Adaptive pacing against a limit it is not told: the sandbox ERP takes at most `limit` work orders
 * in any second and answers 429 above it, with no Retry-After and no rate-limit header; Sluice
 * (`server/src/main.ts` in a process of its own) writes `records` work orders one a request, eight at
 * once, through a connection with `adaptive` limits and a maximum well above the hidden one (100 a
 * second). From the ERP's received log and the times of its 429s:
 *
 * - `convergeS`: the first second from which every 5-second window of accepted writes stays within
 *   90-100% of the limit (36-40 a second for 40) with fewer than 5% of its requests refused, the
 *   run's last two seconds left out (it tails off). The refusals count too because the ERP never
 *   accepts more than the limit: a sender flooding it at 100 a second also sees 40 writes a second;
 * - `share429`: 429s over all requests from then on;
 * - `rate`: the accepted writes a second from then on.
 */
import type { FlowDetail, RunDetail } from '@sluice/shared';
import { isFinalRunStatus } from '@sluice/shared';
import { convergedAt } from '../../server/src/connections/testing.js';
import type { ErpStats } from '../../server/src/sandbox/erp.js';
import type { FaultView } from '../../server/src/sandbox/faults.js';
import {
  api,
  createErpConnection,
  eventually,
  type RunningServer,
  startSandboxProcess,
  startServer,
} from '../support/server.js';

const CONNECTION = 'erp-adaptive';
const json = { 'content-type': 'application/json' };

/** manual → generate → map to a work order → one POST each, eight at once, on the adaptive connection. */
export function pacedFlow(records: number) {
  return {
    format: 2,
    name: 'Adaptive pacing',
    nodes: [
      { id: 'start', type: 'manual' },
      { id: 'gen', type: 'generate', params: { count: records, pageSize: 100 } },
      {
        id: 'shape',
        type: 'map',
        params: {
          keep: 'none',
          fields: [
            { name: 'externalKey', expression: '"PACE-" & key' },
            { name: 'title', expression: 'label' },
            { name: 'assetKey', expression: '"AS-" & key' },
          ],
        },
      },
      {
        id: 'erp',
        type: 'http-write',
        params: { connection: CONNECTION, url: '/api/erp/work-orders', concurrency: 8 },
      },
    ],
    edges: [
      { source: 'start', target: 'gen' },
      { source: 'gen', target: 'shape' },
      { source: 'shape', target: 'erp' },
    ],
  };
}

export interface PacingFigures {
  convergeS: number;
  share429: number;
  rate: number;
  requests: number;
  throttled: number;
  run: RunDetail;
  /** Paces the run's node reported while it waited on the connection (requests a second). */
  pacesSeen: number[];
  serverOutput: string;
}

export async function measurePacing(records: number, limit = 40): Promise<PacingFigures> {
  const processes: RunningServer[] = [];
  try {
    const sandbox = await startSandboxProcess(0);
    processes.push(sandbox);
    const server = await startServer({ SLUICE_SANDBOX_URL: sandbox.url });
    processes.push(server);
    const created = await createErpConnection(server.url, sandbox.url, CONNECTION, {
      maxPerSecond: 100,
      maxConcurrent: 8,
      adaptive: true,
    });
    if (!created.limits.adaptive) throw new Error('the connection did not keep adaptive pacing');
    await api<FaultView>(`${sandbox.url}/erp/_sandbox/faults`, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify({ hiddenLimit: { perSecond: limit } }),
    });
    const before = (await api<ErpStats>(`${sandbox.url}/erp/_sandbox/stats`)).log.length;
    const flow = await api<FlowDetail>(`${server.url}/api/flows`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify(pacedFlow(records)),
    });
    const { runId } = await api<{ runId: string }>(`${server.url}/api/flows/${flow.id}/runs`, { method: 'POST' });
    const pacesSeen: number[] = [];
    const run = await eventually(
      async () => {
        const r = await api<RunDetail>(`${server.url}/api/runs/${runId}`);
        const pace = r.waiting?.pace?.perSecond;
        if (typeof pace === 'number') pacesSeen.push(pace);
        return isFinalRunStatus(r.status) ? r : undefined;
      },
      Math.max(120_000, (records / limit) * 3000),
      250,
    );
    const log = (await api<ErpStats>(`${sandbox.url}/erp/_sandbox/stats`)).log.slice(before);
    const faults = await api<FaultView>(`${sandbox.url}/erp/_sandbox/faults`);
    const accepted = log.filter((e) => e.status < 300).map((e) => e.at);
    const throttledAt = faults.stats.hiddenLimitAt;
    const start = Math.min(...accepted, ...throttledAt);
    const end = Math.max(...accepted);
    const seconds = Math.floor((end - start) / 1000) - 1;
    const perSecond = (times: number[]) => {
      const counts = Array.from({ length: Math.max(0, seconds) }, () => 0);
      for (const t of times) {
        const s = Math.floor((t - start) / 1000);
        if (s >= 0 && s < counts.length) counts[s] = (counts[s] ?? 0) + 1;
      }
      return counts;
    };
    const at = convergedAt(perSecond(accepted), perSecond(throttledAt), 0.9 * limit, limit);
    const from = start + Math.max(0, at) * 1000;
    const okAfter = accepted.filter((t) => t >= from).length;
    const throttledAfter = throttledAt.filter((t) => t >= from).length;
    return {
      convergeS: at,
      share429: throttledAfter / (okAfter + throttledAfter),
      rate: at < 0 ? 0 : okAfter / ((end - from) / 1000),
      requests: accepted.length + throttledAt.length,
      throttled: throttledAt.length,
      run,
      pacesSeen,
      serverOutput: server.output(),
    };
  } finally {
    for (const p of processes.reverse()) await p.stop();
  }
}
