/**
 * The storage port: everything the server keeps, as interfaces that say nothing of the database
 * behind them. `storage/sqlite/` implements them on one SQLite file (the embedded default),
 * `storage/postgres/` on a PostgreSQL database that many processes share. Domain code (runner,
 * scheduler, webhooks, connections, tokens, routes, CLI) sees only these interfaces and awaits them.
 *
 * Rules every implementation keeps (the contract suite in `storage/contract.test.ts` checks them
 * against each):
 * - ids are strings at this boundary, whatever the column type;
 * - times are epoch milliseconds in and out (ISO strings in the API views);
 * - a missing object is a `NotFoundError`, a clash (a second run for one schedule slot, a name taken)
 *   a `ConflictError`: no database error code leaves an implementation;
 * - the run store refuses writes from a process that no longer holds the run's lease (fencing).
 */
import type {
  BreakerRegistry,
  ConnectionLimits,
  RunStore as EngineRunStore,
  ReplayRecord,
  ResolvedConnection,
  ResumeState,
  RunEvent,
  Watermarks,
} from '@sluice/engine';
import type {
  AUTH_TYPES,
  Page,
  RecordOutcomeView,
  RecordStatus,
  RunDetail,
  RunStatus,
  RunSummary,
  TriggerKind,
} from '@sluice/shared';
import type { OutputView } from './stored-json.js';

// ---------------------------------------------------------------- flows

export interface FlowRow {
  id: string;
  name: string;
  description: string | null;
  latestVersion: number;
  publishedVersion: number | null;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
  archivedAt: number | null;
}

export interface FlowVersionRow {
  id: string;
  flowId: string;
  version: number;
  /** The flow document as saved (JSON). */
  document: string;
  createdAt: number;
}

export interface PublishedFlowRow {
  id: string;
  version: number;
  document: string;
  publishedAt: number;
}

/**
 * Flows and their versions as stored. The rules (what may be deleted, published, when a document is
 * readable) are the domain's (`flows/repository.ts`); this is what it keeps.
 */
export interface FlowRows {
  /** Flows most recently changed first: those not archived, or (`archived`) those archived. */
  list(archived: boolean): Promise<FlowRow[]>;
  get(id: string): Promise<FlowRow | undefined>;
  /** The oldest flow of that name that is not archived. */
  findByName(name: string): Promise<FlowRow | undefined>;
  version(flowId: string, version: number): Promise<FlowVersionRow | undefined>;
  /** Newest first. */
  versions(flowId: string): Promise<FlowVersionRow[]>;
  /** Stores a new flow at version 1 with its document. */
  create(flow: { id: string; name: string; description: string | null; document: string; at: number }): Promise<void>;
  /** Stores the next version (latest + 1, decided by the database, so two saves never take one number); returns it. */
  addVersion(
    flowId: string,
    version: { name: string; description: string | null; document: string; at: number },
  ): Promise<number>;
  /** Changes a flow's published version or its enabled flag; turning it off disarms its schedules. */
  set(flowId: string, patch: { publishedVersion?: number; enabled?: boolean }, at: number): Promise<void>;
  /** Hides a flow that has runs (its schedules and webhooks off); `archived` false brings it back. */
  setArchived(flowId: string, archived: boolean, at: number): Promise<void>;
  /** Runs of the flow not finished (queued, running, paused). */
  unfinishedRuns(flowId: string): Promise<number>;
  hasRuns(flowId: string): Promise<boolean>;
  /** Removes a flow that has no runs, with its versions, schedule state, hooks and watermarks. */
  remove(flowId: string): Promise<void>;
  /** Published, enabled, not archived flows with their published documents. */
  published(): Promise<PublishedFlowRow[]>;
}

// ---------------------------------------------------------------- runs: queries

export interface NewRun {
  flowId: string | null;
  flowVersionId: number | null;
  flowName: string;
  trigger: TriggerKind;
  retryOf?: string;
  /** A scheduled run's slot: a second run for the same flow and slot is refused (`ConflictError` code `slot_taken`). */
  scheduledFor?: number;
  /** Records the run is started with (a webhook's body), stored in the same transaction. */
  inputs?: readonly unknown[];
  /** A retry run's selection of the retried run's failed records (by seq), each with a payload to send instead. */
  selection?: readonly RetrySelection[];
}

/** One failed record a retry feeds again, and the payload to send instead of the stored one, if any. */
export interface RetrySelection {
  seq: number;
  payload?: Record<string, unknown>;
}

