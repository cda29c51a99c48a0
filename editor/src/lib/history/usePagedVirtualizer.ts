import type { Page } from '@sluice/shared';
import { useVirtualizer } from '@tanstack/react-virtual';
import { type RefObject, useEffect, useRef } from 'react';
import { type CursorPages, useCursorPages } from './useCursorPages';

/** Start loading the next page when the last rendered row is this close to the end of the loaded rows. */
export const PREFETCH_ROWS = 40;

/**
 * A virtualiser over a cursor-paged list with fixed-height rows: one row per loaded item, plus one at the
 * end (index `items.length`) for "loading more" or its error while the server has more. Loads the next page
 * as the rendered rows come near the end of what is loaded.
 */
export function usePagedVirtualizer<T>(
  pages: CursorPages<T>,
  rowHeight: number,
  scrollRef: RefObject<HTMLDivElement | null>,
) {
  const { items, hasMore, loading, loadingMore, refreshing, loadMore } = pages;
  const count = items.length === 0 ? 0 : items.length + (hasMore ? 1 : 0);
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan: 12,
    // React 19 warns about flushSync during rendering; rows have a fixed height, so nothing is lost.
    useFlushSync: false,
  });
  const rows = virtualizer.getVirtualItems();
  const lastRendered = rows.length > 0 ? (rows[rows.length - 1]?.index ?? -1) : -1;
  const busy = loading || loadingMore || refreshing;
  useEffect(() => {
    if (hasMore && !busy && lastRendered >= 0 && lastRendered >= items.length - PREFETCH_ROWS) loadMore();
  }, [hasMore, busy, lastRendered, items.length, loadMore]);
  return { virtualizer, rows };
}

/**
 * A server list shown as a virtualised scroll area: pages read by cursor with `fetchPage(limit, cursor)`
 * as the user scrolls, read again from the first page (scrolled to the top) whenever `query` changes.
 */
export function usePagedList<T>(
  query: string,
  refreshKey: string | number | undefined,
  fetchPage: (limit: number, cursor: string | null, signal: AbortSignal) => Promise<Page<T>>,
  rowHeight: number,
  options: { pageSize: number; maxLimit: number },
) {
  const pages = useCursorPages<T>(
    query,
    refreshKey,
    (cursor, limit, signal) => fetchPage(limit, cursor, signal),
    options,
  );
  const scrollRef = useRef<HTMLDivElement>(null);
  const { virtualizer, rows } = usePagedVirtualizer(pages, rowHeight, scrollRef);
  useEffect(() => {
    void query;
    if (scrollRef.current) scrollRef.current.scrollTop = 0;
  }, [query]);
  return { pages, scrollRef, virtualizer, rows };
}
