import { createServer, type Server } from 'node:http';
import { type AddressInfo, createConnection, isIP, type LookupFunction } from 'node:net';
import { HttpFailure } from '@sluice/engine';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OAuth2TokenSource } from './connections/oauth2.js';
import { createPooledHttpClient, fetchOver } from './http-client.js';
import { allowListFromEnv, type Connect, OutboundGuard, type Resolve } from './outbound-guard.js';

/**
 * No test here may let a packet leave the machine, even with a broken guard: host names resolve
 * through a test resolver (never the DNS), and every socket opens through a tripwire `connect` that
 * connects only to the one allowed server (127.0.0.1 on its port) and records anything else it is
 * handed instead of connecting to it.
 */

let receiver: Server;
let port: number;
const received: string[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    received.push(req.url ?? '');
    const to = /^\/redirect\?to=(.*)$/.exec(req.url ?? '')?.[1];
    if (to) res.writeHead(302, { location: decodeURIComponent(to) }).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  port = (receiver.address() as AddressInfo).port;
});
afterAll(() => {
  receiver.closeAllConnections();
  receiver.close();
});

/** Addresses the test resolver knows; anything else does not resolve. */
const names: Record<string, string[]> = {
  'loopback.test': ['127.0.0.1'],
  'metadata.test': ['169.254.169.254'],
  'public.test': ['93.184.216.34'],
  // a private and a public answer: only the public one may be connected to
  'mixed.test': ['10.0.0.7', '93.184.216.34'],
  // as localhost often resolves: ::1 first, then 127.0.0.1
  'dual.test': ['::1', '127.0.0.1'],
};

function testResolver() {
  const asked: string[] = [];
  const resolve: Resolve = async (hostname) => {
    asked.push(hostname);
    const found = names[hostname];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: isIP(address) }));
  };
  return { resolve, asked };
}

/**
 * A connect that reaches only 127.0.0.1 on the receiver's port; any other address it is handed
 * (directly, or by the lookup it is given) is recorded in `reached` and never connected to.
 */
function tripwire() {
  const reached: string[] = [];
  const connect: Connect = (options) => {
    const host = String(options.host);
    const allowed = (address: string) => address === '127.0.0.1' && Number(options.port) === port;
    if (isIP(host)) {
      if (!allowed(host)) {
        reached.push(`${host}:${options.port}`);
        throw new Error(`tripwire: ${host} reached connect`);
      }
      return createConnection({ host, port: Number(options.port) });
    }
    const checked: LookupFunction = (hostname, lookupOptions, callback) => {
      options.lookup(hostname, lookupOptions, (err, address, family) => {
        const list = Array.isArray(address) ? address : [{ address, family: family ?? 0 }];
        const bad = list.filter((a) => !allowed(a.address));
        if (err || bad.length > 0) {
          for (const a of bad) reached.push(`${a.address}:${options.port}`);
          (callback as (e: Error) => void)(err ?? new Error('tripwire: a refused address reached connect'));
          return;
        }
        (callback as (...args: unknown[]) => void)(null, address, family);
      });
    };
    return createConnection({ host, port: Number(options.port), lookup: checked });
  };
  return { connect, reached };
}

function client(allow: string[]) {
  const resolver = testResolver();
  const wire = tripwire();
  const guard = new OutboundGuard(allow, resolver.resolve);
  const pooled = createPooledHttpClient({ guard, connect: wire.connect });
  const get = (url: string) => pooled.http({ method: 'GET', url, headers: {}, timeoutMs: 5000 });
  return { ...pooled, get, asked: resolver.asked, reached: wire.reached };
}

const clients: ReturnType<typeof client>[] = [];
const opened = (allow: string[]) => {
  const c = client(allow);
  clients.push(c);
  return c;
};
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  received.length = 0;
});

async function refusal(promise: Promise<unknown>): Promise<HttpFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpFailure);
  expect((err as HttpFailure).code).toBe('refused');
  return err as HttpFailure;
}

