import type { FlowEstimate } from '@sluice/shared';
import { useApi } from '../api';
import { type AsyncState, useAsync } from './useAsync';

/** The server's run estimate of a flow (and the facts behind it); loads again when `refreshKey` changes. */
export function useEstimate(flowId: string, refreshKey: string): AsyncState<FlowEstimate> {
  const api = useApi();
  return useAsync(
    `${flowId}\u0000${refreshKey}`,
    (signal) => api.call('flowEstimate', { params: { id: flowId }, signal }),
    true,
  );
}
