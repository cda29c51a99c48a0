import type { Page } from '@sluice/shared';
import { useCallback, useEffect, useReducer, useRef } from 'react';
import { describeError } from '../../api';
import { initialPages, type LoadMode, type PagesState, pagesReducer } from './pages';
import { refreshLimit } from './queries';

export interface CursorPages<T> extends PagesState<T> {
  /** True while there are more rows on the server than loaded. */
  hasMore: boolean;
  /** Loads the next page, unless one is loading, there is none, or the last attempt failed (see `retryMore`). */
  loadMore: () => void;
  /** Loads the next page again after it failed. */
  retryMore: () => void;
  /** Loads the list again: from the first page when it is empty, else a reload keeping the rows. */
  retry: () => void;
}

export interface CursorPagesOptions {
  /** Rows per page. */
  pageSize: number;
  /** The largest `limit` the route accepts: a reload asks for as many rows as are loaded, up to this. */
  maxLimit: number;
}

/**
 * A cursor-paged list. `query` names what is listed (null: nothing); when it changes the list starts again
 * from the first page. When `refreshKey` changes the same query is read again from the top, asking for as many
 * rows as are loaded (up to `maxLimit`) so that the rows, and the scroll position, stay. Answers to requests
 * that have been superseded are dropped.
 */
export function useCursorPages<T>(
  query: string | null,
  refreshKey: unknown,
  fetchPage: (cursor: string | null, limit: number, signal: AbortSignal) => Promise<Page<T>>,
  { pageSize, maxLimit }: CursorPagesOptions,
): CursorPages<T> {
  const [state, dispatch] = useReducer(pagesReducer<T>, query !== null, initialPages<T>);
  const stateRef = useRef(state);
  stateRef.current = state;
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;
  const inFlight = useRef<AbortController | null>(null);

  const start = useCallback(
    (mode: LoadMode) => {
      inFlight.current?.abort();
      const controller = new AbortController();
      inFlight.current = controller;
      const current = stateRef.current;
      const cursor = mode === 'more' ? current.nextCursor : null;
      const limit = mode === 'refresh' ? refreshLimit(current.items.length, pageSize, maxLimit) : pageSize;
      dispatch({ type: 'start', mode });
      const settle = () => {
        if (inFlight.current === controller) inFlight.current = null;
      };
      fetchRef.current(cursor, limit, controller.signal).then(
        (page) => {
          if (controller.signal.aborted) return;
          settle();
          dispatch({ type: 'loaded', mode, page });
        },
        (error: unknown) => {
          if (controller.signal.aborted) return;
          settle();
          dispatch({ type: 'failed', mode, message: describeError(error) });
        },
      );
    },
    [pageSize, maxLimit],
  );

  const lastQuery = useRef<string | null | undefined>(undefined);
  useEffect(() => {
    // refreshKey is a dependency on purpose: a new value reads the list again.
    void refreshKey;
    if (query === null) {
      lastQuery.current = query;
      inFlight.current?.abort();
      inFlight.current = null;
      dispatch({ type: 'idle' });
      return;
    }
    const sameQuery = lastQuery.current === query;
    lastQuery.current = query;
    start(sameQuery && stateRef.current.items.length > 0 ? 'refresh' : 'reset');
  }, [query, refreshKey, start]);

  // Nothing answers after the component is gone.
  useEffect(
    () => () => {
      inFlight.current?.abort();
      inFlight.current = null;
    },
    [],
  );

  const loadMore = useCallback(() => {
    const s = stateRef.current;
    if (s.nextCursor === null || s.loading || s.refreshing || s.loadingMore || s.moreError || s.error) return;
    if (inFlight.current) return;
    start('more');
  }, [start]);

  const retryMore = useCallback(() => {
    if (stateRef.current.nextCursor !== null && !inFlight.current) start('more');
  }, [start]);

  const retry = useCallback(() => {
    if (lastQuery.current === null || lastQuery.current === undefined) return;
    start(stateRef.current.items.length > 0 ? 'refresh' : 'reset');
  }, [start]);

  return { ...state, hasMore: state.nextCursor !== null, loadMore, retryMore, retry };
}
