import type { Flow } from '@sluice/shared';
import { Cancelled } from '../clock.js';
import type { Connectors } from '../ports.js';
import type { RunState } from './state.js';

/**
 * Checks each connection the flow's nodes name, once, before anything is read: a system that
 * refuses the credentials (401/403) fails the run at once, naming the connection, instead of
 * every record waiting on it. Other failures of the check (the system unreachable, a 5xx) let the
 * run start: the retries and the breaker deal with those.
 */
export async function preflight(flow: Flow, connectors: Connectors, state: RunState): Promise<void> {
  if (!connectors.check) return;
  const names = new Set<string>();
  for (const node of flow.nodes) {
    const name = node.params.connection;
    if (typeof name === 'string' && name !== '') names.add(name);
  }
  await state.boundary(); // a run started paused sends nothing, checks included, until resumed
  const signal = state.control.signal;
  const checks = await Promise.all(
    [...names].map(async (name) => {
      try {
        return { name, result: await connectors.check?.(name, signal) };
      } catch {
        return { name, result: undefined };
      }
    }),
  );
  if (signal.aborted) throw new Cancelled();
  for (const { name, result } of checks) {
    if (result && !result.ok && (result.status === 401 || result.status === 403)) {
      // a database (a SQL connection's check reports a refused login as 401) says why itself
      if (/^(postgres(ql)?|mysql):\/\//i.test(connectors.connection(name)?.baseUrl ?? ''))
        throw new Error(
          `connection "${name}": the database refused the credentials (${result.message}) — check its user and password`,
        );
      throw new Error(
        `connection "${name}": the system refused the credentials (HTTP ${result.status}) — check its token`,
      );
    }
  }
}
