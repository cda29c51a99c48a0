import type { RunSummary } from '@sluice/shared';
import { useApi } from '../api';
import { type AsyncState, useAsync } from './useAsync';

/** The latest runs of a flow; loads again when `refreshKey` changes. */
export function useRecentRuns(flowId: string, refreshKey: string): AsyncState<RunSummary[]> {
  const api = useApi();
  const state = useAsync(
    `${flowId}\u0000${refreshKey}`,
    (signal) => api.call('listRuns', { query: { flowId, limit: 20 }, signal }),
    true,
  );
  return { ...state, data: state.data?.items };
}
