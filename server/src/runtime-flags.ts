import v8 from 'node:v8';

let tuned = false;

/**
 * Sets the V8 options Sluice's process runs with; called once before any run starts.
 *
 * `--no-allocation-site-pretenuring`: V8 watches where objects are allocated and, when most objects
 * of one place in the code are still alive at a young-generation collection, allocates the later
 * ones straight in the old generation. The engine's short-lived arrays of a page or a batch trip
 * that rule; once they live in the old generation, every record they point to is kept alive until
 * the next full collection, so nearly every record is copied out of the young generation and a run
 * spends about a third of its time collecting garbage. Without it the same run of a million
 * records through the benchmark flow takes about 40% less time (see docs/benchmarks.md).
 */
export function tuneRuntime(): void {
  if (tuned) return;
  tuned = true;
  v8.setFlagsFromString('--no-allocation-site-pretenuring');
}
