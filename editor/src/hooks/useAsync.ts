import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError } from '../api';

export interface AsyncState<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

interface Slot<T> {
  request: string | null;
  data: T | undefined;
  error: string | null;
  loading: boolean;
}

/**
 * Loads data for `key` (nothing when null) and again whenever the key changes or `reload` is called.
 * With `keepPrevious`, the last data stays visible while the next load runs.
 */
export function useAsync<T>(
  key: string | null,
  load: (signal: AbortSignal) => Promise<T>,
  keepPrevious = false,
): AsyncState<T> {
  const loadRef = useRef(load);
  loadRef.current = load;
  const [version, setVersion] = useState(0);
  const [slot, setSlot] = useState<Slot<T>>({ request: null, data: undefined, error: null, loading: key !== null });

  useEffect(() => {
    const request = key === null ? null : `${key}\u0000${version}`;
    if (request === null) {
      setSlot({ request, data: undefined, error: null, loading: false });
      return;
    }
    const controller = new AbortController();
    setSlot((s) => ({ request, data: keepPrevious ? s.data : undefined, error: null, loading: true }));
    loadRef.current(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setSlot({ request, data, error: null, loading: false });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) {
          setSlot((s) => ({
            request,
            data: keepPrevious ? s.data : undefined,
            error: describeError(error),
            loading: false,
          }));
        }
      },
    );
    return () => controller.abort();
  }, [key, version, keepPrevious]);

  const reload = useCallback(() => setVersion((v) => v + 1), []);
  return { data: slot.data, error: slot.error, loading: slot.loading, reload };
}
