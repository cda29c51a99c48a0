import type { Flow } from '@sluice/shared';
import type { Connectors, ResumeState, RunCommit } from '../ports.js';
import { startRun } from '../run.js';
import { MemoryRunStore } from './memory-store.js';
import { testRuntime } from './runtime.js';
import { SimulatedClock } from './simulated-clock.js';

/**
 * Runs a flow in a process that dies after `commits` commits (the later ones never land), then
 * resumes it in a second life from what was stored, as the server does: the last checkpoint, its
 * counts, and the places stored above its low-water mark. Both lives' stores are returned.
 */
export async function dieAndResume(flow: Flow, commits: number, connectors: Connectors) {
  const first = new MemoryRunStore();
  let n = 0;
  const dying = {
    commit: (id: string, c: RunCommit) => (++n > commits ? new Promise<void>(() => {}) : first.commit(id, c)),
    setStatus: (id: string, u: Parameters<MemoryRunStore['setStatus']>[1]) => first.setStatus(id, u),
    setWaiting: () => {},
  };
  const clock1 = new SimulatedClock(0);
  startRun({ runId: 'r', flow, clock: clock1, runtime: testRuntime, store: dying, connectors });
  for (let i = 0; i < 50; i++) await clock1.advance(1000);
  const last = first.commits.at(-1);
  const second = new MemoryRunStore();
  const clock2 = new SimulatedClock(clock1.now());
  let resume: ResumeState | undefined;
  if (last) {
    const lowWater = last.checkpoint.lowWater;
    const settled = new Set(first.outcomes.map((o) => o.seq).filter((seq) => seq >= lowWater));
    resume = { checkpoint: last.checkpoint, counts: last.counts, nodeCounts: last.nodeCounts, settled };
  }
  const result = await clock2.run(
    startRun({
      runId: 'r',
      flow,
      clock: clock2,
      runtime: testRuntime,
      store: second,
      connectors,
      ...(resume ? { resume } : {}),
    }).done,
  );
  return { first, second, result, outcomes: [...first.outcomes, ...second.outcomes] };
}
