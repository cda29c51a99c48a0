import type { Flow } from '@sluice/shared';
import { assign, fromPromise, setup } from 'xstate';
import { type ExecutionOptions, type ExecutionResult, execute } from './executor.js';

export interface RunMachineInput {
  execution: Omit<ExecutionOptions, 'signal'>;
}

interface RunContext {
  execution: Omit<ExecutionOptions, 'signal'>;
  abort: AbortController;
  result?: ExecutionResult;
  error?: string;
}

export type RunMachineEvent = { type: 'START' } | { type: 'CANCEL' };

/**
 * The run lifecycle: queued → running → succeeded | failed | cancelled. The running state invokes the
 * executor; cancelling aborts it, and the run is cancelled once the executor has stopped and stored
 * what it settled.
 */
export const runMachine = setup({
  types: {
    context: {} as RunContext,
    input: {} as RunMachineInput,
    events: {} as RunMachineEvent,
  },
  actors: {
    execute: fromPromise<ExecutionResult, ExecutionOptions>(({ input }) => execute(input)),
  },
  guards: {
    completed: ({ event }) => (event as unknown as { output: ExecutionResult }).output.end === 'completed',
    cancelled: ({ event }) => (event as unknown as { output: ExecutionResult }).output.end === 'cancelled',
  },
}).createMachine({
  id: 'run',
  initial: 'queued',
  context: ({ input }) => ({ execution: input.execution, abort: new AbortController() }),
  states: {
    queued: {
      on: { START: 'running', CANCEL: 'cancelled' },
    },
    running: {
      invoke: {
        src: 'execute',
        input: ({ context }) => ({ ...context.execution, signal: context.abort.signal }),
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
      on: {
        CANCEL: { actions: ({ context }) => context.abort.abort() },
      },
    },
    succeeded: { type: 'final' },
    failed: { type: 'final' },
    cancelled: { type: 'final' },
  },
});

export type { Flow };
