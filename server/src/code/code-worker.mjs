// The code sandbox's thread: runs code nodes' JavaScript in QuickJS (compiled to WebAssembly), one
// request at a time, each in a fresh QuickJS runtime with a deadline checked by QuickJS's interrupt
// handler. QuickJS has no process, file or network access of its own, and none is given to it.
//
// The memory limit: QuickJS's own (`setMemoryLimit`) counts an allocation's size only when the C
// library can say it (`malloc_usable_size`), which this WebAssembly build cannot, so it stops only
// single allocations larger than the limit (a thousand 1 MB buffers passed a 32 MB limit). The limit
// is therefore the WebAssembly instance's memory itself: one instance per limit, its memory created
// here with a maximum of its base size plus the limit, so QuickJS's allocations fail past it ("out of
// memory"). A QuickJS abort (its instance is then unusable) ends the thread; the host starts another.
// See sandbox.ts.
import { parentPort } from 'node:worker_threads';
import { newQuickJSWASMModule, newVariant, RELEASE_SYNC, shouldInterruptAfterDeadline } from 'quickjs-emscripten';

/** @typedef {import('./protocol.js').CodeJob} CodeJob */
/** @typedef {import('./protocol.js').CodeAnswer} CodeAnswer */

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
const MAX_STACK = 512 * 1024;
const PAGE = 65_536;
/** WebAssembly's Memory (the server's TypeScript settings leave out the WebAssembly types). */
const { Memory } =
  /** @type {{ WebAssembly: { Memory: new (d: { initial: number, maximum: number }) => { buffer: ArrayBuffer } } }} */ (
    /** @type {unknown} */ (globalThis)
  ).WebAssembly;
/** The instance's memory before any record runs (Emscripten's default initial memory: data, stack, heap start). */
const BASE_PAGES = 256;

/** Past this much memory an instance is let go after its record (WebAssembly memory never shrinks). */
const KEEP_BYTES = BASE_PAGES * PAGE + 64 * 1024 * 1024;

/**
 * QuickJS instances by memory limit, each with its memory.
 * @type {Map<number, { quickjs: Promise<import('quickjs-emscripten').QuickJSWASMModule>, memory: { buffer: ArrayBuffer } }>}
 */
const instances = new Map();

/** @param {number} memoryBytes */
function instanceFor(memoryBytes) {
  let instance = instances.get(memoryBytes);
  if (!instance) {
    const maximum = BASE_PAGES + Math.ceil(memoryBytes / PAGE);
    const memory = new Memory({ initial: BASE_PAGES, maximum });
    instance = { quickjs: newQuickJSWASMModule(newVariant(RELEASE_SYNC, { wasmMemory: memory })), memory };
    instances.set(memoryBytes, instance);
  }
  return instance;
}

/**
 * @param {import('quickjs-emscripten').QuickJSWASMModule} quickjs
 * @param {CodeJob} job
 * @returns {CodeAnswer}
 */
function run(quickjs, job) {
  const runtime = quickjs.newRuntime();
  runtime.setMemoryLimit(job.memoryBytes);
  runtime.setMaxStackSize(MAX_STACK);
  const deadline = Date.now() + job.timeoutMs;
  runtime.setInterruptHandler(shouldInterruptAfterDeadline(deadline));
  const vm = runtime.newContext();
  try {
    const input = vm.newString(job.input);
    vm.setProp(vm.global, '__record', input);
    input.dispose();
    const result = vm.evalCode(`JSON.stringify((function (record) {\n${job.code}\n})(JSON.parse(__record)))`);
    if (result.error) {
      const error = vm.dump(result.error);
      result.error.dispose();
      return { id: job.id, ...failure(error, Date.now() >= deadline) };
    }
    const value = vm.dump(result.value);
    result.value.dispose();
    return { id: job.id, ok: true, output: typeof value === 'string' ? value : null };
  } finally {
    try {
      vm.dispose();
      runtime.dispose();
    } catch {
      // QuickJS aborted while freeing (it does after a stack overflow): this instance is unusable
      broken = true;
    }
  }
}

let broken = false;

/**
 * What an error thrown in QuickJS says, and which limit (if any) it was.
 * @param {unknown} error
 * @param {boolean} late
 * @returns {{ ok: false, reason: 'threw' | 'time' | 'memory', message: string }}
 */
function failure(error, late) {
  const e = /** @type {{ name?: unknown, message?: unknown } | null} */ (
    error !== null && typeof error === 'object' ? error : null
  );
  const message = e && typeof e.message === 'string' ? e.message : String(error);
  const name = e && typeof e.name === 'string' ? e.name : 'Error';
  if (name === 'InternalError' && message === 'interrupted') return { ok: false, reason: 'time', message };
  if (name === 'InternalError' && message === 'out of memory') return { ok: false, reason: 'memory', message };
  if (late) return { ok: false, reason: 'time', message };
  return { ok: false, reason: 'threw', message: `${name}: ${message}` };
}

port.on('message', async (/** @type {CodeJob} */ job) => {
  /** @type {CodeAnswer} */
  let answer;
  try {
    const instance = instanceFor(job.memoryBytes);
    answer = run(await instance.quickjs, job);
    // a record that used much memory leaves its instance that big: start afresh next time
    if (instance.memory.buffer.byteLength > KEEP_BYTES) instances.delete(job.memoryBytes);
  } catch (err) {
    broken = true;
    answer = { id: job.id, ok: false, reason: 'threw', message: `the sandbox failed: ${String(err)}` };
  }
  // the host starts a fresh thread for the records after this one
  port.postMessage(broken ? { ...answer, ending: true } : answer);
  if (broken) process.exit(1);
});
port.postMessage({ ready: true });
