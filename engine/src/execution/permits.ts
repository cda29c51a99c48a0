import { Cancelled } from '../clock.js';
import type { Pace, Permit } from '../ports.js';
import type { ExecutionOptions } from './options.js';
import type { WaitingReport } from './waiting.js';

/**
 * How long a request may wait for its connection's permit before the run says it is waiting: a
 * permit that comes within a moment is the normal pace of a busy connection, not worth a status.
 */
export const LIMIT_WAIT_REPORT_MS = 100;

/** The permit of a request whose connection has no limits (or whose process keeps none). */
const FREE: Permit = { waitedMs: 0, release() {} };

/**
 * The run's side of its connections' limits: takes a permit for each request of a node, and says
 * the node is waiting (kind `limit`) while any of its requests has waited longer than a moment
 * (counted from its asking, once the keeper has said it must wait), until none does. Requests of one node wait together (a write's concurrency), so the wait is
 * counted per node rather than set and cleared by each request.
 */
export class Permits {
  private readonly waitingByNode = new Map<string, number>();
  /** The pace last told for each adaptive connection, so a change is told once. */
  private readonly paces = new Map<string, string>();

  constructor(
    private readonly o: Pick<ExecutionOptions, 'connectors' | 'clock' | 'runId' | 'onEvent'>,
    private readonly waiting: WaitingReport,
    private readonly signal: AbortSignal,
  ) {}

  /** Waits for leave to send one request of node `nodeId` on `connection`; throws Cancelled if the run stops first. */
  async acquire(nodeId: string, connection: string): Promise<Permit> {
    const keeper = this.o.connectors.limits;
    const limits = this.o.connectors.connection(connection)?.limits;
    if (!keeper || !limits || (limits.maxConcurrent === undefined && limits.maxPerSecond === undefined)) return FREE;
    if (this.signal.aborted) throw new Cancelled();
    const { clock } = this.o;
    const start = clock.now();
    let until: number | null = null;
    let reported = false;
    // armed only once the keeper says the permit is not given at once: most requests never set a timer
    let timer: unknown;
    const onWait = (u: number | null) => {
      until = u;
      timer ??= clock.setTimeout(
        () => {
          reported = true;
          this.waitingByNode.set(nodeId, (this.waitingByNode.get(nodeId) ?? 0) + 1);
          const pace = this.paceOf(connection);
          this.waiting.set(nodeId, {
            kind: 'limit',
            until: until ?? clock.now(),
            connection,
            limits,
            ...(pace ? { pace } : {}),
          });
        },
        start + LIMIT_WAIT_REPORT_MS - clock.now(),
      );
    };
    try {
      const permit = await keeper.acquire(connection, limits, this.signal, onWait);
      if (permit.pace) this.tellPace(nodeId, connection, permit.pace);
      return permit;
    } catch (err) {
      if (this.signal.aborted) throw new Cancelled();
      throw err;
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer);
      if (reported) {
        const left = (this.waitingByNode.get(nodeId) ?? 1) - 1;
        if (left > 0) this.waitingByNode.set(nodeId, left);
        else {
          this.waitingByNode.delete(nodeId);
          this.waiting.set(nodeId, null);
        }
      }
    }
  }

  /** The pace last told for a connection. */
  private paceOf(connection: string): Pace | undefined {
    const told = this.paces.get(connection);
    return told ? (JSON.parse(told) as Pace) : undefined;
  }

  /** Tells the run's events of a connection's new pace (a pace told before is not told again). */
  private tellPace(nodeId: string, connection: string, pace: Pace): void {
    const shown: Pace = {
      perSecond: pace.perSecond === null ? null : Math.round(pace.perSecond * 10) / 10,
      concurrency: pace.concurrency,
      reason: pace.reason,
    };
    const text = JSON.stringify(shown);
    if (this.paces.get(connection) === text) return;
    this.paces.set(connection, text);
    this.o.onEvent?.({ type: 'pace', runId: this.o.runId, nodeId, connection, pace: shown, at: this.o.clock.now() });
  }
}
