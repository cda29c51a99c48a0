import type { FlowDetail } from '@sluice/shared';
import { api } from '../api';
import { type AsyncState, useAsync } from './useAsync';

/** The latest version of one flow, with its validation problems. */
export function useFlowDetail(flowId: string | null): AsyncState<FlowDetail> {
  return useAsync(flowId, (signal) => api.getFlow(flowId ?? '', signal), true);
}
