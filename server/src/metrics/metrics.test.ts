import { BreakerRegistry } from '@sluice/engine';
import type { Page, RecordOutcomeView, RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../demo.js';
import { openTestSluice, type TestSluice } from '../http/test-support.js';
import { systemClock } from '../node-runtime.js';
import { Metrics } from './metrics.js';

/**
 * The metrics of a real run: the demo flow ("Work orders → ERP") run against the sandbox systems on
 * loopback, then `/metrics` read through the app as Prometheus would, and parsed.
 */

/** Every metric Sluice defines and its label names: what an operator's dashboards and alerts rely on. */
const EXPECTED: Record<string, { type: string; labels: string[] }> = {
  sluice_runs_started_total: { type: 'counter', labels: ['flow', 'trigger'] },
  sluice_runs_finished_total: { type: 'counter', labels: ['flow', 'status'] },
  sluice_run_duration_seconds: { type: 'histogram', labels: ['flow', 'status'] },
  sluice_records_total: { type: 'counter', labels: ['flow', 'node', 'outcome'] },
  sluice_batch_duration_seconds: { type: 'histogram', labels: ['flow', 'node'] },
  sluice_queue_runs: { type: 'gauge', labels: ['state'] },
  sluice_http_requests_total: { type: 'counter', labels: ['code', 'connection'] },
  sluice_http_request_duration_seconds: { type: 'histogram', labels: ['connection'] },
  sluice_breaker_open: { type: 'gauge', labels: ['connection'] },
  sluice_wait_seconds_total: { type: 'counter', labels: ['flow', 'kind', 'node'] },
  sluice_writer_lag_rows: { type: 'gauge', labels: [] },
  sluice_schedule_last_fire_timestamp_seconds: { type: 'gauge', labels: ['flow'] },
};

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The exposition text as samples, and each metric's declared type. */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1] as string, type[2] as string);
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string;
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

/** The value of the one sample of `name` whose labels include `labels`; 0 when there is none. */
function value(samples: Sample[], name: string, labels: Record<string, string>): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

/** The metric a sample belongs to (a histogram's `_bucket`, `_sum` and `_count` belong to it). */
function metricOf(sample: string, types: Map<string, string>): string {
  const base = sample.replace(/_(bucket|sum|count)$/, '');
  return types.get(base) === 'histogram' ? base : sample;
}

let t: TestSluice;
let flowId: string;
let run: RunDetail;
let scraped: ReturnType<typeof parse>;
/** Seconds from just before the run was asked for to just after it ended, as the test saw them. */
let lifetime: number;

beforeAll(async () => {
  t = await openTestSluice({ workOrders: 1000 });
  flowId = (await seedDemo(t.parts.flows)) as string;
  const asked = Date.now();
  const started = await t.app.request(`/api/flows/${flowId}/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ trigger: 'manual' }),
  });
  const { runId } = (await started.json()) as { runId: string };
  await t.parts.runner.wait(runId);
  lifetime = (Date.now() - asked) / 1000;
  await t.parts.store.flush();
  run = (await (await t.app.request(`/api/runs/${runId}`)).json()) as RunDetail;
  const res = await t.app.request('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  scraped = parse(await res.text());
}, 60_000);
afterAll(() => t?.close());

describe('/metrics after the demo run', () => {
  it('counts the run and its records as the run itself counts them', () => {
    // the run, as the demo promises it
    expect(run.status).toBe('succeeded');
    expect(run.counts).toMatchObject({ read: 1000, succeeded: 914, failed: 86 });
    const { samples } = scraped;
    const flow = flowId;
    expect(value(samples, 'sluice_records_total', { flow, node: 'erp-write', outcome: 'failed' })).toBe(86);
    expect(value(samples, 'sluice_records_total', { flow, node: 'erp-write', outcome: 'succeeded' })).toBe(914);
    expect(value(samples, 'sluice_records_total', { flow, node: 'work-orders', outcome: 'succeeded' })).toBe(1000);
    // every node's counts, exactly as the run stored them
    for (const [node, c] of Object.entries(run.nodeCounts)) {
      expect(value(samples, 'sluice_records_total', { flow, node, outcome: 'succeeded' }), node).toBe(c.out);
      expect(value(samples, 'sluice_records_total', { flow, node, outcome: 'failed' }), node).toBe(c.error);
      expect(value(samples, 'sluice_records_total', { flow, node, outcome: 'filtered' }), node).toBe(c.filtered);
    }
    expect(value(samples, 'sluice_runs_finished_total', { flow, status: 'succeeded' })).toBe(1);
    expect(value(samples, 'sluice_runs_finished_total', { flow, status: 'failed' })).toBe(0);
    expect(value(samples, 'sluice_runs_started_total', { flow, trigger: 'manual' })).toBe(1);
    expect(value(samples, 'sluice_run_duration_seconds_count', { flow, status: 'succeeded' })).toBe(1);
    // its duration: some time within the run's life as the test saw it
    const duration = value(samples, 'sluice_run_duration_seconds_sum', { flow, status: 'succeeded' });
    expect(duration).toBeGreaterThan(0);
    expect(duration).toBeLessThanOrEqual(lifetime);
    // 20 batches of 50, each timed once, by the flow's batch node
    expect(value(samples, 'sluice_batch_duration_seconds_count', { flow, node: 'batch' })).toBe(run.batches.length);
    expect(run.batches).toHaveLength(20);
  });

  it('counts the requests by connection and answer, and the waits by node and kind', () => {
    const { samples } = scraped;
    // one write a record: the ERP created 914 and refused 86 with 422; and the check before the run
    expect(value(samples, 'sluice_http_requests_total', { connection: 'erp-sandbox', code: '201' })).toBe(914);
    expect(value(samples, 'sluice_http_requests_total', { connection: 'erp-sandbox', code: '422' })).toBe(86);
    expect(value(samples, 'sluice_http_requests_total', { connection: 'erp-sandbox', code: '200' })).toBe(1);
    const erp = samples.filter((s) => s.name === 'sluice_http_requests_total' && s.labels.connection === 'erp-sandbox');
    expect(erp.reduce((n, s) => n + s.value, 0)).toBe(1001);
    const pages = value(samples, 'sluice_http_requests_total', { connection: 'maintenance-sandbox', code: '200' });
    expect(pages).toBeGreaterThan(0);
    expect(value(samples, 'sluice_http_request_duration_seconds_count', { connection: 'erp-sandbox' })).toBe(1001);
    // the demo's 200 ms delays are too short to show as waiting (a run shows waits of a second or more)
    expect(value(samples, 'sluice_wait_seconds_total', { flow: flowId, node: 'pause', kind: 'delay' })).toBe(0);
    // nothing queued or running now, nothing left to write
    for (const state of ['queued', 'running', 'paused']) expect(value(samples, 'sluice_queue_runs', { state })).toBe(0);
    expect(value(samples, 'sluice_writer_lag_rows', {})).toBe(0);
  });

  it('has exactly the listed metrics with their label sets, beside the process defaults', () => {
    const { samples, types } = scraped;
    const seen = new Map<string, Set<string>>();
    for (const s of samples) {
      const metric = metricOf(s.name, types);
      if (!metric.startsWith('sluice_')) continue;
      const labels = Object.keys(s.labels)
        .filter((l) => l !== 'le')
        .sort();
      const key = labels.join(',');
      expect(EXPECTED[metric], `a metric the list does not name: ${metric}`).toBeDefined();
      expect(key, `labels of ${metric}`).toBe(EXPECTED[metric]?.labels.join(','));
      seen.set(metric, (seen.get(metric) ?? new Set()).add(key));
    }
    // every listed metric is declared with its type (no schedule fired, no breaker changed, no wait shown yet)
    for (const [name, { type }] of Object.entries(EXPECTED)) expect(types.get(name), name).toBe(type);
    for (const name of Object.keys(EXPECTED)) {
      const later = ['sluice_schedule_last_fire_timestamp_seconds', 'sluice_breaker_open', 'sluice_wait_seconds_total'];
      if (later.includes(name)) continue;
      expect(seen.has(name), `${name} has samples`).toBe(true);
    }
    // prom-client's process defaults
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds'])
      expect(types.has(name), name).toBe(true);
    // Prometheus's naming: counters end in _total, durations are in seconds
    for (const [name, type] of types) {
      if (!name.startsWith('sluice_')) continue;
      if (type === 'counter') expect(name).toMatch(/_total$/);
      if (/duration|wait/.test(name)) expect(name).toMatch(/_seconds(_total)?$/);
    }
  });

  it('names no run id or record key in any label', async () => {
    const keys = new Set<string>();
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const page = (await (
        await t.app.request(`/api/runs/${run.id}/records?limit=500${q}`)
      ).json()) as Page<RecordOutcomeView>;
      for (const r of page.items) keys.add(r.key);
      cursor = page.nextCursor;
    } while (cursor);
    expect(keys.size).toBe(1000);
    const runIds = new Set(
      ((await (await t.app.request('/api/runs?limit=500')).json()) as Page<{ id: string }>).items.map((r) => r.id),
    );
    expect(runIds.has(run.id)).toBe(true);
    const values = scraped.samples.flatMap((s) =>
      Object.entries(s.labels)
        // a histogram's bucket bounds are numbers by nature, not names
        .filter(([label]) => label !== 'le')
        .map(([, v]) => v),
    );
    expect(values.length).toBeGreaterThan(50);
    for (const v of values) {
      expect(keys.has(v), `label value ${v} is a record key`).toBe(false);
      expect(runIds.has(v), `label value ${v} is a run id`).toBe(false);
    }
  });

  it('counts the seconds a run waits, by the node shown waiting and the kind of wait', async () => {
    const doc = {
      format: 2,
      name: 'Two batches a second and a half apart',
      nodes: [
        { id: 'start', type: 'manual' },
        { id: 'gen', type: 'generate', params: { count: 20, pageSize: 1000 } },
        { id: 'cut', type: 'batch', params: { size: 10 } },
        { id: 'hold', type: 'delay', params: { ms: 1500 } },
        { id: 'out', type: 'collect' },
      ],
      edges: [
        { source: 'start', target: 'gen' },
        { source: 'gen', target: 'cut' },
        { source: 'cut', target: 'hold' },
        { source: 'hold', target: 'out' },
      ],
    };
    const created = await t.app.request('/api/flows', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(doc),
    });
    const flow = ((await created.json()) as { id: string }).id;
    const { runId } = (await (await t.app.request(`/api/flows/${flow}/runs`, { method: 'POST' })).json()) as {
      runId: string;
    };
    expect((await t.parts.runner.wait(runId)).status).toBe('succeeded');
    const detail = (await (await t.app.request(`/api/runs/${runId}`)).json()) as RunDetail;
    const { samples } = parse(await (await t.app.request('/metrics')).text());
    const waited = value(samples, 'sluice_wait_seconds_total', { flow, node: 'hold', kind: 'delay' });
    const took = (Date.parse(detail.finishedAt as string) - Date.parse(detail.startedAt as string)) / 1000;
    // the second batch waited most of 1.5 s after the first; no wait can be longer than the run
    expect(waited).toBeGreaterThan(1);
    expect(waited).toBeLessThanOrEqual(took);
    expect(value(samples, 'sluice_runs_started_total', { flow, trigger: 'api' })).toBe(1);
    expect(value(samples, 'sluice_batch_duration_seconds_count', { flow, node: 'cut' })).toBe(2);
    expect(value(samples, 'sluice_records_total', { flow, node: 'out', outcome: 'succeeded' })).toBe(20);
  });

  it('tells when a schedule of a flow last fired a run', async () => {
    const { id: flow } = await t.parts.flows.create({
      format: 2,
      name: 'Hourly',
      nodes: [
        { id: 'when', type: 'schedule', params: { cron: '0 * * * *', timezone: 'UTC' } },
        { id: 'src', type: 'inline-records', params: { records: [{ key: 'a' }], keyField: 'key' } },
      ],
      edges: [{ source: 'when', target: 'src' }],
    });
    await t.parts.flows.publish(flow);
    const at = (iso: string) => Date.parse(iso);
    // armed at 10:30, then due at 11:00
    expect(await t.parts.scheduler.tick(at('2031-05-04T10:30:00Z'))).toEqual([]);
    const before = Date.now() / 1000;
    const fired = await t.parts.scheduler.tick(at('2031-05-04T11:00:00Z'));
    const after = Date.now() / 1000;
    expect(fired.filter((f) => f.runId)).toHaveLength(1);
    await t.parts.runner.wait(fired[0]?.runId as string);
    const { samples } = parse(await (await t.app.request('/metrics')).text());
    const last = value(samples, 'sluice_schedule_last_fire_timestamp_seconds', { flow });
    expect(last).toBeGreaterThanOrEqual(before);
    expect(last).toBeLessThanOrEqual(after);
    expect(value(samples, 'sluice_runs_started_total', { flow, trigger: 'schedule' })).toBe(1);
  });

  it("shows a connection's breaker open, and closed again, also when another process closed it", async () => {
    const metrics = new Metrics({}, { processDefaults: false });
    const registry = new BreakerRegistry(systemClock);
    metrics.watchBreakers(registry);
    const breaker = registry.get('erp-down', { failureThreshold: 2, cooldownMs: 60_000 });
    const open = async () =>
      value(parse((await metrics.render()).body).samples, 'sluice_breaker_open', { connection: 'erp-down' });
    breaker.report(false);
    expect(await open()).toBe(0);
    breaker.report(false);
    expect(breaker.snapshot().state).toBe('open');
    expect(await open()).toBe(1);
    // another process found the system back (on PostgreSQL the processes share breaker states)
    registry.apply('erp-down', { state: 'closed' });
    expect(breaker.snapshot().state).toBe('closed');
    expect(await open()).toBe(0);
  });

  it('is closed without a valid token, and open with SLUICE_METRICS_PUBLIC=1', async () => {
    const none = await t.raw.request('/metrics');
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { message: string; path: string } }).error).toMatchObject({
      path: 'Authorization',
      message: expect.stringContaining('SLUICE_METRICS_PUBLIC'),
    });
    const wrong = await t.raw.request('/metrics', { headers: { authorization: 'Bearer not-a-token' } });
    expect(wrong.status).toBe(401);
    const { createApp } = await import('../http/app.js');
    const open = createApp({ ...t.parts, metricsPublic: true });
    const res = await open.request('/metrics');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('sluice_runs_finished_total');
  });
});
