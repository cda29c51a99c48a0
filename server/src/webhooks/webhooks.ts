import { createHmac, randomBytes } from 'node:crypto';
import type { Flow } from '@sluice/shared';
import type { Context } from 'hono';
import type { Sealer } from '../connections/keyring.js';
import { safeEqual } from '../connections/secrets.js';
import {
  ConflictError,
  InvalidError,
  NotFoundError,
  notFound,
  TooLargeError,
  UnauthenticatedError,
} from '../errors.js';
import type { FlowRepository } from '../flows/repository.js';
import { assertJsonDepth } from '../json-depth.js';
import type { Runner } from '../runs/runner.js';
import type { HookRows } from '../storage/port.js';

export const SIGNATURE_HEADER = 'x-sluice-signature';
export const SECRET_HEADER = 'x-sluice-secret';
const MAX_RECORDS = 1_000_000;

export interface HookView {
  nodeId: string;
  id: string;
  /** Path to POST records to, on this server. */
  path: string;
  /** The hook's secret, for signing: `x-sluice-signature: sha256=<hex HMAC-SHA256 of the body>`. */
  secret: string;
}

/** The HMAC-SHA256 signature header value of a body under a secret. */
export function signBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Webhook triggers: each (flow, webhook node) gets an unguessable hook id and a secret (sealed at
 * rest). A POST to /hooks/<id> with a JSON array or JSON lines, signed with the secret (or carrying
 * it), starts a run of the flow's published version over those records.
 */
export class Webhooks {
  constructor(
    private readonly hooks: HookRows,
    private readonly box: Sealer,
    private readonly flows: FlowRepository,
    private readonly runner: Runner,
    private readonly now: () => number = Date.now,
  ) {}

  /** The hooks of a flow's webhook nodes (made on first call), in its latest or published version. */
  async list(flowId: string): Promise<HookView[]> {
    const flow = await this.flows.get(flowId);
    const nodes = new Set(webhookNodes(flow.document));
    if (flow.publishedVersion !== null) {
      for (const n of webhookNodes((await this.flows.get(flowId, flow.publishedVersion)).document)) nodes.add(n);
    }
    const hooks: HookView[] = [];
    for (const nodeId of nodes) hooks.push(await this.ensure(flowId, nodeId));
    return hooks;
  }

  /** Replaces a hook's secret (the old one stops working at once). */
  async rotate(flowId: string, nodeId: string): Promise<HookView> {
    const hook = (await this.list(flowId)).find((h) => h.nodeId === nodeId);
    if (!hook) throw notFound('webhook node', `${flowId}/${nodeId}`);
    const secret = newSecret();
    await this.hooks.setSecret(hook.id, await this.box.seal(secret));
    return { ...hook, secret };
  }

  /** Handles POST /hooks/:id: checks the hook, its flow, the size, the signature and the body; starts a run. */
  async receive(c: Context, hookId: string): Promise<Response> {
    // hook ids are made here (`hk_` and base64url): anything else names no hook, and is not looked up
    const row = HOOK_ID.test(hookId) ? await this.hooks.get(hookId) : undefined;
    if (!row) throw new NotFoundError('no webhook at this address');
    const flow = await this.flows.get(row.flowId);
    if (flow.publishedVersion === null)
      throw new ConflictError('not_published', `flow "${flow.name}" has no published version`);
    if (!flow.enabled) throw new ConflictError('disabled', `flow "${flow.name}" is disabled`);
    const published = (await this.flows.get(row.flowId, flow.publishedVersion)).document;
    const node = published.nodes.find((n) => n.id === row.nodeId && n.type === 'webhook');
    if (!node) throw new ConflictError('not_published', `the published version has no webhook node "${row.nodeId}"`);
    const limit = (node.params as { maxBodyBytes: number }).maxBodyBytes;
    const body = await readLimited(c, limit);
    this.authenticate(c, await this.box.open(row.secret), body);
    const records = parseRecords(body.toString('utf8'));
    // a caller that traces sends its trace context: the run's span joins that trace
    const traceparent = c.req.header('traceparent');
    const tracestate = c.req.header('tracestate');
    const runId = await this.runner.enqueue(row.flowId, 'webhook', {
      version: 'published',
      inputs: records,
      ...(traceparent ? { trace: { traceparent, tracestate } } : {}),
    });
    return c.json({ runId, status: 'queued', records: records.length }, 202);
  }