export interface RunListQuery {
  flowId?: string;
  status?: RunStatus;
  trigger?: TriggerKind;
  /** Created at or after / before (ms). */
  from?: number;
  to?: number;
  limit: number;
  cursor?: number;
}

export interface ErrorGroup {
  message: string;
  code: string | null;
  httpStatus: number | null;
  nodeId: string;
  count: number;
  /** A few keys of records that failed this way. */
  sampleKeys: string[];
}

export interface RecordQuery {
  status?: RecordStatus;
  nodeId?: string;
  key?: string;
  limit: number;
  cursor?: number;
}

/** A record kept by a collect node, as the API gives it. */
export interface CollectedView extends OutputView {
  nodeId: string;
  seq: number;
  key: string;
}

export interface WatermarkView {
  nodeId: string;
  value: string;
  runId: string;
  updatedAt: string;
}

/** Runs, their batches and their record outcomes, as the API and the runner read them. */
export interface RunQueries {
  /** Stores a new `queued` run (with its inputs and retry selection) and returns its id. */
  create(run: NewRun): Promise<string>;
  /** Records a run was started with, from position `from`. */
  inputs(runId: string, from: number, limit: number): Promise<Record<string, unknown>[]>;
  errorGroups(runId: string, limit: number): Promise<ErrorGroup[]>;
  get(id: string): Promise<RunDetail>;
  failedForReplay(runId: string, after: number, limit: number, retryRunId?: string): Promise<ReplayRecord[]>;
  notFailed(runId: string, seqs: readonly number[]): Promise<number[]>;
  selectionSize(retryRunId: string): Promise<number>;
  /**
   * Cancels a run still `queued` that no process has claimed (a claimed one is its holder's to
   * cancel); false when it was not queued, or is held.
   */
  cancelQueued(id: string): Promise<boolean>;
  list(q: RunListQuery): Promise<Page<RunSummary>>;
  records(runId: string, q: RecordQuery): Promise<Page<RecordOutcomeView>>;
  /** One record key's outcomes across a flow's kept runs, newest first. */
  history(flowId: string, key: string, limit: number): Promise<RecordOutcomeView[]>;
  /** Unfinished runs of a flow (queued, running, paused). */
  activeOf(flowId: string): Promise<{ id: string; status: RunStatus }[]>;
  /**
   * The version a run runs: its id, its document (JSON) and the run it retries; with what started it
   * and when it first ran (null while queued), for the metrics of a run taken up.
   */
  versionOf(id: string): Promise<RunVersion>;
  watermarksOf(flowId: string): Promise<Watermarks>;
  listWatermarks(flowId: string): Promise<WatermarkView[]>;
  /** Stores the watermarks a succeeded run reports; a watermark only moves forward. */
  advanceWatermarks(flowId: string, runId: string, watermarks: Watermarks): Promise<void>;
  collected(runId: string, q: { nodeId?: string; limit: number; cursor?: number }): Promise<Page<CollectedView>>;
  /** How many runs of every process are queued, running and paused now (the metrics' queue gauge). */
  unfinishedCounts(): Promise<Record<UnfinishedStatus, number>>;
}

/** The statuses of a run not yet finished. */
export type UnfinishedStatus = 'queued' | 'running' | 'paused';

/** What `RunQueries.versionOf` answers. */
export interface RunVersion {
  flowVersionId: number | null;
  document: string | null;
  retryOf: string | null;
  trigger: TriggerKind;
  /** When the run first ran (ms), whichever process ran it; null while it has not. */
  startedAt: number | null;
}

// ---------------------------------------------------------------- runs: the engine's writes

/**
 * The run store the engine writes to (outcomes grouped and written behind the engine, with
 * back-pressure), plus what the runner needs around it.
 */
/** How far a run store's writing lags behind the runs of its process (the operations view). */
export interface WriterLag {
  /** Rows committed by runs and not yet written (gathered, or sent and not yet written). */
  rows: number;
  bytes: number;
  /** Groups sent and not yet written. */
  groups: number;
  /** Age in ms of the oldest group sent and not yet written; null when none is. */
  oldestMs: number | null;
}

