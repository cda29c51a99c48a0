import { assign, fromPromise, setup } from 'xstate';
import { type ExecutionOptions, type ExecutionResult, execute } from './execution/execute.js';
import { Gate } from './gate.js';

export interface RunMachineInput {
  execution: Omit<ExecutionOptions, 'signal' | 'gate'>;
  /** Start in `paused` (a paused run resumed after a restart stays paused). */
  paused?: boolean;
}

interface RunContext {
  execution: Omit<ExecutionOptions, 'signal' | 'gate'>;
  abort: AbortController;
  gate: Gate;
  startPaused: boolean;
  result?: ExecutionResult;
  error?: string;
}

export type RunMachineEvent = { type: 'START' } | { type: 'PAUSE' } | { type: 'RESUME' } | { type: 'CANCEL' };

const output = (event: unknown) => (event as { output: ExecutionResult }).output;

/**
 * The run lifecycle: queued → running ⇄ paused → succeeded | failed | cancelled. `running` and
 * `paused` are two children of one state that invokes the executor: pausing closes a gate the
 * executor waits at on its next record boundary (requests already sent finish); resuming opens it;
 * cancelling aborts the executor, and the run is cancelled once it has stored what it settled.
 */
export const runMachine = setup({
  types: { context: {} as RunContext, input: {} as RunMachineInput, events: {} as RunMachineEvent },
  actors: {
    execute: fromPromise<ExecutionResult, ExecutionOptions>(({ input }) => execute(input)),
  },
  guards: {
    completed: ({ event }) => output(event).end === 'completed',
    cancelled: ({ event }) => output(event).end === 'cancelled',
    startPaused: ({ context }) => context.startPaused,
  },
  actions: {
    closeGate: ({ context }) => context.gate.close(),
    openGate: ({ context }) => context.gate.open(),
    abort: ({ context }) => {
      context.gate.open();
      context.abort.abort();
    },
  },
}).createMachine({
  id: 'run',
  initial: 'queued',
  context: ({ input }) => ({
    execution: input.execution,
    abort: new AbortController(),
    gate: new Gate(),
    startPaused: input.paused ?? false,
  }),
  states: {
    queued: {
      on: { START: 'active', CANCEL: 'cancelled' },
    },
    active: {
      invoke: {
        src: 'execute',
        input: ({ context }) => ({ ...context.execution, signal: context.abort.signal, gate: context.gate }),
        onDone: [
          { guard: 'completed', target: 'succeeded', actions: assign({ result: ({ event }) => event.output }) },
          { guard: 'cancelled', target: 'cancelled', actions: assign({ result: ({ event }) => event.output }) },
          {
            target: 'failed',
            actions: assign({ result: ({ event }) => event.output, error: ({ event }) => event.output.error }),
          },
        ],
        onError: {
          target: 'failed',
          actions: assign({ error: ({ event }) => (event.error as Error)?.message ?? String(event.error) }),
        },
      },
      initial: 'choose',
      states: {
        choose: {
          always: [{ guard: 'startPaused', target: 'paused', actions: 'closeGate' }, { target: 'running' }],
        },
        running: { on: { PAUSE: { target: 'paused', actions: 'closeGate' } } },
        paused: { on: { RESUME: { target: 'running', actions: 'openGate' } } },
      },
      on: { CANCEL: { actions: 'abort' } },
    },
    succeeded: { type: 'final' },
    failed: { type: 'final' },
    cancelled: { type: 'final' },
  },
});
