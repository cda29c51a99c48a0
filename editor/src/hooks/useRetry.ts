import type { Flow, RecordOutcomeView, RunDetail, RunStatus } from '@sluice/shared';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { describeError, useApi } from '../api';
import { type RetryReach, retryReach } from '../lib/retry/changes';

/** What a retry feeds again: on which version, and (optionally) only these failed records, some with new payloads. */
export interface RetryRequest {
  version: 'original' | 'current';
  records?: { seq: number; payload?: Record<string, unknown> }[];
}

type Payload = Record<string, unknown>;

/** The most records a retry names (the API's limit); a larger "retry all" sends no selection, so no edits. */
const MAX_SELECTION = 10_000;

/** What a record's detail needs to edit its payload and retry it. */
export interface RecordRetry {
  edited: Payload | undefined;
  onEdit: (payload: Payload | undefined) => void;
  onRetry: (payload: Payload | undefined) => void;
}

/** What the failed-records list needs to pick records and retry them together. */
export interface PickedRetry {
  picked: ReadonlySet<number>;
  edited: ReadonlySet<number>;
  onToggle: (seq: number) => void;
  onRetry: () => void;
}

/** What the retry dialog shows and does. */
export interface RetryDialogProps {
  /** The version the failed run ran, and the flow's latest saved version. */
  runVersion: number | null;
  latestVersion: number | null;
  /** How many records are fed again, and how many of them carry an edited payload. */
  count: number;
  edited: number;
  /** The open flow has unsaved changes (a retry runs a saved version). */
  unsaved: boolean;
  /** Of the changes since the run (steps by label): those at the steps where records failed, and those before. */
  reach?: { changedAtFailure: string[]; changedBefore: string[] };
  onRetry: (version: RetryRequest['version']) => void;
  onCancel: () => void;
}

export interface RetryState {
  /** Opens the dialog for every failed record of the shown run. */
  retryAll: (runId: string) => void;
  /** For the failed-records list (absent when nothing can be retried). */
  pick: PickedRetry | undefined;
  /** For a record's detail (absent when it cannot be retried). */
  detail: (record: RecordOutcomeView) => RecordRetry | undefined;
  /** What the retry dialog shows and does, while it is open. */
  dialog: RetryDialogProps | null;
}

/** Whether a run has failed records a retry can feed again: finished, failed > 0, outcomes not pruned, a stored flow. */
export const canRetry = (run: RunDetail | undefined, finished: boolean) =>
  run !== undefined && finished && run.counts.failed > 0 && run.prunedAt === null && run.flowId !== null;

/**
 * Retrying failed records: all of a run's, a picked few, or one, some with edited payloads; on the
 * original or the current version, asked in a dialog. The started retry run is handed to `onStarted`.
 */