export interface RunWriteStore extends EngineRunStore {
  /** Largest stored payload or collected output, in characters of JSON. */
  readonly payloadCap: number;
  /** How far the writing lags behind now. */
  lag(): WriterLag;
  /** Resolves once the store can take writes (its writer started). */
  ready(): Promise<void>;
  /** Resolves once what a run (or every run) has handed over is written, or refused. */
  flush(runId?: string): Promise<void>;
  /** Writes what is left and stops writing. */
  close(): Promise<void>;
  /** What an interrupted run goes on from; undefined when it has no checkpoint. */
  loadResume(runId: string): Promise<ResumeState | undefined>;
  /**
   * The lease epoch this process's writes for the run carry from now on (from `LeaseStore.claim`). A
   * commit, status change or waiting update whose epoch is no longer the run's is refused as a whole
   * (a `LeaseLostError` from that call or the next) and `onLeaseLost` is called once for the run.
   */
  fence(runId: string, epoch: number): void;
  /** Called once per run whose write was refused for a lost lease (the runner stops the run here). */
  onLeaseLost?: (runId: string) => void;
  /**
   * Whether the writer is alive (readiness: SQLite's writer thread running, or not started yet
   * because nothing was written; PostgreSQL's store open), in words, and the rows handed over and
   * not yet written (the metrics' writer lag).
   */
  writerStatus(): WriterStatus;
}

export interface WriterStatus {
  alive: boolean;
  /** What it is doing, or why it is not alive. */
  detail: string;
  /** Rows of outcomes handed to the store and not yet written. */
  lagRows: number;
}

// ---------------------------------------------------------------- readiness

/** One condition of a process's readiness: met or not, and in words what was found. */
export interface ReadinessCheck {
  ready: boolean;
  detail: string;
}

/** What the storage says of its own readiness (`/api/ready`). */
export interface StorageReadiness {
  /** The database answers a query (within a couple of seconds). */
  database: ReadinessCheck;
  /** Every migration of this build is recorded as applied in the database. */
  migrations: ReadinessCheck;
  /** The run store's writer is alive (`RunWriteStore.writerStatus`). */
  writer: ReadinessCheck;
}

// ---------------------------------------------------------------- leases

export interface RunCandidate {
  id: string;
  status: string;
  flowId: string | null;
}

/**
 * Claims on runs. The process executing a run holds a lease on it and renews it while it works; a
 * run whose lease has expired may be claimed by another process and resumed from its checkpoint.
 * Every claim raises the run's lease epoch (a fencing token): the run store refuses any write that
 * carries an older epoch, so a process that lost its lease (stopped past expiry, cut off) cannot
 * write anything more for that run. Expiry is judged by the database's clock, not the process's.
 */
export interface LeaseStore {
  readonly owner: string;
  readonly ttlMs: number;
  /**
   * Takes the run if it is in one of `statuses` and nobody live holds it; returns the new lease epoch,
   * or null. With `perFlow`, a queued run of a flow is taken only while fewer than `perFlow` other
   * runs of its flow execute (running, paused, or queued and claimed), counted across every process:
   * two processes claiming runs of one flow at once are put one after the other.
   */
  claim(runId: string, statuses: readonly string[], perFlow?: number): Promise<number | null>;
  /** Extends the leases this process holds on the given runs; returns those it no longer holds. */
  renew(runIds: readonly string[]): Promise<string[]>;
  release(runId: string): Promise<void>;
  /** Runs that need an executor: queued ones, and running or paused ones nobody live holds, oldest first. */
  candidates(limit: number): Promise<RunCandidate[]>;
  /**
   * Asks for a pause, resume or cancel of a run this process does not hold, for its holder (or the
   * next process to claim it) to take up: stored on the run when its status is one of `statuses`
   * (a later ask replaces an earlier one not yet taken up). False when the run's status is not.
   */
  requestControl(runId: string, verb: ControlVerb, statuses: readonly string[]): Promise<boolean>;
  /** The controls asked for the given runs that this process holds, cleared as they are returned. */
  takeControls(runIds: readonly string[]): Promise<{ runId: string; verb: ControlVerb }[]>;
}

/** What one process asks of a run another executes. */
export type ControlVerb = 'pause' | 'resume' | 'cancel';

/** A write for a run whose lease this process no longer holds; nothing of it was stored. */
export class LeaseLostError extends Error {
  readonly code = 'lease_lost';
  constructor(readonly runId: string) {
    super(`run ${runId}: this process no longer holds the run's lease; another process took it over`);
  }
}

// ---------------------------------------------------------------- schedules

