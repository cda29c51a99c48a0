import type { RunDetail } from '@sluice/shared';
import { useEffect, useState } from 'react';
import { ApiClientError, describeError, useApi } from '../api';
import { isFinalStatus } from '../lib/format';

export const POLL_INTERVAL_MS = 500;

export interface RunDetailState {
  run: RunDetail | undefined;
  error: string | null;
}

/** Follows one run: loads it, then again every half second until it has finished. */
export function useRunDetail(runId: string | null): RunDetailState {
  const api = useApi();
  const [state, setState] = useState<RunDetailState & { runId: string | null }>({
    runId: null,
    run: undefined,
    error: null,
  });

  useEffect(() => {
    setState({ runId, run: undefined, error: null });
    if (runId === null) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const run = await api.call('getRun', { params: { id: runId }, signal: controller.signal });
        if (controller.signal.aborted) return;
        setState({ runId, run, error: null });
        if (isFinalStatus(run.status)) return;
      } catch (error) {
        if (controller.signal.aborted) return;
        setState((s) => ({ ...s, error: describeError(error) }));
        // A run that does not exist will not appear later; anything else may be passing.
        if (error instanceof ApiClientError && error.status >= 400 && error.status < 500) return;
      }
      timer = setTimeout(tick, POLL_INTERVAL_MS);
    };
    void tick();
    return () => {
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [api, runId]);

  return state.runId === runId ? { run: state.run, error: state.error } : { run: undefined, error: null };
}
