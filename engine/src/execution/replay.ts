import type { ReplaySource, ResumeState } from '../ports.js';
import type { Item } from '../runtime.js';
import type { Checkpoints } from './checkpoints.js';
import type { Commits } from './commits.js';
import type { LiveNode } from './graph.js';
import type { Router } from './router.js';
import type { RunState } from './state.js';

/** The checkpoint position of a retry run's replay: its cursor is the last record's `ref`. */
const REPLAY_NODE = '$retry';
const REPLAY_PAGE = 500;

/** What feeding failed records back into a run needs of the executor. */
export interface ReplayParts {
  state: RunState;
  nodes: ReadonlyMap<string, LiveNode>;
  router: Router;
  checkpoints: Checkpoints;
  commits: Commits;
  resume: ResumeState | undefined;
}

/**
 * A retry run: feeds the failed records of an earlier run into the nodes where they failed, in
 * their order, a page at a time; consecutive records of one node go in together.
 */
export async function replay(source: ReplaySource, parts: ReplayParts): Promise<void> {
  const { state, checkpoints, commits } = parts;
  const position = parts.resume?.checkpoint.position;
  let after = position?.nodeId === REPLAY_NODE ? (position.cursor as number) : -1;
  for (;;) {
    await state.boundary();
    const page = await source.read(after, REPLAY_PAGE);
    if (page.length === 0) return;
    checkpoints.markPage(REPLAY_NODE, after, state.nextSeq);
    let group: Item[] = [];
    let groupNode: string | undefined;
    const flush = async () => {
      if (group.length && groupNode !== undefined) await replayInto(parts, groupNode, group);
      group = [];
    };
    for (const record of page) {
      const seq = state.nextSeq++;
      if (state.settledEarlier(seq)) continue;
      state.tracker.read(seq, record.key);
      if (record.nodeId !== groupNode) await flush();
      groupNode = record.nodeId;
      const data = record.payload;
      group.push({ seq, key: record.key, data, source: data, batchNo: 0, attempts: 0, hops: [] });
    }
    await flush();
    after = (page[page.length - 1] as { ref: number }).ref;
    await commits.commitOutsideBatches();
  }
}

/** Feeds records into a node, or fails them there when the flow no longer has a node that takes them. */
async function replayInto(parts: ReplayParts, nodeId: string, items: Item[]): Promise<void> {
  const target = parts.nodes.get(nodeId);
  if (target && target.role !== 'trigger' && target.role !== 'source') return parts.router.deliver(target, items);
  for (const item of items) {
    item.error = {
      message: `node "${nodeId}" is not in this flow version (or cannot take records), so the record cannot be retried there`,
      code: 'retry_node_missing',
    };
    item.failedAt = nodeId;
    item.payload = item.data;
    parts.state.tracker.fail(item);
    parts.state.tracker.end(item, nodeId, 'failed');
  }
}
