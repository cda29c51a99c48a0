import { type EstimatePart, estimateRun, type Flow, type FlowEstimate, type RunEstimate } from '@sluice/shared';

/**
 * The run estimate of the document being edited: the same `estimateRun` the server uses, on the draft,
 * with what the server found (counts of sources, the last succeeded run, the measured time per record).
 */
export function draftEstimate(doc: Flow, server: FlowEstimate | undefined, records?: number): RunEstimate {
  const facts = server?.facts ?? {};
  return estimateRun(doc, records === undefined ? facts : { ...facts, records });
}

/** "about 8 s", "about 3 min", "under 1 s": a duration said roughly, as an estimate should be. */
export function aboutMs(ms: number): string {
  if (ms < 1000) return 'under 1 s';
  const s = Math.round(ms / 1000);
  if (s < 60) return `about ${s} s`;
  const min = Math.round(ms / 60_000);
  if (min < 60) return `about ${min} min`;
  const h = Math.floor(min / 60);
  return `about ${h} h${min % 60 ? ` ${min % 60} min` : ''}`;
}

/** What the Run button says after "Run": "about 8 s", "at least 4 s", or nothing when nothing is known. */
export function runButtonEstimate(e: RunEstimate): string | null {
  if (e.estimateMs !== null) return aboutMs(e.estimateMs);
  if (e.lowerBoundMs !== null && e.lowerBoundMs >= 1000)
    return `at least ${aboutMs(e.lowerBoundMs).replace('about ', '')}`;
  return null;
}

/** The Run button's tooltip: the breakdown, one part a line. */
export function estimateTooltip(e: RunEstimate): string {
  const head = e.estimateMs !== null ? `Estimated duration: ${aboutMs(e.estimateMs)}` : 'Estimated duration: unknown';
  return [head, ...e.breakdown.map((p) => `• ${p.text}`)].join('\n');
}

/** The parts of an estimate that come from one node (its records, batches, waits). */
export function partsOf(e: RunEstimate, nodeId: string): EstimatePart[] {
  return e.breakdown.filter((p) => p.nodeId === nodeId);
}

/** An ETA as a clock would say it: "0:42", "12:05", "1:02:09". */
export function formatEta(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
