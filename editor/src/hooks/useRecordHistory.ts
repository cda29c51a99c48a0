import type { RecordOutcomeView } from '@sluice/shared';
import { api } from '../api';
import { type AsyncState, useAsync } from './useAsync';

/** What happened to one record key in every run of a flow. */
export function useRecordHistory(flowId: string, key: string | null): AsyncState<RecordOutcomeView[]> {
  const state = useAsync(key === null ? null : `${flowId}\u0000${key}`, (signal) =>
    api.recordHistory(flowId, key ?? '', signal),
  );
  return { ...state, data: state.data?.items };
}
