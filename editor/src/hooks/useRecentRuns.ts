import type { RunSummary } from '@sluice/shared';
import { api } from '../api';
import { type AsyncState, useAsync } from './useAsync';

/** The latest runs of a flow; loads again when `refreshKey` changes. */
export function useRecentRuns(flowId: string, refreshKey: string): AsyncState<RunSummary[]> {
  const state = useAsync(`${flowId}\u0000${refreshKey}`, (signal) => api.listRuns(flowId, 20, signal), true);
  return { ...state, data: state.data?.items };
}
