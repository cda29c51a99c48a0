import type { NodeTestData } from '@sluice/engine';

/** How many test runs' per-node data the process keeps (each bounded by the test's limit × its nodes). */
export const TEST_DATA_KEPT = 20;

/**
 * What each node of the latest test runs received, emitted and failed, kept in memory: a test's
 * data is wanted at once by the editor that asked, and is not worth a table. The oldest goes first;
 * a restart forgets them all (the runs and their outcomes stay stored).
 */
export class TestRunData {
  private readonly data = new Map<string, Record<string, NodeTestData>>();

  set(runId: string, nodes: Record<string, NodeTestData>): void {
    this.data.delete(runId);
    this.data.set(runId, nodes);
    while (this.data.size > TEST_DATA_KEPT) this.data.delete(this.data.keys().next().value as string);
  }

  get(runId: string): Record<string, NodeTestData> | undefined {
    return this.data.get(runId);
  }
}