export interface SlotState {
  lastSlot: number | null;
  lastRunId: string | null;
  /** The published version the schedule is armed for; null: disarmed. */
  version: number | null;
  /** When it was (re-)armed: slots before this never fire. */
  updatedAt: number;
}

/** What each schedule has fired: the guard that makes a slot fire once, whatever the number of processes. */
export interface ScheduleSlots {
  /** The schedule's state, arming it for `version` (first seen, newly published, or on again) at `now`. */
  arm(flowId: string, nodeId: string, version: number, now: number): Promise<SlotState>;
  /** The state as stored, if any (for display). */
  get(flowId: string, nodeId: string): Promise<SlotState | undefined>;
  /**
   * Moves the last fired slot from `from` to `to` if it is still `from`; false when another process
   * moved it first (then the slots are not this process's to fire).
   */
  advance(flowId: string, nodeId: string, from: number | null, to: number, lastRunId: string | null): Promise<boolean>;
}

// ---------------------------------------------------------------- webhooks, connections, tokens

export interface HookRow {
  id: string;
  flowId: string;
  nodeId: string;
  /** Sealed. */
  secret: string;
}

export interface HookRows {
  get(hookId: string): Promise<HookRow | undefined>;
  find(flowId: string, nodeId: string): Promise<HookRow | undefined>;
  insert(hook: HookRow & { createdAt: number }): Promise<void>;
  setSecret(hookId: string, sealedSecret: string): Promise<void>;
}

export interface ConnectionRow {
  name: string;
  baseUrl: string;
  auth: (typeof AUTH_TYPES)[number];
  username: string | null;
  headerName: string | null;
  /** Sealed. */
  secret: string | null;
  checkPath: string | null;
  breakerThreshold: number | null;
  breakerCooldownMs: number | null;
  /** Requests at once, and per second, across runs; null: no limit. */
  limitMaxConcurrent: number | null;
  limitMaxPerSecond: number | null;
  /** Whether the pace is learnt from the system's answers (adaptive pacing), under those limits. */
  limitAdaptive: boolean;
  /** OAuth2 settings (grant, token URL, client id, scopes, audience) as JSON; the client secret is `secret`. */
  oauth2: string | null;
  /** OAuth2 refresh token, sealed. */
  refreshToken: string | null;
  lastStatus: string | null;
  lastStatusMessage: string | null;
  lastCheckedAt: number | null;
}

export type ConnectionFields = Omit<ConnectionRow, 'lastStatus' | 'lastStatusMessage' | 'lastCheckedAt'>;

export interface ConnectionRows {
  list(): Promise<ConnectionRow[]>;
  find(name: string): Promise<ConnectionRow | undefined>;
  /** Refused with a `ConflictError` (code `exists`, path `name`) when the name is taken. */
  insert(row: ConnectionFields, at: number): Promise<void>;
  update(row: ConnectionFields, at: number): Promise<void>;
  delete(name: string): Promise<boolean>;
  setStatus(name: string, status: string, message: string | null, at: number): Promise<void>;
  /** Keeps the refresh token the token endpoint rotated to (sealed), leaving the other fields alone. */
  setRefreshToken(name: string, sealed: string, at: number): Promise<void>;
}

export interface TokenRow {
  id: number;
  name: string;
  prefix: string;
  /** SHA-256 of the token, hex. */
  hash: string;
  createdAt: number;
  lastUsedAt: number | null;
  /** The user it belongs to; null: a service token. */
  userId: string | null;
  /** The role it acts with (a role name of `ROLES`). */
  role: string;
  expiresAt: number | null;
}

export type NewToken = Omit<TokenRow, 'id' | 'lastUsedAt' | 'userId' | 'role' | 'expiresAt'> &
  Partial<Pick<TokenRow, 'userId' | 'role' | 'expiresAt'>>;

export interface TokenRows {
  /** A token without a role is an admin service token (as every token made before roles was). */
  insert(token: NewToken): Promise<number>;
  findByHash(hash: string): Promise<TokenRow | undefined>;
  list(): Promise<TokenRow[]>;
  delete(id: number): Promise<boolean>;
  count(): Promise<number>;
  touch(id: number, at: number): Promise<void>;
  /** Removes a user's tokens (the user is being removed); answers how many. */
  deleteForUser(userId: string): Promise<number>;
}

// ---------------------------------------------------------------- users and sessions

