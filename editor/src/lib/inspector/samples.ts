import type { FlowDetail, RecordOutcomeView } from '@sluice/shared';

/** Most sample records an inspector is given. */
export const MAX_SAMPLE_RECORDS = 20;

/**
 * The records expressions are tried on and completed from, as far as the editor knows them today: the
 * payload of the record being looked at, else what the flow's source would give when that is known
 * (inline records, generated records). This is the seam where a test run's per-node data or pinned data
 * take over: whoever has the records a node receives passes them as the inspector's `sampleRecords`.
 */
export function sampleRecordsOf(
  doc: FlowDetail['document'],
  record: RecordOutcomeView | null,
): Record<string, unknown>[] {
  if (record?.payload && typeof record.payload === 'object') return [record.payload as Record<string, unknown>];
  for (const n of doc.nodes) {
    if (n.type === 'inline-records') {
      const records = (n.params.records as unknown[] | undefined) ?? [];
      const objects = records.filter(
        (r): r is Record<string, unknown> => typeof r === 'object' && r !== null && !Array.isArray(r),
      );
      if (objects.length) return objects.slice(0, MAX_SAMPLE_RECORDS);
    }
    if (n.type === 'generate') return [{ key: 'rec-1', index: 1, group: 1, amount: 7919, label: 'Record 1' }];
  }
  return [];
}
