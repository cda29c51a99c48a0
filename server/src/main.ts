import { runProcess } from './serve.js';

/** `npm start` (and `sluice serve`): the API, the editor, the scheduler and a worker in this one process. */
await runProcess('all');
