export { type FakeConnectorsOptions, fakeConnectors, type Handler, json } from './fake-http.js';
export { MemoryRunStore } from './memory-store.js';
export { SimulatedClock } from './simulated-clock.js';
