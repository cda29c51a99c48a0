import type { RunStatus } from '@sluice/shared';
import { useCallback, useState } from 'react';
import { describeError, useApi } from '../api';

export interface RunActions {
  start: () => void;
  cancel: (runId: string) => void;
  pause: (runId: string) => void;
  resume: (runId: string) => void;
  retry: (runId: string) => void;
  starting: boolean;
  cancelling: string | null;
  /** The control request under way, if any. */
  busy: 'pause' | 'resume' | 'retry' | null;
  error: string | null;
}

/** Starting, pausing, resuming, cancelling and retrying runs, with what went wrong when the server refused. */
export function useRunActions(flowId: string, onStarted: (runId: string, status: RunStatus) => void): RunActions {
  const api = useApi();
  const [starting, setStarting] = useState(false);
  const [cancelling, setCancelling] = useState<string | null>(null);
  const [busy, setBusy] = useState<RunActions['busy']>(null);
  const [error, setError] = useState<string | null>(null);

  const start = useCallback(() => {
    setStarting(true);
    setError(null);
    // a person pressed Run: stored with trigger `manual`, apart from runs started by programs (`api`)
    api.call('startRun', { params: { id: flowId }, body: { trigger: 'manual' } }).then(
      (answer) => {
        setStarting(false);
        onStarted(answer.runId, answer.status);
      },
      (e: unknown) => {
        setStarting(false);
        setError(`Could not start the run: ${describeError(e)}`);
      },
    );
  }, [api, flowId, onStarted]);

  const cancel = useCallback(
    (runId: string) => {
      setCancelling(runId);
      setError(null);
      api.call('cancelRun', { params: { id: runId } }).then(
        () => undefined,
        (e: unknown) => {
          setCancelling(null);
          setError(`Could not cancel the run: ${describeError(e)}`);
        },
      );
    },
    [api],
  );

  const control = useCallback(
    (verb: 'pause' | 'resume' | 'retry', runId: string) => {
      setBusy(verb);
      setError(null);
      const params = { id: runId };
      const call =
        verb === 'retry'
          ? api.call('retryRun', { params }).then((started) => onStarted(started.runId, started.status))
          : api.call(verb === 'pause' ? 'pauseRun' : 'resumeRun', { params });
      call.then(
        () => setBusy(null),
        (e: unknown) => {
          setBusy(null);
          setError(`Could not ${verb} the run: ${describeError(e)}`);
        },
      );
    },
    [api, onStarted],
  );

  const pause = useCallback((runId: string) => control('pause', runId), [control]);
  const resume = useCallback((runId: string) => control('resume', runId), [control]);
  const retry = useCallback((runId: string) => control('retry', runId), [control]);

  return { start, cancel, pause, resume, retry, starting, cancelling, busy, error };
}
