import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import { corsOriginsFrom } from './security.js';
import { openTestSluice, TEST_TOKEN, type TestSluice } from './test-support.js';

const ALLOWED = 'https://tools.example.test';
const OTHER = 'https://evil.example.test';
const auth = { authorization: `Bearer ${TEST_TOKEN}` };

let t: TestSluice;
let closed: ReturnType<typeof createApp>;
let open: ReturnType<typeof createApp>;
beforeAll(async () => {
  t = await openTestSluice({ start: false });
  // a built editor of one page, as vite makes it: its script is a file, never inline
  const editorDir = path.join(t.dir, 'editor');
  mkdirSync(path.join(editorDir, 'assets'), { recursive: true });
  writeFileSync(
    path.join(editorDir, 'index.html'),
    '<!doctype html><html><head><script type="module" src="/assets/index.js"></script></head><body></body></html>',
  );
  writeFileSync(path.join(editorDir, 'assets', 'index.js'), 'console.log(1);');
  closed = createApp(t.parts, { editorDir, checkAnswers: true });
  open = createApp(t.parts, { editorDir, checkAnswers: true, corsOrigins: [ALLOWED] });
});
afterAll(async () => {
  await t?.close();
});

/** The Content-Security-Policy's directives by name. */
const policy = (res: Response) =>
  Object.fromEntries(
    (res.headers.get('content-security-policy') ?? '')
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name, values]),
  );

function expectCommonHeaders(res: Response) {
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  expect(policy(res)['frame-ancestors']).toEqual(["'none'"]);
}

describe('security headers', () => {
  it('serves the editor with a policy that allows no inline script', async () => {
    for (const p of ['/', '/flows/some-flow', '/assets/index.js']) {
      const res = await closed.request(p);
      expect(res.status, p).toBe(200);
      expectCommonHeaders(res);
      const csp = policy(res);
      expect(csp['script-src']).toEqual(["'self'"]);
      expect(csp['default-src']).toEqual(["'self'"]);
      expect(csp['object-src']).toEqual(["'none'"]);
      expect(csp['connect-src']).toEqual(["'self'"]);
      expect(JSON.stringify(csp)).not.toContain('unsafe-eval');
    }
  });

  it('closes the API: JSON answers, errors and the 401 carry a policy that loads nothing', async () => {
    for (const [p, status, headers] of [
      ['/api/flows', 200, auth],
      ['/api/flows', 401, {}],
      ['/api/no-such-route', 404, auth],
      ['/api/health', 200, {}],
    ] as const) {
      const res = await closed.request(p, { headers });
      expect(res.status, p).toBe(status);
      expectCommonHeaders(res);
      expect(policy(res)['default-src'], p).toEqual(["'none'"]);
    }
    const hook = await closed.request('/hooks/hk_nothing', { method: 'POST', body: '[]' });
    expect(hook.status).toBe(404);
    expect(policy(hook)['default-src']).toEqual(["'none'"]);
  });

  it('serves /reference under the pages policy, which it keeps: no script, inline styles only', async () => {
    const res = await closed.request('/reference');
    expect(res.status).toBe(200);
    expectCommonHeaders(res);
    expect(policy(res)['script-src']).toEqual(["'self'"]);
    const html = await res.text();
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)[^"'\s<]*\.(js|css)/);
  });
});

describe('CORS', () => {
  it('is closed unless origins are listed: no Access-Control header for any origin, preflights find nothing', async () => {
    const res = await closed.request('/api/flows', { headers: { ...auth, origin: ALLOWED } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await closed.request('/api/flows', {
      method: 'OPTIONS',
      headers: { origin: ALLOWED, 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-methods')).toBeNull();
  });

  it('lets a listed origin through, with its preflight answered before authentication', async () => {
    const preflight = await open.request('/api/flows', {
      method: 'OPTIONS',
      headers: {
        origin: ALLOWED,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
    const res = await open.request('/api/flows', { headers: { ...auth, origin: ALLOWED } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('vary')?.toLowerCase()).toContain('origin');
    // a refused token is still refused, and the browser may read why
    const refused = await open.request('/api/flows', { headers: { origin: ALLOWED } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });

  it('refuses an origin not listed: no Access-Control-Allow-Origin on its preflight or its answers', async () => {
    const preflight = await open.request('/api/flows', {
      method: 'OPTIONS',
      headers: { origin: OTHER, 'access-control-request-method': 'DELETE' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const res = await open.request('/api/flows', { headers: { ...auth, origin: OTHER } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('reads SLUICE_CORS_ORIGINS: origins by commas or spaces; a path or * refused naming the variable', () => {
    expect(corsOriginsFrom({})).toEqual([]);
    expect(corsOriginsFrom({ SLUICE_CORS_ORIGINS: ' https://a.test, http://b.test:8080/  https://c.test' })).toEqual([
      'https://a.test',
      'http://b.test:8080',
      'https://c.test',
    ]);
    for (const bad of ['*', 'https://a.test/path', 'a.test', 'ftp://a.test']) {
      expect(() => corsOriginsFrom({ SLUICE_CORS_ORIGINS: bad }), bad).toThrow(
        /^SLUICE_CORS_ORIGINS: .* is not an origin/,
      );
    }
  });
});
