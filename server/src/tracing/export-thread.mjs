// The tracer's export thread: turns chunks of ended spans (the span log's typed arrays, transferred
// without a copy) into OTLP/HTTP export requests in protobuf (otlp.mjs) and sends them to the
// collector, so that a run's thread never spends its time on encoding, sockets, answers and
// retries. Each chunk's outcome goes back with its id. Plain JavaScript like the other threads' scripts.
//
// A refusal the collector calls passing (429, 502-504) or a lost connection is tried again, up to
// four times with doubling waits (or the Retry-After it sent); any other refusal drops the request.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { parentPort as parent, workerData } from 'node:worker_threads';
import { encodeRequest } from './otlp.mjs';

if (!parent) throw new Error("export-thread.mjs runs as the tracer's worker thread, not on its own");
const port = parent;
/** @type {{ url: string, headers: Record<string, string>, timeoutMs: number, origin: import('./otlp.mjs').Origin }} */
const data = workerData;
const target = new URL(data.url);
const https = target.protocol === 'https:';
const agent = https
  ? new HttpsAgent({ keepAlive: true, maxSockets: 4 })
  : new HttpAgent({ keepAlive: true, maxSockets: 4 });
const send = https ? httpsRequest : httpRequest;

const RETRYABLE = new Set([429, 502, 503, 504]);
const ATTEMPTS = 4;
const FIRST_WAIT_MS = 250;

/** @param {string | undefined} header */
function retryAfterMs(header) {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** @param {Uint8Array} body @returns {Promise<{ status: number, retryAfter: number | undefined }>} */
function post(body) {
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'POST',
        agent,
        timeout: data.timeoutMs,
        headers: { ...data.headers, 'content-type': 'application/x-protobuf', 'content-length': body.length },
      },
      (res) => {
        // the answer's body (a partial-success report at most) is read and dropped
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, retryAfter: retryAfterMs(res.headers['retry-after']) }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`the collector did not answer within ${data.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** @param {Uint8Array} body @returns {Promise<string | undefined>} why it could not be sent, or nothing */
async function exportRequest(body) {
  for (let attempt = 1; ; attempt++) {
    let answer;
    try {
      answer = await post(body);
    } catch (err) {
      answer = { status: 0, retryAfter: undefined, error: /** @type {Error} */ (err).message };
    }
    if (answer.status >= 200 && answer.status < 300) return undefined;
    const retryable = answer.status === 0 || RETRYABLE.has(answer.status);
    if (!retryable || attempt >= ATTEMPTS)
      return 'error' in answer ? answer.error : `the collector answered ${answer.status}`;
    const wait = answer.retryAfter ?? FIRST_WAIT_MS * 2 ** (attempt - 1);
    await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 30_000)));
  }
}

port.on('message', (/** @type {{ id: number, chunk: import('./otlp.mjs').SpanChunk } | 'close'} */ message) => {
  if (message === 'close') {
    agent.destroy();
    port.close();
    return;
  }
  let body;
  try {
    body = encodeRequest(data.origin, message.chunk);
  } catch (err) {
    port.postMessage({
      id: message.id,
      error: `the spans could not be encoded: ${/** @type {Error} */ (err).message}`,
    });
    return;
  }
  void exportRequest(body).then((error) => port.postMessage({ id: message.id, error }));
});

// loaded and listening: the tracer's start waits for this, so a run never shares its first
// moments with this thread's own start
port.postMessage('ready');