  private authenticate(c: Context, secret: string, body: Buffer): void {
    const signature = c.req.header(SIGNATURE_HEADER);
    const given = c.req.header(SECRET_HEADER);
    if (signature) {
      if (!safeEqual(signature.trim().toLowerCase(), signBody(secret, body))) {
        throw new UnauthenticatedError(
          'bad_signature',
          `${SIGNATURE_HEADER}: does not match the body signed with the hook's secret`,
        );
      }
      return;
    }
    if (given) {
      if (!safeEqual(given, secret))
        throw new UnauthenticatedError('bad_secret', `${SECRET_HEADER}: not this hook's secret`);
      return;
    }
    throw new UnauthenticatedError(
      'unauthenticated',
      `send ${SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of the body with the hook's secret>, or ${SECRET_HEADER}: <secret>`,
    );
  }

  private async ensure(flowId: string, nodeId: string): Promise<HookView> {
    const found = await this.hooks.find(flowId, nodeId);
    if (found) return { nodeId, id: found.id, path: `/hooks/${found.id}`, secret: await this.box.open(found.secret) };
    const id = `hk_${randomBytes(12).toString('base64url')}`;
    const secret = newSecret();
    try {
      await this.hooks.insert({ id, flowId, nodeId, secret: await this.box.seal(secret), createdAt: this.now() });
    } catch (err) {
      // made meanwhile by another request or process: that one is the hook
      const made = await this.hooks.find(flowId, nodeId);
      if (!made) throw err;
      return { nodeId, id: made.id, path: `/hooks/${made.id}`, secret: await this.box.open(made.secret) };
    }
    return { nodeId, id, path: `/hooks/${id}`, secret };
  }
}

/** The shape of the ids `ensure` makes. */
const HOOK_ID = /^hk_[A-Za-z0-9_-]{1,64}$/;

const newSecret = () => `whsec_${randomBytes(24).toString('base64url')}`;

const webhookNodes = (flow: Flow) => flow.nodes.filter((n) => n.type === 'webhook').map((n) => n.id);

/** Reads the body, answering 413 as soon as it is known to be over the limit (declared or streamed). */
async function readLimited(c: Context, limit: number): Promise<Buffer> {
  const tooLarge = () => new TooLargeError(`request body: larger than this hook's limit of ${limit} bytes`);
  const declared = Number(c.req.header('content-length'));
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  const stream = c.req.raw.body;
  if (!stream) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

/** A JSON array of objects, or JSON lines (one object per line; blank lines ignored). */
export function parseRecords(text: string): Record<string, unknown>[] {
  const trimmed = text.trim();
  if (!trimmed)
    throw new InvalidError('bad_request', 'request body: expected a JSON array or JSON lines of records, got nothing');
  let records: unknown[];
  if (trimmed.startsWith('[')) {
    try {
      records = JSON.parse(trimmed) as unknown[];
    } catch (err) {
      throw new InvalidError('bad_json', `request body: not a valid JSON array (${(err as Error).message})`);
    }
  } else {
    records = [];
    const lines = trimmed.split('\n');
    for (const [i, line] of lines.entries()) {
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line));
      } catch (err) {
        throw new InvalidError('bad_json', `line ${i + 1}: not valid JSON (${(err as Error).message})`, {
          path: `line ${i + 1}`,
        });
      }
    }
  }
  if (records.length > MAX_RECORDS)
    throw new TooLargeError(`request body: more than ${MAX_RECORDS} records; split it into several requests`);
  records.forEach((r, i) => {
    if (r === null || typeof r !== 'object' || Array.isArray(r))
      throw new InvalidError('bad_request', `[${i}]: each record must be a JSON object`, { path: `[${i}]` });
    assertJsonDepth(r, `[${i}]`);
  });
  return records as Record<string, unknown>[];
}
