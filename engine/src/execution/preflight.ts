import type { Flow } from '@sluice/shared';
import { Cancelled } from '../clock.js';
import type { Connectors } from '../ports.js';
import type { RunState } from './state.js';

/**
 * Checks each connection the flow's nodes name, once, before anything is read: a system that
 * refuses the credentials (401/403) fails the run at once, naming the connection, instead of
 * every record waiting on it; so does a connection whose address the server's outbound guard
 * refuses (every request would be refused). Other failures of the check (the system unreachable, a 5xx) let the
 * run start: the retries and the breaker deal with those.
 */
export async function preflight(flow: Flow, connectors: Connectors, state: RunState, runId: string): Promise<void> {
  if (!connectors.check) return;
  // each connection, with the first node that names it (the check's request is sent for that node)
  const names = new Map<string, string>();
  for (const node of flow.nodes) {
    const name = node.params.connection;
    if (typeof name === 'string' && name !== '' && !names.has(name)) names.set(name, node.id);
  }
  await state.boundary(); // a run started paused sends nothing, checks included, until resumed
  const signal = state.control.signal;
  const checks = await Promise.all(
    [...names].map(async ([name, nodeId]) => {
      try {
        return { name, result: await connectors.check?.(name, signal, { runId, nodeId }) };
      } catch {
        return { name, result: undefined };
      }
    }),
  );
  if (signal.aborted) throw new Cancelled();
  for (const { name, result } of checks) {
    // the server will not send this connection's requests (its address is loopback, private…)
    if (result && !result.ok && result.refused) throw new Error(`connection "${name}": ${result.message}`);
    if (result && !result.ok && (result.status === 401 || result.status === 403)) {
      // a database (a SQL connection's check reports a refused login as 401) says why itself
      if (/^(postgres(ql)?|mysql):\/\//i.test(connectors.connection(name)?.baseUrl ?? ''))
        throw new Error(
          `connection "${name}": the database refused the credentials (${result.message}) — check its user and password`,
        );
      throw new Error(
        `connection "${name}": ${result.reason ?? `the system refused the credentials (HTTP ${result.status})`} — check its ${result.reason ? 'client secret or refresh token' : 'token'}`,
      );
    }
  }
}