describe('outbound guard through the HTTP client', () => {
  it('refuses metadata, private, loopback and IPv6 loopback addresses before any socket opens', async () => {
    const c = opened([]); // nothing allowed
    const cases: [string, string][] = [
      ['http://169.254.169.254/', '169.254.169.254 is a link-local address (cloud metadata lives there)'],
      ['https://169.254.169.254/', '169.254.169.254 is a link-local address (cloud metadata lives there)'],
      ['http://10.1.2.3/', '10.1.2.3 is a private address'],
      ['http://127.0.0.2:9/', '127.0.0.2 is a loopback address'],
      ['http://[::1]:9/', '::1 is a loopback address'],
      ['http://[::ffff:10.1.2.3]/', '::ffff:a01:203 (10.1.2.3) is a private address'],
      ['http://0.0.0.0:9/', '0.0.0.0 is an unspecified address'],
      ['http://100.64.0.1/', '100.64.0.1 is a shared address (carrier-grade NAT)'],
      ['http://[fd00::1]/', 'fd00::1 is a private address (unique local)'],
      ['http://[fe80::1]/', 'fe80::1 is a link-local address (cloud metadata lives there)'],
      ['http://192.168.1.1/', '192.168.1.1 is a private address'],
      ['http://172.16.0.1/', '172.16.0.1 is a private address'],
    ];
    for (const [url, what] of cases) {
      const err = await refusal(c.get(url));
      expect(err.message).toBe(`outbound guard: ${what}; allow it with SLUICE_ALLOW_HOSTS`);
    }
    expect(c.reached).toEqual([]);
  });

  it('checks the address a name resolves to: a name resolving to 127.0.0.1 is refused, resolved once', async () => {
    const c = opened([]);
    const err = await refusal(c.get(`http://loopback.test:${port}/`));
    expect(err.message).toBe(
      'outbound guard: loopback.test resolves to 127.0.0.1, a loopback address; allow it with SLUICE_ALLOW_HOSTS',
    );
    expect((await refusal(c.get('http://metadata.test/latest/meta-data/'))).message).toMatch(
      /^outbound guard: metadata\.test resolves to 169\.254\.169\.254, a link-local address/,
    );
    expect((await refusal(c.get(`http://dual.test:${port}/`))).message).toMatch(
      /^outbound guard: dual\.test resolves to ::1, a loopback address/,
    );
    expect(c.reached).toEqual([]);
    expect(received).toEqual([]);
  });

  it('connects an allowed name only to the addresses it checked (no second lookup to rebind)', async () => {
    const c = opened([`127.0.0.1:${port}`]);
    const res = await c.get(`http://loopback.test:${port}/hello`);
    expect(res.status).toBe(200);
    expect(received).toEqual(['/hello']);
    expect(c.asked).toEqual(['loopback.test']);
    // the same address on another port is not on the list
    expect((await refusal(c.get('http://loopback.test:9/'))).message).toMatch(/resolves to 127\.0\.0\.1, a loopback/);
    expect(c.reached).toEqual([]);
  });

  it('checks every redirect: an allowed server sending the request to a private or loopback address is refused', async () => {
    const c = opened([`127.0.0.1:${port}`]);
    const base = `http://127.0.0.1:${port}`;
    for (const [to, what] of [
      ['http://10.1.2.3/', '10.1.2.3 is a private address'],
      ['http://[::1]:9/', '::1 is a loopback address'],
      ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is a link-local address'],
      ['http://loopback.test:9/', 'loopback.test resolves to 127.0.0.1, a loopback address'],
    ] as const) {
      const err = await refusal(c.get(`${base}/redirect?to=${encodeURIComponent(to)}`));
      expect(err.message).toContain(`outbound guard: ${what}`);
    }
    // the allowed server itself answered each first hop, and a redirect within it is followed
    expect(received).toHaveLength(4);
    const ok = await c.get(`${base}/redirect?to=${encodeURIComponent(`${base}/landed`)}`);
    expect(ok.status).toBe(200);
    expect(received.at(-1)).toBe('/landed');
    expect(c.reached).toEqual([]);
  });

  it('lets public addresses through to connect (which the tripwire stops here), and only those of a name', async () => {
    const c = opened([]);
    for (const url of ['http://public.test/', 'http://mixed.test/']) {
      const err = await c.get(url).catch((e: unknown) => e as HttpFailure);
      expect(err).toBeInstanceOf(HttpFailure);
      expect((err as HttpFailure).code).toBe('network');
    }
    // mixed.test's private address was never handed to connect
    expect(c.reached).toEqual(['93.184.216.34:80', '93.184.216.34:80']);
  });

  it('connects a name with a refused and an allowed address to the allowed one only', async () => {
    const c = opened([`127.0.0.1:${port}`]);
    expect((await c.get(`http://dual.test:${port}/both`)).status).toBe(200);
    expect(received).toEqual(['/both']);
    expect(c.reached).toEqual([]);
  });

  it('takes host names, addresses, ports and CIDR ranges on the allow list', async () => {
    const byName = opened([`loopback.test:${port}`]);
    expect((await byName.get(`http://loopback.test:${port}/`)).status).toBe(200);
    const byRange = opened(['127.0.0.0/30']);
    expect((await byRange.get(`http://127.0.0.1:${port}/`)).status).toBe(200);
    expect(byRange.reached).toEqual([]);
    // 127.0.0.2 is in that range: the guard admits it, and only the tripwire keeps it on this machine
    await expect(byRange.get('http://127.0.0.2:9/')).rejects.toThrow(/tripwire/);
    expect(byRange.reached).toEqual(['127.0.0.2:9']);
  });

  it('refuses an OAuth2 token endpoint on a private address, naming the connection, as final', async () => {
    const c = opened([]);
    const source = new OAuth2TokenSource({
      name: 'erp',
      settings: {
        grant: 'client_credentials',
        tokenUrl: 'http://10.1.2.3/oauth/token',
        clientId: 'sluice',
        clientAuth: 'basic',
      },
      clientSecret: 'secret',
      saveRefreshToken: async () => {},
      fetch: fetchOver(c.http),
    });
    const err = await refusal(source.headers());
    expect(err.message).toBe(
      'the token endpoint of connection "erp": outbound guard: 10.1.2.3 is a private address; allow it with SLUICE_ALLOW_HOSTS',
    );
    expect(c.reached).toEqual([]);
  });
});

