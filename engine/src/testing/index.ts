export { dieAndResume } from './dying.js';
export { type FakeConnectorsOptions, fakeConnectors, type Handler, json } from './fake-http.js';
export {
  chain,
  flowDocument,
  flowOf,
  resumeFrom,
  sourceFlow,
  type TestEdge,
  type TestFlowOptions,
  type TestNode,
  validFlow,
} from './flows.js';
export { memoryLimits } from './limits.js';
export { MemoryChangeHashes } from './memory-changes.js';
export { MemoryRunStore } from './memory-store.js';
export { testRuntime } from './runtime.js';
export { sha256Hex } from './sha256.js';
export { SimulatedClock } from './simulated-clock.js';
