import { describe, expect, it } from 'vitest';
import { initialPages, type PagesState, pagesReducer } from './pages';

const page = (items: number[], nextCursor: string | null) => ({ items, nextCursor });

function loaded(items: number[], nextCursor: string | null): PagesState<number> {
  return pagesReducer(initialPages<number>(true), { type: 'loaded', mode: 'reset', page: page(items, nextCursor) });
}

describe('pagesReducer', () => {
  it('starts a new query empty and loading', () => {
    const state = pagesReducer(loaded([1, 2], 'c'), { type: 'start', mode: 'reset' });
    expect(state).toEqual(initialPages(true));
  });

  it('appends the next page and moves the cursor', () => {
    let state = pagesReducer(loaded([1, 2], 'c2'), { type: 'start', mode: 'more' });
    expect(state.loadingMore).toBe(true);
    state = pagesReducer(state, { type: 'loaded', mode: 'more', page: page([3, 4], null) });
    expect(state.items).toEqual([1, 2, 3, 4]);
    expect(state.nextCursor).toBeNull();
    expect(state.loadingMore).toBe(false);
  });

  it('keeps the rows while reloading, then replaces them', () => {
    let state = pagesReducer(loaded([1, 2], 'c2'), { type: 'start', mode: 'refresh' });
    expect(state.items).toEqual([1, 2]);
    expect(state.refreshing).toBe(true);
    state = pagesReducer(state, { type: 'loaded', mode: 'refresh', page: page([0, 1, 2], 'c3') });
    expect(state).toEqual({ ...initialPages(false), items: [0, 1, 2], nextCursor: 'c3' });
  });

  it('keeps the rows when a reload fails, with the message', () => {
    let state = pagesReducer(loaded([1, 2], 'c2'), { type: 'start', mode: 'refresh' });
    state = pagesReducer(state, { type: 'failed', mode: 'refresh', message: 'down' });
    expect(state.items).toEqual([1, 2]);
    expect(state.error).toBe('down');
    expect(state.refreshing).toBe(false);
  });

  it('reports a failed next page apart from the list, and clears it on the next attempt', () => {
    let state = pagesReducer(loaded([1], 'c1'), { type: 'start', mode: 'more' });
    state = pagesReducer(state, { type: 'failed', mode: 'more', message: 'timeout' });
    expect(state.moreError).toBe('timeout');
    expect(state.error).toBeNull();
    expect(state.nextCursor).toBe('c1');
    state = pagesReducer(state, { type: 'start', mode: 'more' });
    expect(state.moreError).toBeNull();
  });

  it('reports a failed first page as the list error', () => {
    const state = pagesReducer(initialPages<number>(true), { type: 'failed', mode: 'reset', message: 'no' });
    expect(state.loading).toBe(false);
    expect(state.error).toBe('no');
    expect(state.items).toEqual([]);
  });

  it('forgets everything when there is nothing to list', () => {
    expect(pagesReducer(loaded([1], 'c'), { type: 'idle' })).toEqual(initialPages(false));
  });
});