export function useRetry(o: {
  run: RunDetail | undefined;
  finished: boolean;
  latestVersion: number | null;
  unsaved: boolean;
  /** The latest saved document, to say which of its changes since the run a retry applies. */
  current: Flow | undefined;
  nodeLabel: (nodeId: string) => string;
  onStarted: (runId: string, status: RunStatus) => void;
  onError: (message: string) => void;
}): RetryState {
  const { run, finished, latestVersion, unsaved, current, nodeLabel, onStarted, onError } = o;
  const api = useApi();
  const runId = run?.id ?? null;
  // picks and edits belong to one run: kept with its id, so another run starts with none
  const [picks, setPicks] = useState<{ runId: string | null; seqs: Set<number> }>({ runId: null, seqs: new Set() });
  const [edits, setEdits] = useState<{ runId: string | null; bySeq: Map<number, Payload> }>({
    runId: null,
    bySeq: new Map(),
  });
  const [asking, setAsking] = useState<{ runId: string; seqs: number[] | null } | null>(null);
  const picked = useMemo(() => (picks.runId === runId ? picks.seqs : new Set<number>()), [picks, runId]);
  const edited = useMemo(() => (edits.runId === runId ? edits.bySeq : new Map<number, Payload>()), [edits, runId]);
  const retryable = canRetry(run, finished);

  // every failed record of a run, by seq (to send "retry all" as a selection carrying the edited payloads)
  const allFailed = useCallback(
    async (target: string): Promise<number[]> => {
      const seqs: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await api.call('listRecords', {
          params: { id: target },
          query: { status: 'failed', limit: 1000, ...(cursor ? { cursor } : {}) },
        });
        seqs.push(...page.items.map((r) => r.seq));
        cursor = page.nextCursor ?? undefined;
      } while (cursor && seqs.length < MAX_SELECTION);
      return seqs;
    },
    [api],
  );

  const start = useCallback(
    async (target: string, picked: number[] | null, version: RetryRequest['version']) => {
      setAsking(null);
      // retrying all with edited payloads: all of them named, the edited ones with their edit
      const seqs =
        picked ?? (edited.size && run && run.counts.failed <= MAX_SELECTION ? await allFailed(target) : null);
      const body: RetryRequest = {
        version,
        ...(seqs
          ? { records: seqs.map((seq) => ({ seq, ...(edited.has(seq) ? { payload: edited.get(seq) } : {}) })) }
          : {}),
      };
      await api.call('retryRun', { params: { id: target }, body }).then(
        (answer) => {
          setPicks({ runId: null, seqs: new Set() });
          // the edits sent are spent: the retry run has them
          const sent = new Set(seqs ?? edited.keys());
          setEdits((e) => ({ runId: e.runId, bySeq: new Map([...e.bySeq].filter(([seq]) => !sent.has(seq))) }));
          onStarted(answer.runId, answer.status);
        },
        (e: unknown) => onError(`Could not retry: ${describeError(e)}`),
      );
    },
    [api, edited, run, allFailed, onStarted, onError],
  );

  // once asked, and the flow changed since the run: which changes reach the failed records
  const [reach, setReach] = useState<{ runId: string; reach: RetryReach } | null>(null);
  const askedRun = asking?.runId ?? null;
  useEffect(() => {
    if (!askedRun || !run || run.id !== askedRun || !run.flowId || run.flowVersion === null || !current) return;
    if (latestVersion === null || run.flowVersion === latestVersion) return;
    const failedAt = Object.entries(run.nodeCounts)
      .filter(([, c]) => c.error > 0)
      .map(([id]) => id);
    const controller = new AbortController();
    api
      .call('getFlow', { params: { id: run.flowId }, query: { version: run.flowVersion }, signal: controller.signal })
      .then(
        (original) => setReach({ runId: run.id, reach: retryReach(original.document, current, failedAt) }),
        () => undefined,
      );
    return () => controller.abort();
  }, [api, askedRun, run, current, latestVersion]);

  // every failed record, the edited ones with their edit
  const retryAll = useCallback((id: string) => setAsking({ runId: id, seqs: null }), []);

  const editedIn = (seqs: number[] | null) =>
    seqs === null
      ? run && run.counts.failed <= MAX_SELECTION
        ? edited.size
        : 0
      : seqs.filter((seq) => edited.has(seq)).length;
  const dialog: RetryDialogProps | null =
    asking && run && asking.runId === run.id
      ? {
          runVersion: run.flowVersion,
          latestVersion,
          count: asking.seqs?.length ?? run.counts.failed,
          edited: editedIn(asking.seqs),
          unsaved,
          ...(reach?.runId === run.id
            ? {
                reach: {
                  changedAtFailure: reach.reach.changedAtFailure.map(nodeLabel),
                  changedBefore: reach.reach.changedBefore.map(nodeLabel),
                },
              }
            : {}),
          onCancel: () => setAsking(null),
          onRetry: (version) =>
            void start(asking.runId, asking.seqs, version).catch((e: unknown) => onError(describeError(e))),
        }
      : null;

  return {
    retryAll,
    pick: retryable
      ? {
          picked,
          edited: new Set(edited.keys()),
          onToggle: (seq) => {
            const next = new Set(picked);
            if (!next.delete(seq)) next.add(seq);
            setPicks({ runId, seqs: next });
          },
          onRetry: () => runId && setAsking({ runId, seqs: [...picked].sort((a, b) => a - b) }),
        }
      : undefined,
    detail: (record) =>
      retryable && runId !== null && record.runId === runId && record.status === 'failed'
        ? {
            edited: edited.get(record.seq),
            onEdit: (payload) => {
              const next = new Map(edited);
              if (payload === undefined) next.delete(record.seq);
              else next.set(record.seq, payload);
              setEdits({ runId, bySeq: next });
            },
            onRetry: (payload) => {
              const next = new Map(edited);
              if (payload === undefined) next.delete(record.seq);
              else next.set(record.seq, payload);
              setEdits({ runId, bySeq: next });
              setAsking({ runId, seqs: [record.seq] });
            },
          }
        : undefined,
    dialog,
  };
}
