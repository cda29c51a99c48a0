import type { RecordOutcomeView } from '@sluice/shared';
import { useCallback, useEffect, useRef, useState } from 'react';
import { describeError, useApi } from '../api';

export const RECORDS_PAGE_SIZE = 50;

export interface FailedRecordsState {
  items: RecordOutcomeView[];
  nextCursor: string | null;
  loading: boolean;
  error: string | null;
  loadMore: () => void;
}

/** The failed records of a run, a page at a time; the first page loads again when `refreshKey` changes. */
export function useFailedRecords(runId: string | null, refreshKey: string): FailedRecordsState {
  const api = useApi();
  const [items, setItems] = useState<RecordOutcomeView[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Answers to an older request (another run, an earlier refresh) are dropped.
  const generation = useRef(0);
  const lastRun = useRef<string | null>(null);

  /** Loads the first page (no cursor: replaces the list) or the next one (appends to it). */
  const loadPage = useCallback(
    (run: string, cursor: string | undefined, mine: number, signal?: AbortSignal) => {
      const query = { status: 'failed' as const, limit: RECORDS_PAGE_SIZE, ...(cursor ? { cursor } : {}) };
      api.call('listRecords', { params: { id: run }, query, signal }).then(
        (page) => {
          if (generation.current !== mine) return;
          setItems((old) => (cursor ? [...old, ...page.items] : page.items));
          setNextCursor(page.nextCursor);
          setLoading(false);
        },
        (e: unknown) => {
          if (generation.current !== mine) return;
          setError(describeError(e));
          setLoading(false);
        },
      );
    },
    [api],
  );

  useEffect(() => {
    const mine = ++generation.current;
    if (lastRun.current !== runId) {
      lastRun.current = runId;
      setItems([]);
      setNextCursor(null);
    }
    setError(null);
    setLoading(runId !== null && refreshKey !== '');
    if (runId === null || refreshKey === '') return;
    const controller = new AbortController();
    loadPage(runId, undefined, mine, controller.signal);
    return () => controller.abort();
  }, [runId, refreshKey, loadPage]);

  const loadMore = useCallback(() => {
    if (runId === null || nextCursor === null) return;
    const mine = ++generation.current;
    setLoading(true);
    setError(null);
    loadPage(runId, nextCursor, mine);
  }, [runId, nextCursor, loadPage]);

  return { items, nextCursor, loading, error, loadMore };
}
