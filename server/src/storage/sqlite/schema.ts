import { RUN_STATUSES, TRIGGER_KINDS } from '@sluice/shared';
import { sql } from 'drizzle-orm';
import { blob, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** A flow: its name and the number of its latest version. Its documents live in flow_versions. */
export const flows = sqliteTable('flows', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  description: text('description'),
  latestVersion: integer('latest_version').notNull(),
  /** The version schedules and webhooks run; null until the flow is published. */
  publishedVersion: integer('published_version'),
  /** Whether the flow's schedules fire (webhooks answer only while it is on, too). */
  enabled: integer('enabled').notNull().default(1),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  /** When it was deleted while it had runs: hidden from the list, its history kept, restorable. */
  archivedAt: integer('archived_at'),
});

/** Every saved document of a flow; a run points at the version it started with. */
export const flowVersions = sqliteTable(
  'flow_versions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    flowId: text('flow_id')
      .notNull()
      .references(() => flows.id),
    version: integer('version').notNull(),
    document: text('document').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [uniqueIndex('flow_versions_flow_version').on(t.flowId, t.version)],
);

/** One execution of a flow version. Counts are updated at every batch commit. */
export const runs = sqliteTable(
  'runs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    flowId: text('flow_id').references(() => flows.id),
    flowVersionId: integer('flow_version_id').references(() => flowVersions.id),
    flowName: text('flow_name').notNull(),
    status: text('status', { enum: RUN_STATUSES }).notNull(),
    trigger: text('trigger', { enum: TRIGGER_KINDS }).notNull(),
    read: integer('read').notNull().default(0),
    succeeded: integer('succeeded').notNull().default(0),
    filtered: integer('filtered').notNull().default(0),
    failed: integer('failed').notNull().default(0),
    cancelled: integer('cancelled').notNull().default(0),
    nodeCounts: text('node_counts').notNull().default('{}'),
    error: text('error'),
    /** Why the run is not moving right now (delay, rate limit, open breaker), as JSON. */
    waiting: text('waiting'),
    /** Where the run goes on from after a restart (engine Checkpoint), written with each batch. */
    checkpoint: text('checkpoint'),
    /** The process executing the run, and until when its claim holds unless renewed. */
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: integer('lease_expires_at'),
    /** Raised by every claim: the fencing token writes for the run carry (a stale holder's are refused). */
    leaseEpoch: integer('lease_epoch').notNull().default(0),
    /** The process that executes the run, or last executed it (set by each claim, kept after release). */
    executor: text('executor'),
    /**
     * A pause, resume or cancel asked by a process that does not hold the run, for the holder to take
     * up (or the next process to claim it).
     */
    control: text('control', { enum: ['pause', 'resume', 'cancel'] }),
    /** For a retry run: the run whose failed records it feeds again. */
    retryOf: integer('retry_of'),
    /** For a scheduled run: the slot (fire time, ms) it was started for; a slot makes at most one run. */
    scheduledFor: integer('scheduled_for'),
    /** When its record outcomes were removed by retention (the run's summary stays). */
    prunedAt: integer('pruned_at'),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    /** Its number among its flow's runs (1, 2, 3…), assigned when it is created. */
    runNumber: integer('run_number'),
  },
  (t) => [
    index('runs_flow').on(t.flowId, t.id),
    index('runs_status').on(t.status, t.id),
    index('runs_retry_of').on(t.retryOf),
    index('runs_trigger').on(t.trigger, t.id),
    index('runs_flow_status').on(t.flowId, t.status, t.id),
    index('runs_flow_trigger').on(t.flowId, t.trigger, t.id),
    index('runs_created').on(t.createdAt),
    uniqueIndex('runs_schedule_slot').on(t.flowId, t.scheduledFor),
    uniqueIndex('runs_flow_number').on(t.flowId, t.runNumber),
    /** The runs whose outcomes are kept, per flow: what one key's history looks through. */
    index('runs_flow_kept').on(t.flowId, t.id).where(sql`pruned_at IS NULL`),
  ],
);

/** A batch of a run, with its timings and what became of its records. */
export const batches = sqliteTable(
  'batches',
  {
    runId: integer('run_id')
      .notNull()
      .references(() => runs.id),
    batchNo: integer('batch_no').notNull(),
    size: integer('size').notNull(),
    succeeded: integer('succeeded').notNull(),
    filtered: integer('filtered').notNull(),
    failed: integer('failed').notNull(),
    startedAt: integer('started_at').notNull(),
    finishedAt: integer('finished_at'),
  },
  (t) => [primaryKey({ columns: [t.runId, t.batchNo] })],
);

