import type { RecordOutcomeView } from '@sluice/shared';
import { useApi } from '../api';
import { type AsyncState, useAsync } from './useAsync';

/** What happened to one record key in every run of a flow. */
export function useRecordHistory(
  flowId: string,
  key: string | null,
  /** Changes when the history may have grown (a run ended): read it again. */
  refreshKey = '',
): AsyncState<RecordOutcomeView[]> {
  const api = useApi();
  const state = useAsync(key === null ? null : `${flowId}\u0000${key}\u0000${refreshKey}`, (signal) =>
    api.call('recordHistory', { params: { id: flowId, key: key ?? '' }, signal }),
  );
  return { ...state, data: state.data?.items };
}
