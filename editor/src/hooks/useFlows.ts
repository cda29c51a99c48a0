import type { FlowSummary } from '@sluice/shared';
import { api } from '../api';
import { type AsyncState, useAsync } from './useAsync';

/** Every stored flow, as listed by the API. */
export function useFlows(): AsyncState<FlowSummary[]> {
  const state = useAsync('flows', (signal) => api.listFlows(signal), true);
  return { ...state, data: state.data?.items };
}