/** Distinct error messages, so each failed outcome stores a small integer instead of the text. */
export const errorMessages = sqliteTable(
  'error_messages',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    message: text('message').notNull(),
    code: text('code'),
    httpStatus: integer('http_status'),
  },
  (t) => [uniqueIndex('error_messages_unique').on(t.message, t.code, t.httpStatus)],
);

/**
 * A run's record outcomes, packed: one row per bucket of 256 positions (seq >> 8) per group the
 * writer stored (a bucket split across two groups has two parts). How `meta`, `keys` and `outputs`
 * are laid out is server/src/runs/outcome-pack.mjs. The queries unpack them (runs/outcome-store.ts).
 */
export const outcomePacks = sqliteTable(
  'outcome_packs',
  {
    id: integer('id').primaryKey({ autoIncrement: false }),
    runId: integer('run_id').notNull(),
    bucket: integer('bucket').notNull(),
    part: integer('part').notNull(),
    count: integer('count').notNull(),
    /** Bit (1 << status code) set for each status among its outcomes: a status filter skips rows without it. */
    statuses: integer('statuses').notNull(),
    /** JSON array of the node ids its outcomes name. */
    nodes: text('nodes').notNull(),
    baseAt: integer('base_at').notNull(),
    baseBatch: integer('base_batch').notNull(),
    meta: blob('meta', { mode: 'buffer' }).notNull(),
    keys: blob('keys', { mode: 'buffer' }).notNull(),
  },
  (t) => [uniqueIndex('outcome_packs_at').on(t.runId, t.bucket, t.part)],
);

/**
 * The collected outputs of a packed row's outcomes (their JSON one after the other, as `meta` says),
 * apart from it: most queries (one key's history, a run's records) never read them, and a packed
 * row without them is a fifth of the size, so more of them stay in the cache.
 */
export const outcomeOutputs = sqliteTable(
  'outcome_outputs',
  {
    /** A rowid table (not keyed by run, bucket, part): SQLite then lays a long blob over whole overflow pages. */
    id: integer('id').primaryKey({ autoIncrement: false }),
    runId: integer('run_id').notNull(),
    bucket: integer('bucket').notNull(),
    part: integer('part').notNull(),
    outputs: blob('outputs', { mode: 'buffer' }).notNull(),
  },
  (t) => [uniqueIndex('outcome_outputs_at').on(t.runId, t.bucket, t.part)],
);

/**
 * One row per record outcome, for finding them by key: within a run, and one key across the runs of
 * a flow (a lookup per run). Keyed by run first, so a run's rows go to the end of the index rather
 * than among every earlier run's (the cost that grew with history). `key` is its UTF-8 bytes.
 */
export const outcomeKeys = sqliteTable(
  'outcome_keys',
  {
    runId: integer('run_id').notNull(),
    key: blob('key', { mode: 'buffer' }).notNull(),
    seq: integer('seq').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.key, t.seq] })],
);

/**
 * The detail of the outcomes that need more than their pack holds: failed and cancelled ones, and any
 * with a payload or an error. Status codes: 0 succeeded, 1 filtered, 2 failed, 3 cancelled.
 */
export const outcomeDetails = sqliteTable(
  'outcome_details',
  {
    runId: integer('run_id').notNull(),
    seq: integer('seq').notNull(),
    status: integer('status').notNull(),
    key: text('key').notNull(),
    nodeId: text('node_id').notNull(),
    batchNo: integer('batch_no').notNull(),
    attempts: integer('attempts').notNull(),
    errorId: integer('error_id'),
    payload: text('payload'),
    at: integer('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.seq] }), index('outcome_details_status').on(t.runId, t.status, t.seq)],
);

/** Records kept by collect sinks, with the run. */
export const collectedRecords = sqliteTable(
  'collected_records',
  {
    runId: integer('run_id').notNull(),
    nodeId: text('node_id').notNull(),
    seq: integer('seq').notNull(),
    key: text('key').notNull(),
    data: text('data').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.nodeId, t.seq] })],
);

/** Records posted to a webhook, kept with the run they started so a resumed run reads them again. */
export const runInputs = sqliteTable(
  'run_inputs',
  {
    runId: integer('run_id').notNull(),
    seq: integer('seq').notNull(),
    data: text('data').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.seq] })],
);

