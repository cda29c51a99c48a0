import type { Connectors, FilePort, ResolvedConnection } from '@sluice/engine';
import {
  type CountFact,
  combineMeasurements,
  type EstimateFacts,
  estimateRun,
  type Flow,
  type FlowEstimate,
  flowSchema,
  measurePerRecord,
  type RunDetail,
  type RunEta,
  runEta,
} from '@sluice/shared';
import type { EstimateRows } from '../storage/port.js';

/** Recent succeeded runs the per-record time is measured in. */
const MEASURED_RUNS = 5;
/** A file is counted only up to this size (counting must stay cheap); larger: its count is unknown. */
const MAX_COUNTED_BYTES = 64 * 1024 * 1024;
/** A file's count is kept this long, so a run's ETA, asked twice a second, does not read it again. */
const COUNT_TTL_MS = 10_000;
/** How long a source's reported total is kept, and how long asking for it may take. */
const TOTAL_TTL_MS = 60_000;
const TOTAL_TIMEOUT_MS = 2000;
/** Where APIs commonly report the number of records of a listing. */
const TOTAL_PATHS = [['meta', 'total'], ['total'], ['meta', 'pagination', 'total'], ['totalCount'], ['count']];
/** Records in the recent window of a running run's rate. */
const WINDOW_RECORDS = 200;

/** How an estimate reaches an HTTP source's system: the HTTP client and a lookup of connections by name. */
export interface EstimateConnectors {
  http: Connectors['http'];
  connection(name: string): ResolvedConnection | undefined | Promise<ResolvedConnection | undefined>;
}

/**
 * Estimates of a flow's runs: gathers what the document cannot tell (a file's lines, the last
 * succeeded run's count, the time per record measured in recent runs) and hands it to the shared
 * `estimateRun` / `runEta`, so the figures follow the engine's semantics in one place.
 */
export class RunEstimates {
  private readonly counts = new Map<string, { at: number; fact: CountFact | null }>();

  constructor(
    private readonly rows: EstimateRows,
    private readonly files: FilePort | undefined,
    /** To ask an HTTP source's API for its total (one record's page); none: not asked. */
    private readonly connectors?: EstimateConnectors,
    private readonly now: () => number = Date.now,
  ) {}

  /** The estimate of a run of `flow` (the document of `version` of flow `flowId`). */
  async forFlow(flowId: string, version: number, flow: Flow, records?: number): Promise<FlowEstimate> {
    const facts = await this.facts(flowId, flow);
    const e = estimateRun(flow, records === undefined ? facts : { ...facts, records });
    return {
      flowId,
      version,
      ...e,
      facts: {
        sourceCounts: { ...facts.sourceCounts },
        lastRun: facts.lastRun ?? null,
        perRecord: facts.perRecord ? { ms: facts.perRecord.ms, runs: [...facts.perRecord.runs] } : null,
      },
    };
  }

  /** What the server knows beyond the document: source counts, the last succeeded run, measured time. */
  async facts(flowId: string | null, flow: Flow): Promise<EstimateFacts> {
    const sourceCounts: Record<string, CountFact> = {};
    for (const node of flow.nodes) {
      const fact =
        node.type === 'file-source'
          ? await this.fileCount(node.params)
          : node.type === 'http-source'
            ? await this.httpTotal(node.params)
            : null;
      if (fact) sourceCounts[node.id] = fact;
    }
    if (flowId === null) return { sourceCounts };
    const rows = await this.rows.measuredRuns(flowId, MEASURED_RUNS);
    const last = rows[0];
    const measured: { runId: string; records: number; ms: number }[] = [];
    for (const r of rows) {
      const doc = r.document === null ? undefined : parseFlow(r.document);
      const m = doc ? measurePerRecord(doc, r.read, r.finishedAt - r.startedAt) : null;
      if (m) measured.push({ runId: r.id, records: r.read, ms: m.ms });
    }
    return {
      sourceCounts,
      lastRun: last ? { runId: last.id, records: last.read } : null,
      perRecord: combineMeasurements(measured),
    };
  }

  /** A running run's ETA (null when it is not running or its count is unknown). */
  async eta(run: RunDetail, document: string | null): Promise<RunEta | null> {
    if (run.status !== 'running' || document === null) return null;
    const flow = parseFlow(document);
    if (!flow) return null;
    const facts = await this.facts(run.retryOf === null ? run.flowId : null, flow);
    // a retry run reads the failed records of the run it retries
    const total =
      run.retryOf !== null ? ((await this.rows.failedCount(run.retryOf)) ?? null) : estimateRun(flow, facts).records;
    const c = run.counts;
    const settled = c.succeeded + c.filtered + c.failed + c.cancelled;
    const latest = await this.rows.lastSettled(run.id);
    const earlier = latest
      ? ((await this.rows.lastSettled(run.id, latest.seq - WINDOW_RECORDS)) ?? (await this.rows.firstSettled(run.id)))
      : undefined;
    const waiting = run.waiting && (run.waiting.kind === 'delay' || run.waiting.kind === 'rate') ? run.waiting : null;
    const eta = runEta({
      flow,
      total,
      settled,
      now: this.now(),
      window:
        latest && earlier && latest.seq > earlier.seq
          ? { fromSeq: earlier.seq, fromAt: earlier.at, toSeq: latest.seq, toAt: latest.at }
          : null,
      fallbackMsPerRecord: facts.perRecord?.ms ?? null,
      waitingUntil: waiting ? Date.parse(waiting.until) : null,
    });
    if (!eta || total === null) return null;
    return {
      remainingMs: eta.remainingMs,
      at: new Date(eta.at).toISOString(),
      recordsPerSecond: eta.recordsPerSecond === null ? null : Math.round(eta.recordsPerSecond * 10) / 10,
      records: total,
    };
  }

