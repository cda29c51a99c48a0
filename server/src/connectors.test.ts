import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpFailure } from '@sluice/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchHttpClient } from './connectors.js';

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/slow') return; // never answers
    res.writeHead(201, { 'content-type': 'application/json', 'x-echo': req.headers['idempotency-key'] ?? '' });
    req.pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('fetch HTTP client', () => {
  it('sends the method, headers and body, and returns status, headers and body', async () => {
    const res = await fetchHttpClient({
      method: 'POST',
      url: `${url}/echo`,
      headers: { 'idempotency-key': 'k1' },
      body: '{"a":1}',
      timeoutMs: 5000,
    });
    expect(res).toMatchObject({ status: 201, body: '{"a":1}' });
    expect(res.headers['x-echo']).toBe('k1');
  });

  it('turns a timeout, a refused connection and an abort into HttpFailure with their kind', async () => {
    const timeout = await fetchHttpClient({ method: 'GET', url: `${url}/slow`, headers: {}, timeoutMs: 100 }).catch(
      (e: unknown) => e,
    );
    expect(timeout).toBeInstanceOf(HttpFailure);
    expect(timeout).toMatchObject({ code: 'timeout', message: expect.stringMatching(/within 100 ms/) });

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await fetchHttpClient({
      method: 'GET',
      url: `http://127.0.0.1:${port}/`,
      headers: {},
      timeoutMs: 5000,
    }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'network', message: `cannot reach 127.0.0.1:${port}: ECONNREFUSED` });

    const controller = new AbortController();
    const pending = fetchHttpClient({
      method: 'GET',
      url: `${url}/slow`,
      headers: {},
      timeoutMs: 5000,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    controller.abort();
    expect(await pending).toMatchObject({ code: 'aborted' });
  });
});
