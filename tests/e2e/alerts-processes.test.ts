import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { AlertDelivery } from '@sluice/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { pgDeployment } from '../support/deployment.js';
import { api, eventually, logLines, REPO_ROOT, type RunningServer } from '../support/server.js';

/**
 * Alerts with several processes on one PostgreSQL database: an API process and two workers all send
 * alert deliveries. Three runs of the demo flow (86 of 1,000 records fail at the sandbox ERP) each
 * raise one alert; the receiver refuses every first attempt, so each alert is attempted twice, by
 * whichever process claims it. Each alert is raised once and delivered once, by one process.
 */

const RUNS = 3;
const deployment = pgDeployment();

interface Request {
  deliveryId: string;
  status: number;
}

let receiver: Server | undefined;

afterAll(async () => {
  await new Promise((resolve) => receiver?.close(resolve) ?? resolve(undefined));
});

/** A receiver on loopback that answers 500 to the first attempt at each delivery, 200 to the next. */
async function refusingFirstAttempts(): Promise<{ url: string; got: Request[] }> {
  const got: Request[] = [];
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const deliveryId = String(req.headers['x-sluice-delivery']);
      const status = got.some((g) => g.deliveryId === deliveryId) ? 200 : 500;
      got.push({ deliveryId, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`, got };
}

const deliveredBy = (p: RunningServer) =>
  logLines(p.output())
    .filter((l) => l.msg === 'alert delivered')
    .map((l) => String(l.deliveryId));

describe('alerts with an API process and two workers on one PostgreSQL database', () => {
  it(`raises one alert per run and delivers each once, across ${RUNS} runs`, async () => {
    const hook = await refusingFirstAttempts();
    const sandbox = await deployment.sandbox(1000);
    const env = deployment.env(sandbox.url, { SLUICE_ALERT_RETRY_MS: '100' });
    // the first applies the migrations; the workers find them done
    const apiProcess = await deployment.apiOnly(env);
    const workers = await Promise.all([deployment.worker(env), deployment.worker(env)]);
    const processes = [apiProcess, ...workers];
    const url = apiProcess.url;
    const json = { 'content-type': 'application/json' };

    const demo = JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', 'work-orders-to-erp.flow.json'), 'utf8')) as {
      nodes: { id: string; params?: Record<string, unknown> }[];
    };
    (demo.nodes.find((n) => n.id === 'pause')?.params ?? {}).ms = 0;
    const flow = await api<{ id: string }>(`${url}/api/flows`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ ...demo, name: 'Alerting across processes' }),
    });
    await api(`${url}/api/flows/${flow.id}/alerts`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        condition: { kind: 'failed-records', minFailed: 50 },
        channel: { type: 'webhook', url: hook.url, secret: 'shared-across-processes' },
      }),
    });
    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      runIds.push((await api<{ runId: string }>(`${url}/api/flows/${flow.id}/runs`, { method: 'POST' })).runId);
    }

    const deliveries = await eventually(async () => {
      const { items } = await api<{ items: AlertDelivery[] }>(`${url}/api/alert-deliveries?limit=50&flowId=${flow.id}`);
      return items.length === RUNS && items.every((d) => d.status === 'delivered') ? items : undefined;
    }, 90_000);
    // a process that would deliver one again has had the time to
    await new Promise((r) => setTimeout(r, 2000));

    expect(deliveries.map((d) => d.runId).sort()).toEqual([...runIds].sort());
    for (const d of deliveries) {
      expect(d).toMatchObject({ attempts: 2, lastError: null });
      expect(hook.got.filter((g) => g.deliveryId === d.id).map((g) => g.status)).toEqual([500, 200]);
    }
    expect(hook.got).toHaveLength(2 * RUNS);
    // each delivered by one process; together they delivered each once
    const delivered = processes.flatMap(deliveredBy);
    expect(delivered.sort()).toEqual(deliveries.map((d) => d.id).sort());
  }, 180_000);
});
