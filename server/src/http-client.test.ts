import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { HttpFailure } from '@sluice/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPooledHttpClient } from './http-client.js';
import { OutboundGuard } from './outbound-guard.js';

/** A loopback server that counts the sockets it was given and keeps what it received. */
async function listen(
  handler: (req: IncomingMessage, body: string) => [number, Record<string, string>, string | Buffer],
) {
  let sockets = 0;
  const received: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url === '/slow') return; // never answers
      const [status, headers, answer] = handler(req, body);
      res.writeHead(status, headers);
      res.end(answer);
    });
  });
  server.on('connection', () => sockets++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url, received, sockets: () => sockets };
}

let echo: Awaited<ReturnType<typeof listen>>;
let other: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  echo = await listen((req, body) => {
    if (req.url === '/gzip') return [200, { 'content-encoding': 'gzip' }, gzipSync('{"packed":true}')];
    if (req.url === '/moved') return [302, { location: '/echo?from=moved' }, ''];
    if (req.url === '/see-other') return [303, { location: '/echo' }, ''];
    if (req.url === '/away') return [307, { location: `${other.url}/there` }, ''];
    return [201, { 'content-type': 'application/json', 'x-echo': String(req.headers['idempotency-key'] ?? '') }, body];
  });
  other = await listen(() => [200, {}, 'there']);
});
afterAll(() => {
  for (const s of [echo.server, other.server] as Server[]) {
    s.closeAllConnections();
    s.close();
  }
});

describe('pooled HTTP client', () => {
  it('sends the method, headers and body, and returns status, headers and body', async () => {
    const client = createPooledHttpClient({ guard: new OutboundGuard(['127.0.0.1']) });
    const res = await client.http({
      method: 'POST',
      url: `${echo.url}/echo`,
      headers: { 'idempotency-key': 'k1', 'content-type': 'application/json' },
      body: '{"é":1}',
      timeoutMs: 5000,
    });
    expect(res).toMatchObject({ status: 201, body: '{"é":1}' });
    expect(res.headers['x-echo']).toBe('k1');
    expect(echo.received.at(-1)?.headers['content-length']).toBe('8');
    const packed = await client.http({ method: 'GET', url: `${echo.url}/gzip`, headers: {}, timeoutMs: 5000 });
    expect(packed.body).toBe('{"packed":true}');
    client.close();
  });

  it('keeps one pool of kept-alive sockets per connection, and closes them all on close', async () => {
    const client = createPooledHttpClient({ guard: new OutboundGuard(['127.0.0.1']) });
    const before = echo.sockets();
    for (let i = 0; i < 50; i++) {
      for (const connection of ['erp', 'crm']) {
        const res = await client.http({
          method: 'GET',
          url: `${echo.url}/echo`,
          headers: {},
          timeoutMs: 5000,
          connection,
        });
        expect(res.status).toBe(201);
      }
    }
    // 100 requests, one socket per connection: each connection's requests ride its own
    expect(echo.sockets() - before).toBe(2);
    expect(client.pools).toBe(2);
    client.close();
    expect(client.pools).toBe(0);
    const again = await client.http({ method: 'GET', url: `${echo.url}/echo`, headers: {}, timeoutMs: 5000 });
    expect(again.status).toBe(201);
    expect(echo.sockets() - before).toBe(3);
    client.close();
  });

  it('follows redirects as fetch does: 303 as a GET, credentials not sent to another origin', async () => {
    const client = createPooledHttpClient({ guard: new OutboundGuard(['127.0.0.1']) });
    const moved = await client.http({ method: 'GET', url: `${echo.url}/moved`, headers: {}, timeoutMs: 5000 });
    expect(moved.status).toBe(201);
    expect(echo.received.at(-1)?.url).toBe('/echo?from=moved');
    const seeOther = await client.http({
      method: 'POST',
      url: `${echo.url}/see-other`,
      headers: {},
      body: 'x',
      timeoutMs: 5000,
    });
    expect(seeOther.status).toBe(201);
    expect(echo.received.at(-1)).toMatchObject({ method: 'GET', url: '/echo', body: '' });
    const away = await client.http({
      method: 'PUT',
      url: `${echo.url}/away`,
      headers: { authorization: 'Bearer secret', 'x-keep': '1' },
      body: 'y',
      timeoutMs: 5000,
    });
    expect(away).toMatchObject({ status: 200, body: 'there' });
    expect(other.received.at(-1)).toMatchObject({ method: 'PUT', url: '/there', body: 'y' });
    expect(other.received.at(-1)?.headers.authorization).toBeUndefined();
    expect(other.received.at(-1)?.headers['x-keep']).toBe('1');
    client.close();
  });

  it('sends a request again, once, on a new socket when the server closed its kept-alive one', async () => {
    // the server drops every socket at its second request, unanswered (as one closing an idle socket
    // just as a request arrives on it)
    const perSocket = new WeakMap<object, number>();
    const dropping = await listen(() => [200, {}, 'ok']);
    dropping.server.prependListener('request', (req: IncomingMessage) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n === 2) req.socket.destroy();
    });
    const client = createPooledHttpClient({ guard: new OutboundGuard(['127.0.0.1']) });
    const get = () => client.http({ method: 'GET', url: `${dropping.url}/x`, headers: {}, timeoutMs: 5000 });
    expect((await get()).body).toBe('ok');
    expect((await get()).body).toBe('ok');
    expect(dropping.sockets()).toBe(2);
    client.close();
    dropping.server.closeAllConnections();
    dropping.server.close();
  });

  it('turns a timeout, a refused connection and an abort into HttpFailure with their kind', async () => {
    const client = createPooledHttpClient({ guard: new OutboundGuard(['127.0.0.1']) });
    const timeout = await client
      .http({ method: 'GET', url: `${echo.url}/slow`, headers: {}, timeoutMs: 100 })
      .catch((e: unknown) => e);
    expect(timeout).toBeInstanceOf(HttpFailure);
    expect(timeout).toMatchObject({ code: 'timeout', message: expect.stringMatching(/within 100 ms/) });

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await client
      .http({ method: 'GET', url: `http://127.0.0.1:${port}/`, headers: {}, timeoutMs: 5000 })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'network', message: `cannot reach 127.0.0.1:${port}: ECONNREFUSED` });

    const controller = new AbortController();
    const pending = client
      .http({ method: 'GET', url: `${echo.url}/slow`, headers: {}, timeoutMs: 5000, signal: controller.signal })
      .catch((e: unknown) => e);
    controller.abort();
    expect(await pending).toMatchObject({ code: 'aborted' });
    client.close();
  });
});
