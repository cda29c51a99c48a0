import type { AlertDelivery, Operations } from '@sluice/shared';
import { useEffect, useState } from 'react';
import { useApi } from '../api';
import { type AsyncState, useAsync } from './useAsync';

/** How often the operations screen asks again. */
export const OPERATIONS_POLL_MS = 2_000;

/** A number that goes up every `ms` while the component is shown: a key that makes `useAsync` load again. */
function usePollTick(ms: number): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => {
      // a hidden tab does not ask: it catches up when shown again
      if (document.visibilityState !== 'hidden') setTick((n) => n + 1);
    }, ms);
    return () => clearInterval(timer);
  }, [ms]);
  return tick;
}

/** `GET /api/operations`, asked again every two seconds; the last answer stays shown while the next loads. */
export function useOperations(ms = OPERATIONS_POLL_MS): AsyncState<Operations> {
  const api = useApi();
  const tick = usePollTick(ms);
  return useAsync(`operations\u0000${tick}`, (signal) => api.call('getOperations', { signal }), true);
}

/** The latest alert deliveries of every flow (`GET /api/alert-deliveries`), polled like the rest of the screen. */
export function useAlertDeliveries(limit = 20, ms = OPERATIONS_POLL_MS): AsyncState<AlertDelivery[]> {
  const api = useApi();
  const tick = usePollTick(ms);
  return useAsync(
    `alert-deliveries\u0000${limit}\u0000${tick}`,
    async (signal) => (await api.call('listAlertDeliveries', { query: { limit }, signal })).items,
    true,
  );
}