/**
 * The records a retry run was told to feed again (a selection of the retried run's failed records),
 * each with the payload to send instead of the stored one, if any; read again by a resumed retry run.
 */
export const retrySelections = sqliteTable(
  'retry_selections',
  {
    runId: integer('run_id').notNull(),
    seq: integer('seq').notNull(),
    payload: text('payload'),
  },
  (t) => [primaryKey({ columns: [t.runId, t.seq] })],
);

/** A schedule trigger's memory: the last slot it fired, so a slot fires once, even across restarts. */
export const scheduleState = sqliteTable(
  'schedule_state',
  {
    flowId: text('flow_id')
      .notNull()
      .references(() => flows.id),
    nodeId: text('node_id').notNull(),
    lastSlot: integer('last_slot'),
    lastRunId: integer('last_run_id'),
    /** The published version the schedule was armed for; another (or null: disabled) re-arms it from now. */
    version: integer('version'),
    /** When it was armed: slots before this never fire. */
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.flowId, t.nodeId] })],
);

/**
 * Changed-only nodes: the content hash (8 bytes of its SHA-256) of each record key a flow's node let
 * through or found unchanged, as of its last successful runs. A run compares against these, and its
 * own hashes become current only once it has succeeded (`change_hashes_staged`).
 */
export const changeHashes = sqliteTable(
  'change_hashes',
  {
    flowId: text('flow_id')
      .notNull()
      .references(() => flows.id),
    nodeId: text('node_id').notNull(),
    key: text('key').notNull(),
    hash: blob('hash', { mode: 'buffer' }).notNull(),
    /** The run that made it current. */
    runId: integer('run_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.flowId, t.nodeId, t.key] })],
);

/** The hashes a run found, kept aside until it succeeds (then made current) or ends otherwise (then dropped). */
export const changeHashesStaged = sqliteTable(
  'change_hashes_staged',
  {
    runId: integer('run_id').notNull(),
    nodeId: text('node_id').notNull(),
    key: text('key').notNull(),
    hash: blob('hash', { mode: 'buffer' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.nodeId, t.key] })],
);

/** A webhook trigger's address and secret (encrypted at rest). */
export const webhooks = sqliteTable(
  'webhooks',
  {
    id: text('id').primaryKey(),
    flowId: text('flow_id')
      .notNull()
      .references(() => flows.id),
    nodeId: text('node_id').notNull(),
    secret: text('secret').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [uniqueIndex('webhooks_flow_node').on(t.flowId, t.nodeId)],
);

/** API tokens, stored as SHA-256 hashes; only a short prefix is kept readable to tell them apart. */
export const apiTokens = sqliteTable('api_tokens', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  prefix: text('prefix').notNull(),
  hash: text('hash').notNull().unique(),
  createdAt: integer('created_at').notNull(),
  lastUsedAt: integer('last_used_at'),
  /** The user it belongs to (its role is at most theirs); null: a service token. */
  userId: text('user_id'),
  /** The role it acts with; tokens made before roles existed are admin service tokens. */
  role: text('role').notNull().default('admin'),
  expiresAt: integer('expires_at'),
});

/** Local accounts: e-mail (lowercased, unique), display name, role and an argon2id password hash. */
export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  role: text('role').notNull(),
  passwordHash: text('password_hash').notNull(),
  active: integer('active').notNull().default(1),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * Signed-in sessions: a public id (to list and revoke them by) and a SHA-256 hash of the secret the
 * cookie carries, so a stolen database signs nobody in. Removed with their user.
 */
export const userSessions = sqliteTable(
  'user_sessions',
  {
    id: text('id').primaryKey(),
    hash: text('hash').notNull().unique(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: integer('created_at').notNull(),
    lastSeenAt: integer('last_seen_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    address: text('address'),
    userAgent: text('user_agent'),
  },
  (t) => [index('user_sessions_user').on(t.userId)],
);

/** Connections to outside systems. Secrets are AES-256-GCM ciphertexts, never returned by the API. */
export const connections = sqliteTable('connections', {
  name: text('name').primaryKey(),
  baseUrl: text('base_url').notNull(),
  /** none | bearer | basic | api-key | oauth2 */
  authType: text('auth_type').notNull(),
  /** Basic auth user, or the header an API key goes in. */
  username: text('username'),
  headerName: text('header_name'),
  secret: text('secret'),
  /** Path the status check calls (relative to the base URL). */
  checkPath: text('check_path'),
  breakerThreshold: integer('breaker_threshold'),
  breakerCooldownMs: integer('breaker_cooldown_ms'),
  /** Limits on calls to the system, across runs (null: none): requests at once, and per second. */
  limitMaxConcurrent: integer('limit_max_concurrent'),
  limitMaxPerSecond: real('limit_max_per_second'),
  /** 1: the pace is learnt from the system's answers (adaptive pacing), under the limits above. */
  limitAdaptive: integer('limit_adaptive').notNull().default(0),
  /** OAuth2 settings as JSON (grant, token URL, client id, scopes, audience); the client secret is `secret`. */
  oauth2: text('oauth2'),
  /** OAuth2 refresh token, sealed; replaced when the token endpoint rotates it. */
  refreshToken: text('refresh_token'),
  lastStatus: text('last_status'),
  lastStatusMessage: text('last_status_message'),
  lastCheckedAt: integer('last_checked_at'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * Incremental sync: the watermark of each incremental source node of a flow — the largest "changed
 * at" value its last successful run read. Written only when a run succeeds.
 */
export const watermarks = sqliteTable(
  'watermarks',
  {
    flowId: text('flow_id')
      .notNull()
      .references(() => flows.id),
    nodeId: text('node_id').notNull(),
    value: text('value').notNull(),
    /** The run that set it. */
    runId: integer('run_id').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.flowId, t.nodeId] })],
);

/** Alert rules of a flow: when (condition, JSON) and where (channel, JSON without its secret; the secret sealed). */
export const alertRules = sqliteTable(
  'alert_rules',
  {
    id: text('id').primaryKey(),
    flowId: text('flow_id')
      .notNull()
      .references(() => flows.id),
    name: text('name').notNull(),
    enabled: integer('enabled').notNull().default(1),
    condition: text('condition').notNull(),
    channel: text('channel').notNull(),
    secret: text('secret'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('alert_rules_flow').on(t.flowId)],
);

/**
 * Alerts to send and sent: one per rule and run (or schedule slot), `dedupe` unique. A process claims
 * a due pending one (claimed_by, claimed_until) before it sends it; its attempts, last error and the
 * time of the next attempt are kept.
 */
export const alertDeliveries = sqliteTable(
  'alert_deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ruleId: text('rule_id').notNull(),
    flowId: text('flow_id')
      .notNull()
      .references(() => flows.id),
    runId: text('run_id'),
    rule: text('rule').notNull(),
    channel: text('channel').notNull(),
    dedupe: text('dedupe').notNull(),
    payload: text('payload').notNull(),
    /** pending | delivered | failed */
    status: text('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    claimedBy: text('claimed_by'),
    claimedUntil: integer('claimed_until'),
    createdAt: integer('created_at').notNull(),
    deliveredAt: integer('delivered_at'),
  },
  (t) => [
    uniqueIndex('alert_deliveries_dedupe').on(t.dedupe),
    index('alert_deliveries_due').on(t.status, t.nextAttemptAt),
    index('alert_deliveries_flow').on(t.flowId, t.id),
  ],
);

/**
 * The data keys stored secrets are sealed with, each sealed under the master key (SLUICE_SECRET_KEY or
 * the data folder's secret.key). The newest key not retired seals; a rotation retires the keys before
 * it, dropping their material (`sealed_key` null) and keeping the id and time to say why a value
 * sealed with one is refused.
 */
export const secretKeys = sqliteTable('secret_keys', {
  id: text('id').primaryKey(),
  sealedKey: text('sealed_key'),
  createdAt: integer('created_at').notNull(),
  retiredAt: integer('retired_at'),
});

/**
 * The audit log: one row per change someone made (an API request that changes something, refused
 * ones included, or a command such as a backup). Only appended to; retention removes old rows.
 */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    /** token | user | cli | system */
    actorKind: text('actor_kind').notNull(),
    actorId: text('actor_id').notNull(),
    actorName: text('actor_name').notNull(),
    /** The client address of the request; null outside the API. */
    address: text('address'),
    action: text('action').notNull(),
    objectType: text('object_type').notNull(),
    objectId: text('object_id'),
    /** What changed, as JSON (never a secret). */
    summary: text('summary'),
    /** ok | refused | failed */
    outcome: text('outcome').notNull(),
    error: text('error'),
  },
  (t) => [
    index('audit_log_at').on(t.at),
    index('audit_log_actor').on(t.actorId, t.id),
    index('audit_log_object').on(t.objectType, t.objectId, t.id),
  ],
);
