import type { Flow } from '@sluice/shared';
import { upstreamOf } from '../graph';

/** What a retry on the current version changes for records that failed at `failedAt`. */
export interface RetryReach {
  /** Failing nodes whose settings changed: the retry runs their new settings. */
  changedAtFailure: string[];
  /** Changed (or new) nodes before a failing node: failed records re-enter after them, so these changes do not reach them. */
  changedBefore: string[];
}

const settingsOf = (doc: Flow, id: string) => {
  const node = doc.nodes.find((n) => n.id === id);
  return node ? JSON.stringify([node.type, node.params ?? {}]) : undefined;
};

/**
 * Which changes between the version a run ran and the current one a retry on the current version
 * applies to its failed records: a record re-enters at the node where it failed, with the payload it
 * had there, so changes at that node apply and changes before it do not.
 */
export function retryReach(original: Flow, current: Flow, failedAt: readonly string[]): RetryReach {
  const changed = (id: string) => settingsOf(original, id) !== settingsOf(current, id);
  const changedAtFailure = failedAt.filter((id) => settingsOf(current, id) !== undefined && changed(id));
  const before = new Set<string>();
  for (const id of failedAt) for (const up of upstreamOf(current, id)) if (changed(up)) before.add(up);
  for (const id of failedAt) before.delete(id);
  return { changedAtFailure, changedBefore: [...before].sort() };
}
