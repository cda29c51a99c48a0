import { afterEach, describe, expect, it, vi } from 'vitest';
import { openTestSluice, type TestSluice } from '../http/test-support.js';

let t: TestSluice | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('runner', () => {
  it('handles a refused status write of a run that cannot start: the run is stored failed at the next scan', async () => {
    t = await openTestSluice({ start: false });
    const { runs, runner, store } = t.parts;
    // a run pinned to no flow version cannot start: the runner stores it failed
    const runId = await runs.create({ flowId: null, flowVersionId: null, flowName: 'gone', trigger: 'api' });
    const setStatus = store.setStatus.bind(store);
    let refusals = 0;
    store.setStatus = async (id, update) => {
      if (refusals++ === 0) throw new Error('database or disk is full');
      return setStatus(id, update);
    };
    const finished = runner.wait(runId);
    runner.pump();
    // the refusal is handled (an unhandled rejection fails this file) and leaves the run stored as it was
    await vi.waitFor(() => expect(refusals).toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await runs.get(runId)).status).toBe('queued');
    runner.pump();
    const result = await finished;
    expect(result.status).toBe('failed');
    expect(refusals).toBe(2);
    const stored = await runs.get(runId);
    expect(stored.status).toBe('failed');
    expect(stored.error).toMatch(/^the flow version cannot run: /);
  });
});