describe('outbound guard rules', () => {
  const guard = new OutboundGuard([
    '10.0.0.0/8',
    '[fd00::1]:8443',
    '192.168.1.5:5432',
    'erp.internal',
    '::ffff:172.16.0.1',
  ]);

  it('allows public unicast addresses, refuses special ones with the rule in the message', () => {
    expect(guard.refusal('93.184.216.34', 80)).toBeUndefined();
    expect(guard.refusal('2606:4700::1111', 443)).toBeUndefined();
    expect(guard.refusal('127.0.0.1', 80)).toMatch(/127\.0\.0\.1 is a loopback address/);
    expect(guard.refusal('::', 80)).toMatch(/is an unspecified address/);
    expect(guard.refusal('224.0.0.1', 80)).toMatch(/is a multicast address/);
    expect(guard.refusal('64:ff9b::7f00:1', 80)).toMatch(/is a special-purpose address \(rfc6052\)/);
    expect(guard.refusal('198.18.0.1', 80)).toMatch(/special-purpose address/);
  });

  it('lets through what the allow list covers, on its port when it names one', () => {
    expect(guard.refusal('10.1.2.3', 80)).toBeUndefined();
    expect(guard.refusal('::ffff:10.1.2.3', 80)).toBeUndefined();
    expect(guard.refusal('fd00::1', 8443)).toBeUndefined();
    expect(guard.refusal('fd00::1', 443)).toMatch(/unique local/);
    expect(guard.refusal('192.168.1.5', 5432)).toBeUndefined();
    expect(guard.refusal('192.168.1.5', 80)).toMatch(/private address/);
    expect(guard.refusal('172.16.0.1', 80)).toBeUndefined();
    expect(guard.refusal('172.16.0.2', 80)).toMatch(/private address/);
  });

  it('reads SLUICE_ALLOW_HOSTS, refusing a malformed entry by the variable', () => {
    expect(allowListFromEnv({ SLUICE_ALLOW_HOSTS: ' 127.0.0.1, localhost:8080 10.0.0.0/8,[::1]:9 ' })).toEqual([
      '127.0.0.1',
      'localhost:8080',
      '10.0.0.0/8',
      '[::1]:9',
    ]);
    expect(allowListFromEnv({})).toEqual([]);
    for (const bad of ['10.0.0.0/33', 'host:99999', 'bad host!', '10.0.0.0/8:80', 'http://x'])
      expect(() => allowListFromEnv({ SLUICE_ALLOW_HOSTS: bad })).toThrow(/^SLUICE_ALLOW_HOSTS: "/);
  });
});