export interface UserRow {
  id: string;
  /** Lowercased; unique. */
  email: string;
  name: string;
  /** A role name of `ROLES`. */
  role: string;
  /** argon2id, in the PHC string format. */
  passwordHash: string;
  active: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface UserRows {
  /** Throws a ConflictError when the e-mail is taken. */
  insert(row: UserRow): Promise<void>;
  find(id: string): Promise<UserRow | undefined>;
  findByEmail(email: string): Promise<UserRow | undefined>;
  /** By e-mail. */
  list(): Promise<UserRow[]>;
  /** Replaces the row's fields other than id, e-mail and createdAt; false when no such user. */
  update(row: UserRow): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  count(): Promise<number>;
}

export interface SessionRow {
  /** Public: sessions are listed and revoked by it. */
  id: string;
  /** SHA-256 of the secret the cookie carries, hex. */
  hash: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  address: string | null;
  userAgent: string | null;
}

export interface SessionRows {
  insert(row: SessionRow): Promise<void>;
  findByHash(hash: string): Promise<SessionRow | undefined>;
  /** A user's sessions, newest first. */
  listForUser(userId: string): Promise<SessionRow[]>;
  /** Notes a use and moves the expiry on. */
  touch(id: string, at: number, expiresAt: number): Promise<void>;
  delete(id: string): Promise<boolean>;
  /** Ends a user's sessions but `exceptId`; answers how many. */
  deleteForUser(userId: string, exceptId?: string): Promise<number>;
  /** Removes the sessions expired before `before`; answers how many. */
  deleteExpired(before: number): Promise<number>;
}

// ---------------------------------------------------------------- estimates, retention

export interface MeasuredRun {
  id: string;
  read: number;
  startedAt: number;
  finishedAt: number;
  /** The document of the version it ran (JSON), if still stored. */
  document: string | null;
}

export interface ProgressPoint {
  seq: number;
  at: number;
}

/**
 * Changed-only nodes' content hashes per flow, node and record key (16 hex digits: 8 bytes of a
 * SHA-256, stored as 8 bytes). A run reads the current ones and stages its own; they become current
 * only when it has succeeded.
 */
export interface ChangeHashRows {
  /** The current hashes of these keys for a flow's node; a key with none is left out. */
  currentHashes(
    params: Readonly<{ flowId: string; nodeId: string; keys: readonly string[] }>,
  ): Promise<Map<string, string>>;
  /** Keeps a run's hashes aside; a key the same run and node stage again takes the later hash. */
  stageHashes(
    params: Readonly<{ runId: string; nodeId: string; entries: readonly (readonly [key: string, hash: string])[] }>,
  ): Promise<void>;
  /**
   * Makes a run's staged hashes current for its flow (replacing those of the same keys; other keys
   * keep theirs) and drops them from staging, in one transaction, with whatever failed or cancelled
   * runs of the flow left staged (a run cancelled by another process, say). Answers how many it made current.
   */
  promoteHashes(params: Readonly<{ runId: string; flowId: string }>): Promise<number>;
  /** Drops a run's staged hashes (it did not succeed). */
  discardHashes(runId: string): Promise<void>;
}

export interface EstimateRows {
  /** The flow's newest succeeded runs (not retries, not tests) with start and finish times. */
  measuredRuns(flowId: string, limit: number): Promise<MeasuredRun[]>;
  /** How many records a run failed (for a retry's size). */
  failedCount(runId: string): Promise<number | undefined>;
  /** The last settled record of a run (at or below `atMost`), and its first, for its pace. */
  lastSettled(runId: string, atMost?: number): Promise<ProgressPoint | undefined>;
  firstSettled(runId: string): Promise<ProgressPoint | undefined>;
}

export interface RetentionPolicy {
  /** Keep the record outcomes of runs newer than this many days. */
  days: number;
  /** And of each flow's newest this many runs, however old. */
  runsPerFlow: number;
}

export interface PruneResult {
  runs: number;
  outcomes: number;
}

export interface RetentionStore {
  /** Removes the per-record rows of finished runs past the policy, in small transactions. */
  prune(policy: RetentionPolicy, now?: number): Promise<PruneResult>;
}

// ---------------------------------------------------------------- shared by processes

/**
 * Live events of runs and the news that runs are queued, for every process of a deployment: an API
 * process streams the events of a run a worker executes, and idle workers start a queued run at once
 * rather than at their next scan. Delivery is best effort (a process whose connection to the others
 * is down meanwhile misses what was said): a display that must be exact reads the run itself.
 */
export interface EventBus {
  /**
   * Sends a run's event to every subscriber of every process; this process's own subscribers get it
   * at once (synchronously, not through the database), exactly once. Never throws: a failure to tell
   * the others is logged.
   */
  publish(event: RunEvent): void;
  /** Calls `listener` with each event published by any process. Returns the way to unsubscribe. */
  subscribe(listener: (event: RunEvent) => void): () => void;
  /** Says that a run was queued, so idle workers everywhere look for it now. */
  notifyQueued(): void;
  /** Calls `listener` when any process queued a run (this one too). Returns the way to unsubscribe. */
  onQueued(listener: () => void): () => void;
  /** Says that a control (pause, resume, cancel) was asked for a run, so its holder takes it up now. */
  notifyControl(runId: string): void;
  /** Calls `listener` with the run when any process asked a control for it (this one too). */
  onControl(listener: (runId: string) => void): () => void;
  close(): Promise<void>;
}

/**
 * Breaker states shared by the processes on one database: the changes a registry's own requests
 * make are published, those of other processes applied to it (`BreakerRegistry.apply`), so a system
 * one process found down is left alone by all of them until its cooldown ends.
 */
export interface BreakerSync {
  /** Shares `registry`'s breakers from now on; resolves once it is listening. Returns the way to detach. */
  attach(registry: BreakerRegistry): Promise<() => void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- alerts

/** An alert rule as stored: its condition and channel as JSON (the channel without its secret), the secret sealed. */
export interface AlertRuleRow {
  id: string;
  flowId: string;
  name: string;
  enabled: boolean;
  /** `AlertCondition` as JSON. */
  condition: string;
  /** The channel's settings as JSON, secret left out. */
  channel: string;
  /** Sealed; null: none. */
  secret: string | null;
  createdAt: number;
  updatedAt: number;
}

export type AlertDeliveryStatusRow = 'pending' | 'delivered' | 'failed';

/** One alert to send (or sent) through one rule's channel. */
export interface AlertDeliveryRow {
  id: string;
  ruleId: string;
  flowId: string;
  runId: string | null;
  /** The rule's kind, and its channel's type, when the alert was made. */
  rule: string;
  channel: string;
  /** Makes an alert once: (rule, run) or (rule, schedule slot). A second delivery with the same key is not added. */
  dedupe: string;
  /** What is sent (the alert as JSON). */
  payload: string;
  status: AlertDeliveryStatusRow;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: number;
  createdAt: number;
  deliveredAt: number | null;
}

/** A delivery with the names people read. */
export interface AlertDeliveryListRow extends AlertDeliveryRow {
  flowName: string;
  ruleName: string;
}

/** What one attempt at a delivery came to. */
export interface AlertAttempt {
  status: AlertDeliveryStatusRow;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: number;
  deliveredAt: number | null;
}

/**
 * Alert rules per flow and the deliveries they make. A delivery is sent by the process that claims
 * it: a claim is a conditional update (pending, due, and not claimed by anyone live), so with many
 * processes on one database each delivery is attempted by one at a time; a claim expires, so a
 * process that dies with one leaves it to the others (and to the next start).
 */
export interface AlertRows {
  rules(flowId?: string): Promise<AlertRuleRow[]>;
  rule(id: string): Promise<AlertRuleRow | undefined>;
  insertRule(row: AlertRuleRow): Promise<void>;
  /** False when no such rule of that flow. */
  updateRule(row: AlertRuleRow): Promise<boolean>;
  deleteRule(flowId: string, id: string): Promise<boolean>;
  /** Adds a pending delivery unless one with the same dedupe key exists; true when it was added. */
  addDelivery(row: Omit<AlertDeliveryRow, 'id'>): Promise<string | undefined>;
  /** Newest first, with the flow's and rule's names (a removed rule's: its kind). */
  deliveries(q: { flowId?: string; limit: number }): Promise<AlertDeliveryListRow[]>;
  /**
   * Claims up to `limit` pending deliveries due at `now` that nobody holds (or whose claim has
   * expired), for `owner` until `until`; each by a conditional update, so no two processes both get one.
   */
  claimDue(owner: string, now: number, until: number, limit: number): Promise<AlertDeliveryRow[]>;
  /** Stores an attempt's result and releases the claim; false when `owner` no longer held it. */
  settle(id: string, owner: string, attempt: AlertAttempt): Promise<boolean>;
  /** Removes the deliveries made before `before` that are no longer pending; answers how many. */
  pruneDeliveries(before: number): Promise<number>;
}

// ---------------------------------------------------------------- secret keys, sealed values

/** A data key of the key ring: its material sealed under the master key, null once retired. */
export interface SecretKeyRow {
  id: string;
  sealedKey: string | null;
  createdAt: number;
  retiredAt: number | null;
}

/** Where a sealed value is kept: a connection's secret or refresh token, a webhook's or an alert rule's secret. */
export interface SealedPlace {
  table: 'connections' | 'webhooks' | 'alert_rules';
  column: 'secret' | 'refresh_token';
  /** The row's key: a connection's name, a webhook's or rule's id. */
  id: string;
}

export interface SealedValue extends SealedPlace {
  sealed: string;
}

/**
 * The key ring and every sealed value, for `sluice secrets rotate`: the ring is read by every process
 * (so one that seals picks up a new key), and each value is replaced on its own, conditionally, so a
 * rotation never holds a lock while the server goes on changing connections.
 */
export interface SecretRows {
  keys(): Promise<SecretKeyRow[]>;
  /** Refused with a `ConflictError` when the id is taken. */
  addKey(row: SecretKeyRow): Promise<void>;
  /** Drops the material of the keys named and records when; keys already retired keep their time. */
  retireKeys(ids: readonly string[], at: number): Promise<void>;
  /** Every sealed value stored, with its place. */
  sealedValues(): Promise<SealedValue[]>;
  /** Replaces one sealed value if it is still `expected`; false when it changed (or went) meanwhile. */
  replaceSealed(place: SealedPlace, expected: string, next: string): Promise<boolean>;
}

// ---------------------------------------------------------------- audit log

/** One audit entry as stored; `summary` is JSON text. */
export interface AuditRow {
  id: string;
  at: number;
  actorKind: string;
  actorId: string;
  actorName: string;
  address: string | null;
  action: string;
  objectType: string;
  objectId: string | null;
  summary: string | null;
  outcome: string;
  error: string | null;
}

export interface AuditQuery {
  actorKind?: string;
  actorId?: string;
  action?: string;
  objectType?: string;
  objectId?: string;
  outcome?: string;
  /** At or after, and before (epoch ms). */
  from?: number;
  to?: number;
  limit: number;
  /** Entries with an id below this one (the last id of the previous page). */
  cursor?: number;
}

/** The audit log: appended to and read, never changed; only retention removes entries. */
export interface AuditRows {
  append(entry: Omit<AuditRow, 'id'>): Promise<string>;
  /** Newest first (by id), filtered. */
  list(q: AuditQuery): Promise<AuditRow[]>;
  /** Removes the entries written before `before`; answers how many. */
  prune(before: number): Promise<number>;
}

// ---------------------------------------------------------------- the whole

export interface Storage {
  readonly kind: 'sqlite' | 'postgres';
  /** Where it is, for logs (a file path, or a URL without its password). */
  readonly location: string;
  readonly flows: FlowRows;
  readonly runs: RunQueries;
  readonly runStore: RunWriteStore;
  readonly leases: LeaseStore;
  readonly slots: ScheduleSlots;
  readonly hooks: HookRows;
  readonly connections: ConnectionRows;
  readonly tokens: TokenRows;
  readonly users: UserRows;
  readonly sessions: SessionRows;
  readonly estimates: EstimateRows;
  readonly changes: ChangeHashRows;
  readonly retention: RetentionStore;
  /** Alert rules and their deliveries. */
  readonly alerts: AlertRows;
  /** The secret key ring and the sealed values, for rotation. */
  readonly secrets: SecretRows;
  /** Who changed what (append-only). */
  readonly audit: AuditRows;
  /**
   * What the processes of a deployment share while they run: live events and queued-run news,
   * connection limits held across every run of every process (the runner's `connectors.limits`),
   * breaker states (attached to the runner's registry). Absent: the process keeps its own
   * (`local-shared.ts`), which is all one process needs (SQLite's case).
   */
  readonly events?: EventBus;
  readonly limits?: ConnectionLimits;
  readonly breakers?: BreakerSync;
  /** Whether the database answers, its migrations are applied and the writer is alive (never throws). */
  readiness(): Promise<StorageReadiness>;
  /** Stops the run store's writer and closes the database. */
  close(): Promise<void>;
}

export type { ResolvedConnection };
