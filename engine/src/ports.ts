/**
 * What the engine needs from the outside world. The engine does no I/O of its own: the server (or a
 * test) supplies a clock, a run store and connectors that satisfy these interfaces.
 */
import type { NodeCounts, RecordError, RecordStatus, RunCounts, RunStatus } from '@sluice/shared';

/** Time, injected so tests can drive delays and backoff with a simulated clock. Same shape as XState's clock. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/**
 * What the engine needs of the JavaScript runtime it runs on, injected so that the engine itself uses
 * no runtime-specific API: the server gives Node's, tests the testing module's (`testRuntime`).
 */
export interface Runtime {
  /**
   * The SHA-256 of the UTF-8 text, as 64 lowercase hex digits. Record keys of records without a key
   * field are cut from it and stored, so it must be exactly this: another hash breaks their history.
   */
  hash(text: string): string;
  /** Resolves once the runtime's other pending work (I/O, timers) has had a turn. */
  yield(): Promise<void>;
  /** Milliseconds from an arbitrary origin that never go backwards: for pacing work, not for stored times. */
  monotonicNow(): number;
}

/** One record's final outcome in a run. */
export interface RecordOutcome {
  /** Position of the record in the run's read order, from 0. */
  seq: number;
  key: string;
  status: RecordStatus;
  /** Node where it failed or was filtered; for a success, the node where its path ended. */
  nodeId: string;
  batchNo: number;
  attempts: number;
  error?: RecordError;
  /** For a failed record: the record as it entered the failing node (what was sent). */
  payload?: unknown;
  /** What a collect node kept of this record (the first collect node it reached), and which node. */
  output?: unknown;
  outputNode?: string;
  at: number;
}

export interface CollectedRecord {
  seq: number;
  key: string;
  nodeId: string;
  data: unknown;
}

export interface BatchInfo {
  batchNo: number;
  size: number;
  startedAt: number;
  finishedAt: number;
  succeeded: number;
  filtered: number;
  failed: number;
}

/** Where a source re-reads from: the page holding the first record not yet settled. */
export interface SourcePosition {
  nodeId: string;
  /** Opaque to the engine's core; the source node knows how to fetch the page from it. */
  cursor: unknown;
  /** Sequence number of the page's first record. */
  firstSeq: number;
}

/**
 * What a run needs to go on after its process died, stored with every commit. Every record with
 * seq < lowWater is settled and stored; records at or above it that are settled are stored too and
 * are skipped when the source is re-read from `position`.
 */
export interface Checkpoint {
  version: 1;
  lowWater: number;
  nextBatch: number;
  lastBatchEnd?: number;
  /** Sources that read everything, every record of which is below `lowWater` (not started again). */
  sourcesDone: string[];
  position?: SourcePosition;
  /** Per-node state: a delay's last batch end, a rate limiter's window, a retry run's cursor. */
  nodeState: Record<string, unknown>;
  breakers: Record<string, BreakerSnapshot>;
}

/** A circuit breaker's state, as data (its deadline too), so it survives a restart. */
export interface BreakerSnapshot {
  state: 'closed' | 'open' | 'half-open';
  failures: number;
  openUntil: number | null;
}

/** Everything settled since the last commit; a commit is the unit that is stored atomically. */
export interface RunCommit {
  batch?: BatchInfo;
  outcomes: RecordOutcome[];
  collected: CollectedRecord[];
  /** Counts of settled records (plus read, which includes those in flight). */
  counts: RunCounts;
  /** Per-node counts of settled records. */
  nodeCounts: Record<string, NodeCounts>;
  checkpoint: Checkpoint;
}

