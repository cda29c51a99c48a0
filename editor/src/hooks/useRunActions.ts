import type { RunStatus } from '@sluice/shared';
import { useCallback, useState } from 'react';
import { api, describeError } from '../api';

export interface RunActions {
  start: () => void;
  cancel: (runId: string) => void;
  starting: boolean;
  cancelling: string | null;
  error: string | null;
}

/** Starting a run of a flow and cancelling a run, with what went wrong when the server refused. */
export function useRunActions(flowId: string, onStarted: (runId: string, status: RunStatus) => void): RunActions {
  const [starting, setStarting] = useState(false);
  const [cancelling, setCancelling] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const start = useCallback(() => {
    setStarting(true);
    setError(null);
    api.startRun(flowId).then(
      (answer) => {
        setStarting(false);
        onStarted(answer.runId, answer.status);
      },
      (e: unknown) => {
        setStarting(false);
        setError(`Could not start the run: ${describeError(e)}`);
      },
    );
  }, [flowId, onStarted]);

  const cancel = useCallback((runId: string) => {
    setCancelling(runId);
    setError(null);
    api.cancelRun(runId).then(
      () => undefined,
      (e: unknown) => {
        setCancelling(null);
        setError(`Could not cancel the run: ${describeError(e)}`);
      },
    );
  }, []);

  return { start, cancel, starting, cancelling, error };
}
