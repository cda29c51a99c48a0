import type { Operations } from '@sluice/shared';
import { useEffect, useState } from 'react';
import { useApi } from '../api';
import { type AlertDeliveries, readAlertDeliveries } from '../lib/operations';
import { getToken } from '../lib/token';
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

/**
 * The latest alert deliveries (`GET /api/alert-deliveries?limit=`), polled like the rest of the
 * screen; `unavailable` when the server has no such route (a build without alerts answers 404).
 */
export function useAlertDeliveries(limit = 20, ms = OPERATIONS_POLL_MS): AsyncState<AlertDeliveries> {
  const tick = usePollTick(ms);
  return useAsync(
    `alert-deliveries\u0000${limit}\u0000${tick}`,
    async (signal): Promise<AlertDeliveries> => {
      const token = getToken();
      const res = await fetch(`/api/alert-deliveries?limit=${limit}`, {
        signal,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      if (res.status === 404) return { state: 'unavailable' };
      if (!res.ok) throw new Error(`The alert deliveries could not be read (HTTP ${res.status}).`);
      return { state: 'ok', items: readAlertDeliveries(await res.json()) };
    },
    true,
  );
}
