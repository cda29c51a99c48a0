import type { FlowDetail } from '@sluice/shared';
import { useApi } from '../api';
import { type AsyncState, useAsync } from './useAsync';

/** The latest version of one flow, with its validation problems. */
export function useFlowDetail(flowId: string | null): AsyncState<FlowDetail> {
  const api = useApi();
  return useAsync(flowId, (signal) => api.call('getFlow', { params: { id: flowId ?? '' }, signal }), true);
}
