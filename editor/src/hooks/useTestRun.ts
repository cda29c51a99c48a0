import type { Flow } from '@sluice/shared';
import { useCallback, useRef, useState } from 'react';
import { describeError, useApi } from '../api';
import { getTestData, setTestData } from '../lib/test-data';

export interface TestRun {
  /** Tests the document as it is now (saved or not); `until`: only that node and what feeds it. */
  test: (until?: string) => void;
  testing: boolean;
  /** Records each source reads (the toolbar's N). */
  limit: number;
  setLimit: (n: number) => void;
  /** Send the writes for real in the next tests (off by default). */
  sendWrites: boolean;
  setSendWrites: (on: boolean) => void;
}

/** Test runs of the open flow's draft; their data goes to the page's test-data store. */
export function useTestRun(flowId: string, doc: Flow): TestRun {
  const api = useApi();
  const [limit, setLimit] = useState(20);
  const [sendWrites, setSendWrites] = useState(false);
  const [testing, setTesting] = useState(false);
  const latest = useRef(0);

  const test = useCallback(
    (until?: string) => {
      const ticket = ++latest.current;
      setTesting(true);
      const previous = getTestData();
      setTestData({
        ...(previous.flowId === flowId ? previous : { nodes: {}, at: null }),
        flowId,
        runId: null,
        status: 'running',
        error: null,
      });
      const body = {
        document: doc as unknown as Record<string, unknown>,
        limit,
        sendWrites,
        ...(until ? { until } : {}),
      };
      const run = async () => {
        const { runId } = await api.call('testFlow', { params: { id: flowId }, body });
        for (;;) {
          const data = await api.call('testData', { params: { id: runId }, query: { waitMs: 10_000 } });
          if (ticket !== latest.current) return;
          if (['succeeded', 'failed', 'cancelled'].includes(data.status)) {
            setTestData({
              flowId,
              runId,
              status: data.status === 'succeeded' ? 'done' : 'failed',
              error: data.error,
              nodes: data.nodes,
              nodeCounts: data.nodeCounts,
              at: Date.now(),
            });
            return;
          }
        }
      };
      run()
        .catch((e: unknown) => {
          if (ticket === latest.current)
            setTestData({ flowId, runId: null, status: 'failed', error: describeError(e), nodes: {}, at: Date.now() });
        })
        .finally(() => {
          if (ticket === latest.current) setTesting(false);
        });
    },
    [api, flowId, doc, limit, sendWrites],
  );

  return { test, testing, limit, setLimit, sendWrites, setSendWrites };
}
