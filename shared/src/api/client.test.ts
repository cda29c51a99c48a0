import { describe, expect, expectTypeOf, it } from 'vitest';
import { ApiClientError, createApiClient, errorFromResponse, type FetchLike } from './client.js';
import type { FlowSummary, Page, RunDetail } from './schemas.js';

interface Sent {
  url: string;
  method: string | undefined;
  headers: Record<string, string>;
  body: unknown;
}

/** A fetch that records what it was asked and answers `answer`. */
function fake(answer: () => Response): { fetch: FetchLike; sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    fetch: async (url, init) => {
      sent.push({ url, method: init.method, headers: init.headers as Record<string, string>, body: init.body });
      return answer();
    },
  };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('the API client', () => {
  it('builds the request from the contract: method, path with encoded parameters, query, token, JSON body', async () => {
    const f = fake(() => json(202, { runId: '7', status: 'queued' }));
    const client = createApiClient({ baseUrl: 'http://host:3000/', token: 'slc_x', fetch: f.fetch });
    const answer = await client.call('startRun', { params: { id: 'a/b c' }, body: { version: 2 } });
    expect(answer).toEqual({ runId: '7', status: 'queued' });
    expect(f.sent[0]).toMatchObject({
      url: 'http://host:3000/api/flows/a%2Fb%20c/runs',
      method: 'POST',
      headers: { authorization: 'Bearer slc_x', 'content-type': 'application/json' },
      body: '{"version":2}',
    });
    expect(
      client.url('listRuns', { query: { flowId: 'f 1', status: 'failed', limit: 20, cursor: undefined, from: '' } }),
    ).toBe('http://host:3000/api/runs?flowId=f%201&status=failed&limit=20');
  });

  it('signed in by the session cookie: the CSRF token on calls that may change something, not on reads', async () => {
    const sent: RequestInit[] = [];
    let csrf: string | null = null;
    const client = createApiClient({
      csrfToken: () => csrf,
      fetch: async (_url, init) => {
        sent.push(init);
        return init.method === 'GET' ? json(200, { items: [] }) : new Response(null, { status: 204 });
      },
    });
    csrf = 'the-csrf-token';
    await client.call('listUsers');
    await client.call('deleteUser', { params: { id: 'usr_1' } });
    expect(sent.map((i) => [i.credentials, (i.headers as Record<string, string>)['x-csrf-token']])).toEqual([
      ['same-origin', undefined],
      ['same-origin', 'the-csrf-token'],
    ]);
  });

  it('sends a flow document given as text as it is, and answers undefined for 204', async () => {
    const f = fake(() => new Response(null, { status: 204 }));
    const client = createApiClient({ fetch: f.fetch });
    expect(await client.call('deleteConnection', { params: { name: 'erp' } })).toBeUndefined();
    expect(f.sent[0]).toMatchObject({ url: '/api/connections/erp', method: 'DELETE' });
    expect(f.sent[0]?.headers.authorization).toBeUndefined();
    await client.call('createFlow', { body: '{"format":1' }).catch(() => undefined);
    expect(f.sent[1]?.body).toBe('{"format":1');
  });

  it('throws the server error as an ApiClientError, and says when the token was refused', async () => {
    let refused = 0;
    const client = createApiClient({
      fetch: fake(() => json(401, { error: { code: 'unauthorized', message: 'no', path: 'Authorization' } })).fetch,
      onUnauthorized: () => refused++,
    });
    const error = await client.call('listFlows').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ApiClientError);
    expect(error).toMatchObject({ status: 401, code: 'unauthorized', message: 'no', path: 'Authorization' });
    expect(refused).toBe(1);
  });

  it('tells a server it cannot reach (status 0) from one that answers', async () => {
    const client = createApiClient({
      baseUrl: 'http://127.0.0.1:9',
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
    });
    await expect(client.call('health')).rejects.toMatchObject({
      status: 0,
      code: 'network',
      message: 'Cannot reach the Sluice server at http://127.0.0.1:9 (fetch failed).',
    });
  });

  it('with validate, refuses an answer that does not match the declared schema, naming the field', async () => {
    const answer = { items: [], nextCursor: null, total: 3 };
    const loose = createApiClient({ fetch: fake(() => json(200, answer)).fetch });
    expect(await loose.call('listFlows')).toEqual(answer);
    const strict = createApiClient({ validate: true, fetch: fake(() => json(200, answer)).fetch });
    await expect(strict.call('listFlows')).rejects.toMatchObject({ code: 'bad_response' });
    const wrongType = createApiClient({
      validate: true,
      fetch: fake(() => json(200, { items: 1, nextCursor: null })).fetch,
    });
    await expect(wrongType.call('listFlows')).rejects.toMatchObject({ path: 'items' });
  });

  it('types inputs and answers from the contract', () => {
    const client = createApiClient();
    expectTypeOf(client.call<'listFlows'>).returns.resolves.toEqualTypeOf<Page<FlowSummary>>();
    expectTypeOf(client.call<'getRun'>).returns.resolves.toEqualTypeOf<RunDetail>();
    expectTypeOf(client.call<'deleteConnection'>).returns.resolves.toEqualTypeOf<undefined>();
    // @ts-expect-error: a run's path parameter is required
    void client.url('getRun');
    // @ts-expect-error: the preview needs a cron
    void client.url('previewSchedule');
    void client.url('previewSchedule', { query: { cron: '0 2 * * *' } });
    // @ts-expect-error: not a status a run can have
    void client.url('listRuns', { query: { status: 'sleeping' } });
  });
});

describe('errorFromResponse', () => {
  it('keeps validation problems, and describes answers that are not API errors', () => {
    const problems = [{ severity: 'error' as const, code: 'no-trigger', path: 'nodes', message: 'no trigger' }];
    expect(
      errorFromResponse(422, '', JSON.stringify({ error: { code: 'invalid_flow', message: 'bad', problems } })),
    ).toMatchObject({ status: 422, code: 'invalid_flow', problems });
    expect(errorFromResponse(502, 'Bad Gateway', '<html>proxy</html>').message).toBe(
      'The server answered 502 Bad Gateway.',
    );
    expect(errorFromResponse(500, '', 'boom').message).toBe('The server answered 500: boom');
  });
});