/** Why a run is not moving right now, for its status. */
export interface Waiting {
  /** A delay, a rate limit, an open breaker, a retry's wait, or a connection's limits (`limit`). */
  kind: 'delay' | 'rate' | 'breaker' | 'retry' | 'limit';
  nodeId: string;
  /**
   * When the wait ends. A wait for a connection's limit knows it only when its pace sets it; one
   * that waits for a request of another run to finish gives the moment it began.
   */
  until: number;
  connection?: string;
  /** For a `limit` wait: the limits of the connection it waits on. */
  limits?: LimitSettings;
  /** For a `limit` wait on a connection with adaptive pacing: the pace it keeps now. */
  pace?: Pace;
}

/** What a resumed run starts from. */
export interface ResumeState {
  checkpoint: Checkpoint;
  counts: RunCounts;
  nodeCounts: Record<string, NodeCounts>;
  /** Sequence numbers at or above the low-water mark whose outcomes are already stored. */
  settled: ReadonlySet<number>;
}

/** A failed record of an earlier run, to be fed again into the node where it failed. */
export interface ReplayRecord {
  /** Its position in the earlier run; replay resumes after the last one processed. */
  ref: number;
  key: string;
  nodeId: string;
  payload: Record<string, unknown>;
}

/** Records given to a run when it was started (a webhook's body), read in order a page at a time. */
export interface InputSource {
  read(from: number, limit: number): Record<string, unknown>[] | Promise<Record<string, unknown>[]>;
}

/** Reads the failed records of an earlier run in order, a page at a time. */
export interface ReplaySource {
  read(afterRef: number, limit: number): ReplayRecord[] | Promise<ReplayRecord[]>;
}

export interface RunStatusUpdate {
  status: RunStatus;
  at: number;
  error?: string;
  /** The final counts, given with a final status; a change between running and paused leaves them alone. */
  counts?: RunCounts;
  nodeCounts?: Record<string, NodeCounts>;
}

/** Where the engine reports a run's progress. Implementations may be synchronous. */
export interface RunStore {
  /** Stores outcomes, collected records and counts of one batch (or of the tail of the run) atomically. */
  commit(runId: string, commit: RunCommit): void | Promise<void>;
  /** Records a change of the run's status. */
  setStatus(runId: string, update: RunStatusUpdate): void | Promise<void>;
  /** Records why the run is waiting (a delay, a rate limit, an open breaker), or that it no longer is. */
  setWaiting(runId: string, waiting: Waiting | null): void | Promise<void>;
  /**
   * Resolves once every commit of the run handed over so far is stored (a crash cannot lose it).
   * Absent: a commit is stored when `commit` returns.
   */
  flush?(runId: string): Promise<void>;
}

export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * The connection the request is sent for (for a URL without one, its origin): a client that keeps
   * connections alive keeps one pool per value, so each system's sockets are its own.
   */
  connection?: string;
  /**
   * Where in a run the request comes from (set by the engine for every request a node sends): a
   * server that traces requests hangs each under its run, batch and node. Plain data; the engine
   * does nothing else with it.
   */
  origin?: RequestOrigin;
}

