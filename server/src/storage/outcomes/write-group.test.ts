import type { RecordOutcome, RunCommit } from '@sluice/engine';
import { describe, expect, it } from 'vitest';
import { FIELDS, NONE, OutcomeReader } from './group-layout.mjs';
import { GroupBuilder, STATUS_CODE } from './write-group.js';

/** Outcomes with every optional part present or not, strings of 1 to 4 UTF-8 bytes a character. */
function outcomes(from: number, n: number): RecordOutcome[] {
  return Array.from({ length: n }, (_, k): RecordOutcome => {
    const seq = from + k;
    const o: RecordOutcome = {
      seq,
      key: seq % 3 === 0 ? `wo-${seq}` : `ключ-€-😀-${seq}`,
      status: (['succeeded', 'filtered', 'failed', 'cancelled'] as const)[seq % 4] ?? 'succeeded',
      nodeId: seq % 2 ? 'map' : 'write',
      batchNo: Math.floor(seq / 10),
      attempts: (seq % 3) + 1,
      at: 1_700_000_000_000 + seq,
    };
    if (seq % 4 === 2) {
      o.error = { message: `rejected ${seq % 5}`, code: 'http_422', httpStatus: 422 };
      o.payload = { id: seq, note: 'x'.repeat(seq % 7 === 0 ? 300 : 3), text: 'Grüße' };
    }
    if (seq % 5 === 0) {
      o.output = { kept: seq, tag: '✓' };
      o.outputNode = 'collect';
    }
    return o;
  });
}

/** Payloads and outputs stored as their plain JSON (no cap): what goes in must come back as it was. */
const plainJson = {
  payload: (payload: unknown) => JSON.stringify(payload),
  output: (output: unknown) => JSON.stringify(output) ?? 'null',
};

const commit = (outs: RecordOutcome[]): RunCommit => ({
  outcomes: outs,
  collected: [],
  counts: { read: outs.length, succeeded: 0, filtered: 0, failed: 0, cancelled: 0 },
  nodeCounts: {},
  checkpoint: { version: 1, lowWater: 0, nextBatch: 0, sourcesDone: [], nodeState: {}, breakers: {} },
});

describe('a write group, packed by the run store and read by the writer thread', () => {
  it('reads back every outcome exactly as it was added, across commits and past the first capacity', () => {
    // a capacity of 2 rows (and 512 bytes of text) makes both buffers grow several times
    const builder = new GroupBuilder(plainJson, 2);
    const added = [...outcomes(0, 7), ...outcomes(7, 40)];
    builder.add(commit(added.slice(0, 7)));
    builder.add(commit(added.slice(7)));
    const group = builder.finish(1, 9);
    expect(group.count).toBe(added.length);
    expect(group.rows.length).toBeGreaterThanOrEqual(added.length * FIELDS);

    const read: RecordOutcome[] = [];
    for (const o = new OutcomeReader(group); o.next(); ) {
      const back: RecordOutcome = {
        seq: o.seq,
        key: o.key,
        status: (['succeeded', 'filtered', 'failed', 'cancelled'] as const)[o.status] ?? 'succeeded',
        nodeId: group.names[o.node] ?? '?',
        batchNo: o.batch,
        attempts: o.attempts,
        at: o.at,
      };
      if (o.error !== NONE) back.error = group.errors[o.error];
      if (o.payload !== null) back.payload = JSON.parse(o.payload);
      if (o.outputNode !== NONE) {
        back.output = JSON.parse(o.output ?? 'undefined');
        back.outputNode = group.names[o.outputNode];
      }
      read.push(back);
    }
    expect(read).toEqual(added);
    expect(new Set(group.names)).toEqual(new Set(['map', 'write', 'collect']));
  });

  it('stores status as the codes the database keeps, and no payload or output as none', () => {
    const builder = new GroupBuilder(plainJson);
    builder.add(commit(outcomes(1, 1))); // seq 1: filtered, no error, payload or output
    const o = new OutcomeReader(builder.finish(1, 1));
    expect(o.next()).toBe(true);
    expect([o.status, o.error, o.outputNode, o.payload, o.output]).toEqual([
      STATUS_CODE.filtered,
      NONE,
      NONE,
      null,
      null,
    ]);
    expect(o.next()).toBe(false);
  });

  it('names the empty node id of a record cancelled before it reached any node, first in the group too', () => {
    const builder = new GroupBuilder(plainJson);
    const [first, second] = outcomes(3, 2) as [RecordOutcome, RecordOutcome];
    builder.add(commit([{ ...first, status: 'cancelled', nodeId: '' }, second]));
    const group = builder.finish(1, 1);
    const o = new OutcomeReader(group);
    expect(o.next()).toBe(true);
    expect(group.names[o.node]).toBe('');
    expect(o.next()).toBe(true);
    expect(group.names[o.node]).toBe(second.nodeId);
  });
});
