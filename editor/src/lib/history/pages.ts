import type { Page } from '@sluice/shared';

/** A list read from a cursor-paged API route, a page at a time. */
export interface PagesState<T> {
  items: T[];
  /** Cursor of the next page; null when the last page has been read. */
  nextCursor: string | null;
  /** The first page is loading and there is nothing to show yet. */
  loading: boolean;
  /** The list is loading again from the top, its rows still shown. */
  refreshing: boolean;
  /** The next page is loading. */
  loadingMore: boolean;
  /** Loading (or reloading) the list failed: a message to show as it is. */
  error: string | null;
  /** Loading the next page failed. */
  moreError: string | null;
}

export type LoadMode = 'reset' | 'refresh' | 'more';

export type PagesAction<T> =
  | { type: 'idle' }
  | { type: 'start'; mode: LoadMode }
  | { type: 'loaded'; mode: LoadMode; page: Page<T> }
  | { type: 'failed'; mode: LoadMode; message: string };

export function initialPages<T>(loading: boolean): PagesState<T> {
  return {
    items: [],
    nextCursor: null,
    loading,
    refreshing: false,
    loadingMore: false,
    error: null,
    moreError: null,
  };
}

/**
 * How the list changes. `reset` (a new query) empties it; `refresh` (the same query, read again) keeps the rows
 * on screen until the new ones arrive and then replaces them; `more` appends the next page.
 */
export function pagesReducer<T>(state: PagesState<T>, action: PagesAction<T>): PagesState<T> {
  switch (action.type) {
    case 'idle':
      return initialPages(false);
    case 'start':
      if (action.mode === 'reset') return initialPages(true);
      if (action.mode === 'refresh') return { ...state, refreshing: true, loadingMore: false, moreError: null };
      return { ...state, loadingMore: true, moreError: null };
    case 'loaded':
      if (action.mode === 'more') {
        return {
          ...state,
          items: state.items.concat(action.page.items),
          nextCursor: action.page.nextCursor,
          loadingMore: false,
        };
      }
      return { ...initialPages(false), items: action.page.items, nextCursor: action.page.nextCursor };
    case 'failed':
      if (action.mode === 'more') return { ...state, loadingMore: false, moreError: action.message };
      return { ...state, loading: false, refreshing: false, loadingMore: false, error: action.message };
  }
}