  /** Records of a file source's file (lines, less a CSV header; quoted line breaks not counted), when it is small enough to count cheaply. */
  private async fileCount(raw: Record<string, unknown>): Promise<CountFact | null> {
    const file = typeof raw.path === 'string' ? raw.path : null;
    if (!this.files || !file) return null;
    const header = raw.format !== 'jsonl' && raw.header !== false;
    const key = `${file}\u0000${header}`;
    const cached = this.counts.get(key);
    if (cached && this.now() - cached.at < COUNT_TTL_MS) return cached.fact;
    let fact: CountFact | null = null;
    try {
      let lines = 0;
      let bytes = 0;
      let last = 10;
      const quote =
        raw.format === 'jsonl' ? null : (typeof raw.quote === 'string' ? raw.quote : '"').charCodeAt(0) || null;
      let quoted = false;
      for await (const piece of this.files.read(file, 0)) {
        const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
        bytes += chunk.length;
        if (bytes > MAX_COUNTED_BYTES) throw new Error('too large to count');
        if (quote === null) for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
        else
          for (const byte of chunk) {
            // a line break inside a quoted CSV field belongs to the record (a doubled quote toggles twice)
            if (byte === quote) quoted = !quoted;
            else if (byte === 10 && !quoted) lines++;
          }
        last = chunk[chunk.length - 1] ?? last;
      }
      if (bytes > 0 && last !== 10) lines++;
      const count = Math.max(0, lines - (header && lines > 0 ? 1 : 0));
      fact = { count, from: `the ${fmt(count)} records in ${file}` };
    } catch {
      fact = null;
    }
    this.counts.set(key, { at: this.now(), fact });
    return fact;
  }

  /**
   * The total an HTTP source's API reports for its listing (`meta.total`, `total`, an `X-Total-Count`
   * header…), asked with a page of one record. Only GET sources that read everything (not incremental).
   */
  private async httpTotal(raw: Record<string, unknown>): Promise<CountFact | null> {
    if (!this.connectors || typeof raw.url !== 'string') return null;
    if ((raw.method ?? 'GET') !== 'GET' || raw.incremental !== undefined) return null;
    const key = `http\u0000${JSON.stringify(raw)}`;
    const cached = this.counts.get(key);
    if (cached && this.now() - cached.at < TOTAL_TTL_MS) return cached.fact;
    let fact: CountFact | null = null;
    try {
      const connection =
        typeof raw.connection === 'string' ? await this.connectors.connection(raw.connection) : undefined;
      if (typeof raw.connection === 'string' && !connection) throw new Error('no such connection');
      const absolute = /^https?:\/\//i.test(raw.url);
      const url = new URL(
        absolute || !connection
          ? raw.url
          : `${connection.baseUrl.replace(/\/+$/, '')}${raw.url.startsWith('/') ? '' : '/'}${raw.url}`,
      );
      const query = raw.query && typeof raw.query === 'object' ? (raw.query as Record<string, unknown>) : {};
      for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
      const paging = (raw.pagination ?? {}) as Record<string, unknown>;
      if (paging.type === 'page') {
        url.searchParams.set(String(paging.pageParam ?? 'page'), String(paging.firstPage ?? 1));
        url.searchParams.set(String(paging.perPageParam ?? 'per_page'), '1');
      } else if (paging.type === 'offset') {
        url.searchParams.set(String(paging.offsetParam ?? 'offset'), '0');
        url.searchParams.set(String(paging.limitParam ?? 'limit'), '1');
      } else if (typeof raw.pageSizeParam === 'string' && raw.pageSizeParam)
        url.searchParams.set(raw.pageSizeParam, '1');
      const answer = await this.connectors.http({
        method: 'GET',
        url: url.toString(),
        headers: { accept: 'application/json', ...(connection?.headers ?? {}) },
        timeoutMs: TOTAL_TIMEOUT_MS,
      });
      if (answer.status >= 200 && answer.status < 300) {
        const header = Object.entries(answer.headers).find(([k]) => k.toLowerCase() === 'x-total-count')?.[1];
        let total = header !== undefined && /^\d+$/.test(header.trim()) ? Number(header) : null;
        if (total === null) {
          const body = JSON.parse(answer.body) as unknown;
          for (const path of TOTAL_PATHS) {
            const v = path.reduce<unknown>(
              (at, k) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[k] : undefined),
              body,
            );
            if (typeof v === 'number' && Number.isInteger(v) && v >= 0) {
              total = v;
              break;
            }
          }
        }
        if (total !== null) fact = { count: total, from: `the total the API reports for ${raw.url}` };
      }
    } catch {
      fact = null;
    }
    this.counts.set(key, { at: this.now(), fact });
    return fact;
  }
}

function parseFlow(document: string): Flow | undefined {
  try {
    const parsed = flowSchema.safeParse(JSON.parse(document));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const fmt = (n: number) => n.toLocaleString('en-US');