/** The run, node and (for records cut into batches) batch a request is sent for. */
export interface RequestOrigin {
  runId: string;
  nodeId: string;
  /** The batch of the records the request carries; absent before a batch node (a source's pages). */
  batchNo?: number;
  /** How many times this request was sent before (retries, a renewed token); absent the first time. */
  resends?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends one HTTP request. Rejects with an `HttpFailure` on network errors and timeouts. */
export type HttpClient = (request: HttpRequest) => Promise<HttpResponse>;

/** A connection resolved for use: where the system is and the headers that authenticate. */
export interface ResolvedConnection {
  name: string;
  baseUrl: string;
  headers: Record<string, string>;
  /** Circuit breaker settings for this connection; defaults: 5 consecutive failures, 30 s cooldown. */
  breaker?: { failureThreshold: number; cooldownMs: number };
  /** Path a status check calls (GET, authenticated), relative to the base URL; the base URL itself when absent. */
  checkPath?: string;
  /** The connection's limits on requests, kept by `Connectors.limits`; none when absent. */
  limits?: LimitSettings;
  /** Credentials obtained as requests need them (OAuth2 tokens), added to `headers`; none when absent. */
  auth?: ConnectionAuth;
}

/**
 * Credentials a connection obtains rather than stores (an OAuth2 access token): asked for before
 * each request, kept by their owner until they expire, renewed once when the system refuses them.
 */
export interface ConnectionAuth {
  /**
   * The headers that authenticate a request now, from a cached token or a new one. Rejects with
   * `AuthRefused` when the token endpoint refuses the connection's credentials, with `HttpFailure`
   * when it cannot be reached or answers otherwise.
   */
  headers(signal?: AbortSignal): Promise<Record<string, string>>;
  /**
   * The system answered 401 to a request sent with `used`: forget that token, so the next `headers`
   * gets a new one. A token already replaced (another request saw the 401 first) is left alone.
   */
  invalidate(used: Record<string, string>): void;
}

/** The token endpoint refused a connection's credentials (a revoked or wrong client secret, an expired refresh token). */
export class AuthRefused extends Error {
  constructor(
    message: string,
    /** The token endpoint's status (400 or 401 for OAuth2 errors). */
    readonly status: number,
  ) {
    super(message);
    this.name = 'AuthRefused';
  }
}

/**
 * What a system can take from all of Sluice at once: requests in flight and requests started per
 * second, counted over every run and (with a shared implementation) every process using the connection.
 */
export interface LimitSettings {
  /** At most this many requests in flight at once. */
  maxConcurrent?: number;
  /** At most this many requests started per second, spaced evenly. */
  maxPerSecond?: number;
  /**
   * Learn the pace the system takes: slower on 429 and 503, `Retry-After`, rate-limit headers and
   * rising latency, faster again while it keeps up; never above the two maxima.
   */
  adaptive?: boolean;
}

/** The answer a request got, given back with its permit (adaptive pacing learns from it). */
export interface PermitAnswer {
  /** The HTTP status; absent when no answer came (a network error or a timeout). */
  status?: number;
  headers?: Record<string, string>;
  /** From sending the request to its answer or failure. */
  ms: number;
}

/** The pace an adaptive connection keeps now: requests a second and at once (null: not held back). */
export interface Pace {
  perSecond: number | null;
  concurrency: number | null;
  /** Why it last changed: `start`, `throttled` (429/503), `retry-after`, `rate-limit-headers`, `latency` or `recovering`. */
  reason: string;
}

/** Leave to send one request on a connection, given by `ConnectionLimits.acquire`. */
export interface Permit {
  /** How long the caller waited for it, in ms: 0 when it was given at once. */
  readonly waitedMs: number;
  /** For a connection with adaptive pacing: the pace it was given under. */
  readonly pace?: Pace;
  /**
   * Gives the place back once the answer (or the failure) is in, with what it was (adaptive pacing
   * learns from it); calling it again does nothing.
   */
  release(answer?: PermitAnswer): void;
}

/**
 * Keeps connections within their limits. Each request of a node that uses a connection with limits
 * takes a permit first and releases it once its answer is in, whatever the answer, so the limits
 * hold over every run that shares the implementation (the process's, or a database's for many).
 */
export interface ConnectionLimits {
  /**
   * Resolves with a permit once a request may be sent within `limits`. Rejects once `signal` aborts,
   * holding nothing. `onWait` is told when the permit cannot be given at once: until when the wait
   * lasts if that is known (the pace's next slot), null when it waits for a request to finish.
   */
  acquire(
    connection: string,
    limits: LimitSettings,
    signal?: AbortSignal,
    onWait?: (until: number | null) => void,
  ): Promise<Permit>;
}

/** What a connection's status check found. */
export interface ConnectionCheck {
  /** The system answered 2xx with the connection's credentials. */
  ok: boolean;
  /** The HTTP status it answered, if it answered at all. */
  status?: number;
  message: string;
  /** Why the credentials were refused, when more is known than the status (a token endpoint's answer). */
  reason?: string;
  /** The server's outbound guard refused the connection's address (`message` names the rule): the run fails at once. */
  refused?: boolean;
}

export interface Connectors {
  http: HttpClient;
  /** Resolves a connection by name; undefined when there is none by that name. */
  connection(name: string): ResolvedConnection | undefined;
  /** Files the file nodes read and append to (the server's files folder); absent: flows get no file access. */
  files?: import('./files.js').FilePort;
  /**
   * Calls the system with the connection's credentials to see whether it takes them. A run checks
   * each connection its nodes name once before reading anything: an answer of 401 or 403 fails the
   * run at once; anything else (the system unreachable, a 5xx) lets it start. A run's check names
   * its origin (the run, and the first node that names the connection), for the request it sends.
   */
  check?(name: string, signal?: AbortSignal, origin?: RequestOrigin): Promise<ConnectionCheck>;
  /**
   * Keeps the connections' limits (`ResolvedConnection.limits`), shared by the runs it is given to;
   * absent: requests are sent without limits.
   */
  limits?: ConnectionLimits;
  /** Runs code nodes' JavaScript; absent: a code node fails every record, saying so. */
  sandbox?: CodeSandbox;
  /** Reads and writes SQL databases through connections of kind postgres or mysql; absent: no SQL access. */
  sql?: SqlPort;
}

/**
 * What changed-only nodes compare against, for one run: the content hashes (16 hex digits, 8 bytes
 * of a SHA-256) of record keys as of the flow's last successful runs, and where the run keeps its
 * own until it has succeeded (the server then makes them current).
 */
export interface ChangeHashes {
  /** The current hashes of these keys for the node; a key with none (never seen) is left out. */
  current(nodeId: string, keys: readonly string[]): Promise<ReadonlyMap<string, string>>;
  /** Keeps the run's hashes of these keys; staging a key again replaces its hash. */
  stage(nodeId: string, entries: readonly (readonly [key: string, hash: string])[]): Promise<void>;
}

/** One record's run of a code node's JavaScript. */
export interface CodeRequest {
  /** A function body; `record` holds the record. */
  code: string;
  record: Record<string, unknown>;
  timeoutMs: number;
  memoryBytes: number;
}

/** What the code returned, or why it gave nothing: it threw, ran over its time or its memory. */
export type CodeResult =
  | { ok: true; value: unknown }
  | { ok: false; reason: 'threw' | 'time' | 'memory'; message: string };

/**
 * Runs JavaScript with no access to the process, files or network, one record at a time, within a
 * time and a memory limit. The server supplies it (the engine imports no JavaScript engine).
 */
export interface CodeSandbox {
  run(request: CodeRequest): Promise<CodeResult>;
}

/** A value bound into a SQL statement (never written into its text). */
export type SqlValue = string | number | boolean | null;

/**
 * One page of a keyset read: `SELECT … FROM table (or the query as a subquery) WHERE key > after
 * [AND watermark column > watermark] ORDER BY key LIMIT pageSize`. Names were checked as identifiers.
 */
export interface SqlReadRequest {
  table?: string;
  query?: string;
  /** Columns of the table; empty: all. */
  columns: readonly string[];
  keyColumn: string;
  /** The key of the last row of the page before; absent: the first page. */
  after?: SqlValue;
  pageSize: number;
  watermark?: { column: string; after: string };
}

/** Rows to write in one transaction, each the values of `columns` in order. */
export interface SqlWriteRequest {
  table: string;
  mode: 'insert' | 'upsert' | 'update';
  keyColumns: readonly string[];
  columns: readonly string[];
  /** Set to 1 on insert, raised by 1 by each write that changes the row. */
  counterColumn?: string;
  rows: readonly SqlValue[][];
}

/** What became of one row of a write: committed, or refused by the database with its message. */
export type SqlRowResult = { ok: true } | { ok: false; message: string; code?: string };

/** `SELECT columns FROM table WHERE keyColumn IN (keys…)`. */
export interface SqlLookupRequest {
  table: string;
  keyColumn: string;
  /** Empty: all. */
  columns: readonly string[];
  keys: readonly SqlValue[];
}

/**
 * SQL databases, reached by connection name. Rows come back as JSON-ready objects (times as text).
 * A lost connection or a timeout rejects with an `SqlFailure` of code `connection` or `timeout`; a
 * statement the database refuses as a whole (no such table, a syntax error), with code `statement`.
 */
export interface SqlPort {
  /** `origin`: the run, node and batch the call is made for (plain data: the server's traces use it). */
  read(
    connection: string,
    request: SqlReadRequest,
    signal?: AbortSignal,
    origin?: RequestOrigin,
  ): Promise<Record<string, unknown>[]>;
  /** One transaction; a row the database refuses fails alone (its result), the others commit. */
  write(
    connection: string,
    request: SqlWriteRequest,
    signal?: AbortSignal,
    origin?: RequestOrigin,
  ): Promise<SqlRowResult[]>;
  lookup(
    connection: string,
    request: SqlLookupRequest,
    signal?: AbortSignal,
    origin?: RequestOrigin,
  ): Promise<Record<string, unknown>[]>;
}

/** A SQL call that failed as a whole: the database unreachable, too slow, or refusing the statement. */
export class SqlFailure extends Error {
  constructor(
    message: string,
    readonly code: 'connection' | 'timeout' | 'statement' | 'aborted',
  ) {
    super(message);
    this.name = 'SqlFailure';
  }
}

/** A live event of a run, for progress displays. */
export type RunEvent =
  | { type: 'status'; runId: string; status: RunStatus; counts: RunCounts }
  | { type: 'batch-started'; runId: string; batchNo: number; size: number; at: number }
  | { type: 'batch'; runId: string; batch: BatchInfo; counts: RunCounts; nodeCounts: Record<string, NodeCounts> }
  | { type: 'waiting'; runId: string; waiting: Waiting | null }
  /** A connection with adaptive pacing changed its pace (seen by a request of node `nodeId`). */
  | { type: 'pace'; runId: string; nodeId: string; connection: string; pace: Pace; at: number };

/**
 * A network error or timeout while sending a request, or (`refused`) a request the server's outbound
 * guard would not send (its address is loopback, private, link-local…): that one is final, the
 * same answer every time, and says nothing about the system, so it is not retried and no breaker
 * counts it.
 */
export class HttpFailure extends Error {
  constructor(
    message: string,
    readonly code: 'network' | 'timeout' | 'aborted' | 'refused',
  ) {
    super(message);
    this.name = 'HttpFailure';
  }
}

/**
 * Incremental sync: the watermark of each source node (by node id) — the largest "changed at" value
 * a successful run read. A run is given the stored ones and reports the new ones in its result; the
 * caller stores them only when the run succeeded.
 */
export type Watermarks = Record<string, string>;

/**
 * The node-state convention for watermarks: a node whose `state()` has a string `watermark` reports
 * it as its new watermark. A run seeds a node's state with `watermarkFrom` (the stored watermark) when
 * it starts; a checkpoint carries both, so a resumed run keeps the largest value read so far.
 */
export interface WatermarkState {
  /** The watermark the run started from (sent to the source system). */
  watermarkFrom?: string;
  /** The largest value read so far (never less than `watermarkFrom`). */
  watermark?: string;
}

/**
 * Orders two watermark values: as numbers when both are numbers, as times when both are ISO
 * dates/times, else as strings. Negative: a before b.
 */
export function compareWatermarks(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  const isoLike = /^\d{4}-\d{2}-\d{2}/;
  if (isoLike.test(a) && isoLike.test(b)) {
    const ta = Date.parse(a);
    const tb = Date.parse(b);
    if (!Number.isNaN(ta) && !Number.isNaN(tb) && ta !== tb) return ta - tb;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The later of two watermarks (either may be absent). */
export function laterWatermark(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareWatermarks(b, a) > 0 ? b : a;
}
