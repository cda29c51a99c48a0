import type { FlowSummary } from '@sluice/shared';
import { useApi } from '../api';
import { type AsyncState, useAsync } from './useAsync';

/** Every stored flow, as listed by the API. */
export function useFlows(): AsyncState<FlowSummary[]> {
  const api = useApi();
  const state = useAsync('flows', (signal) => api.call('listFlows', { signal }), true);
  return { ...state, data: state.data?.items };
}
