import type { RecordOutcomeView } from '@sluice/shared';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, describeError } from '../api';

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
  const [items, setItems] = useState<RecordOutcomeView[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Answers to an older request (another run, an earlier refresh) are dropped.
  const generation = useRef(0);
  const lastRun = useRef<string | null>(null);

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
    api.listRecords(runId, { status: 'failed', limit: RECORDS_PAGE_SIZE }, controller.signal).then(
      (page) => {
        if (generation.current !== mine) return;
        setItems(page.items);
        setNextCursor(page.nextCursor);
        setLoading(false);
      },
      (e: unknown) => {
        if (generation.current !== mine) return;
        setError(describeError(e));
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [runId, refreshKey]);

  const loadMore = useCallback(() => {
    if (runId === null || nextCursor === null) return;
    const mine = ++generation.current;
    setLoading(true);
    setError(null);
    api.listRecords(runId, { status: 'failed', limit: RECORDS_PAGE_SIZE, cursor: nextCursor }).then(
      (page) => {
        if (generation.current !== mine) return;
        setItems((old) => [...old, ...page.items]);
        setNextCursor(page.nextCursor);
        setLoading(false);
      },
      (e: unknown) => {
        if (generation.current !== mine) return;
        setError(describeError(e));
        setLoading(false);
      },
    );
  }, [runId, nextCursor]);

  return { items, nextCursor, loading, error, loadMore };
}
