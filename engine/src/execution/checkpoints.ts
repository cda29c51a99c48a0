import type { Checkpoint, ResumeState, WatermarkState, Watermarks } from '../ports.js';
import type { LiveNode } from './graph.js';
import type { RunState } from './state.js';

/** A page a source (or a retry run's replay) read: where it can be read again, and its first record. */
interface PageMark {
  nodeId: string;
  cursor: unknown;
  firstSeq: number;
}

/**
 * What a run needs to go on after its process died: the pages it may have to read again, the
 * low-water mark, the nodes' and breakers' states. Taken with every commit.
 */
export class Checkpoints {
  private pages: PageMark[] = [];

  constructor(
    private readonly state: RunState,
    private readonly nodes: ReadonlyMap<string, LiveNode>,
  ) {}

  /** A page starting at record `firstSeq` was read by `nodeId`; `cursor` reads it again. */
  markPage(nodeId: string, cursor: unknown, firstSeq: number): void {
    this.pages.push({ nodeId, cursor, firstSeq });
  }

  /** The checkpoint as of now; pages wholly below the low-water mark are forgotten. */
  take(): Checkpoint {
    const { state } = this;
    const lowWater = state.tracker.lowestInFlight() ?? state.nextSeq;
    let keep = 0;
    this.pages.forEach((p, i) => {
      if (p.firstSeq <= lowWater) keep = i;
    });
    this.pages = this.pages.slice(keep);
    const page = this.pages[0];
    const nodeState: Record<string, unknown> = {};
    for (const live of this.nodes.values()) {
      const s = live.runtime.state?.();
      // a copy: the store may keep the object, and the node goes on changing its own
      if (s !== undefined) nodeState[live.node.id] = structuredClone(s);
    }
    const cp: Checkpoint = {
      version: 1,
      lowWater,
      nextBatch: state.nextBatch,
      sourcesDone: state.sourcesSettled(lowWater),
      nodeState,
      breakers: state.breakers.snapshot(state.connectionsUsed),
    };
    if (state.lastBatchEnd !== undefined) cp.lastBatchEnd = state.lastBatchEnd;
    if (page) cp.position = { nodeId: page.nodeId, cursor: page.cursor, firstSeq: page.firstSeq };
    return cp;
  }
}

/** A node's state from the checkpoint, seeded with its stored watermark (see `WatermarkState`). */
export function restoredState(nodeId: string, resume: ResumeState | undefined, watermarks?: Watermarks): unknown {
  const state = resume?.checkpoint.nodeState[nodeId];
  const from = watermarks?.[nodeId];
  if (from === undefined) return state;
  if (state !== undefined && (state === null || typeof state !== 'object' || Array.isArray(state))) return state;
  return { watermarkFrom: from, ...((state as WatermarkState | undefined) ?? {}) };
}

/** The watermarks the nodes' states report now. */
export function currentWatermarks(nodes: Iterable<LiveNode>): Watermarks {
  const out: Watermarks = {};
  for (const live of nodes) {
    const state = live.runtime.state?.() as WatermarkState | undefined;
    if (state && typeof state === 'object' && typeof state.watermark === 'string') out[live.node.id] = state.watermark;
  }
  return out;
}
