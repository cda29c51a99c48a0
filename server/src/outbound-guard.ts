import { promises as dns } from 'node:dns';
import type { ClientRequestArgs } from 'node:http';
import { isIP, isIPv4, type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import { HttpFailure } from '@sluice/engine';
import ipaddr from 'ipaddr.js';

/** The environment variable that lists what the guard lets through. */
export const ALLOW_HOSTS_VAR = 'SLUICE_ALLOW_HOSTS';

/** An address a host name resolved to. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to its addresses (the system's resolver by default; tests give their own). */
export type Resolve = (hostname: string) => Promise<ResolvedAddress[]>;

/** Opens the socket of a connection the guard admitted: host and port as asked, `lookup` answering only the addresses checked. */
export type Connect = (options: ClientRequestArgs & { lookup: LookupFunction }) => Duplex;

/** One entry of the allow list: a host name, or an address range; on one port, or on any. */
type AllowRule =
  | { kind: 'name'; name: string; port: number | undefined }
  | { kind: 'range'; range: [ipaddr.IPv4 | ipaddr.IPv6, number]; port: number | undefined };

const systemResolve: Resolve = (hostname) => dns.lookup(hostname, { all: true });

/**
 * What the guard calls each kind of address it refuses (ipaddr.js's range names). Everything but a
 * public unicast address is refused unless allowed: loopback (other services' admin ports),
 * link-local (the cloud metadata endpoint 169.254.169.254 among them), private and unique-local
 * networks, carrier-grade NAT, unspecified (0.0.0.0 and :: reach this machine), and the other
 * special-purpose ranges (multicast, reserved, NAT64 and 6to4 forms that embed an IPv4 address).
 */
const RANGE_NAMES: Record<string, string> = {
  loopback: 'a loopback address',
  linkLocal: 'a link-local address (cloud metadata lives there)',
  private: 'a private address',
  uniqueLocal: 'a private address (unique local)',
  carrierGradeNat: 'a shared address (carrier-grade NAT)',
  unspecified: 'an unspecified address',
  multicast: 'a multicast address',
  broadcast: 'a broadcast address',
};

/**
 * The outbound guard: which addresses requests sent on a user's behalf (HTTP nodes, lookups, OAuth2
 * token calls, alert webhooks, connection checks) may reach. Public unicast addresses are allowed;
 * loopback, link-local, private, unspecified and other special-purpose ones are refused unless an
 * entry of the allow list (SLUICE_ALLOW_HOSTS, plus the built-in sandbox systems) names the host or
 * covers the address. The check is on the resolved address, at the moment a socket is opened (see
 * `guardedConnection`), and the socket then connects only to the addresses checked: a name that
 * resolves to 127.0.0.1 is caught, and a second answer of the DNS (rebinding) is never asked for.
 *
 * Address kinds come from ipaddr.js (a small, widely used library that knows the IANA special-purpose
 * ranges and unwraps IPv4-mapped IPv6 forms such as ::ffff:127.0.0.1), so the list of ranges is not
 * ours to keep up to date; it also parses the CIDR ranges of the allow list.
 */
export class OutboundGuard {
  private readonly rules: AllowRule[];

  constructor(
    allow: readonly string[] = [],
    private readonly resolve: Resolve = systemResolve,
  ) {
    this.rules = allow.map(parseRule);
  }

  /**
   * Why a connection to `address` (an IP address) on `port` is refused, as the message of the
   * failure (naming the rule); undefined when it is allowed.
   */
  refusal(address: string, port: number, host?: string): string | undefined {
    if (!ipaddr.isValid(address)) return `outbound guard: ${address} is not an IP address`;
    const parsed = ipaddr.process(address);
    const range = parsed.range();
    if (range === 'unicast') return undefined;
    if (this.rules.some((r) => r.kind === 'range' && portMatches(r.port, port) && inRange(parsed, r.range)))
      return undefined;
    const what = RANGE_NAMES[range] ?? `a special-purpose address (${range})`;
    // an IPv4-mapped form is named with the IPv4 address it stands for
    const shown = parsed.kind() === 'ipv4' && !isIPv4(address) ? `${address} (${parsed.toString()})` : address;
    const subject = host && host !== address ? `${host} resolves to ${shown}, ${what}` : `${shown} is ${what}`;
    return `outbound guard: ${subject}; allow it with ${ALLOW_HOSTS_VAR}`;
  }

  /**
   * The addresses a connection to `host`:`port` may use: the host's own address when it is one,
   * else those of the addresses it resolves to that are allowed (a name that resolves to both ::1
   * and 127.0.0.1, with only 127.0.0.1 allowed, connects there; one with a public and a private
   * address, to the public one). Rejects with an `HttpFailure` of code `refused` (the request is
   * never sent) when none is allowed, naming the first refused, and with the resolver's error when
   * the name does not resolve. A host name the allow list names is let through whatever it
   * resolves to.
   */
  async admit(host: string, port: number): Promise<ResolvedAddress[]> {
    const name = host.toLowerCase().replace(/\.$/, '');
    const family = isIP(name);
    if (family) {
      const why = this.refusal(name, port);
      if (why) throw new HttpFailure(why, 'refused');
      return [{ address: name, family }];
    }
    const named = this.rules.some((r) => r.kind === 'name' && r.name === name && portMatches(r.port, port));
    const addresses = await this.resolve(name);
    if (addresses.length === 0) throw Object.assign(new Error(`${name} has no address`), { code: 'ENOTFOUND' });
    if (named) return addresses;
    const allowed = addresses.filter(({ address }) => this.refusal(address, port, name) === undefined);
    if (allowed.length === 0)
      throw new HttpFailure(this.refusal((addresses[0] as ResolvedAddress).address, port, name) as string, 'refused');
    return allowed;
  }
}

/**
 * The allow list SLUICE_ALLOW_HOSTS gives: entries separated by commas or spaces, each a host name,
 * an address or a CIDR range, a name or an address optionally with `:port`. A malformed entry
 * throws, naming the variable (so a server with a typo in it does not start).
 */
export function allowListFromEnv(env: NodeJS.ProcessEnv): string[] {
  const listed = (env[ALLOW_HOSTS_VAR] ?? '').split(/[\s,]+/).filter((e) => e !== '');
  for (const entry of listed) {
    try {
      parseRule(entry);
    } catch (err) {
      throw new Error(`${ALLOW_HOSTS_VAR}: ${(err as Error).message}`);
    }
  }
  return listed;
}

/**
 * Opens a socket for an HTTP agent once the guard has admitted its host: `connect` gets the
 * options as the agent made them, with a `lookup` that answers only the addresses checked (an IP
 * host is connected to as it is). Meant for an agent's `createConnection`, which may hand its
 * socket over later through `callback`.
 */
export function guardedConnection(
  guard: OutboundGuard,
  options: ClientRequestArgs,
  connect: Connect,
  callback: (err: Error | null, socket?: Duplex) => void,
): void {
  const host = String(options.host ?? options.hostname ?? 'localhost').replace(/^\[(.*)\]$/, '$1');
  const port = Number(options.port ?? (options.protocol === 'https:' ? 443 : 80));
  guard.admit(host, port).then(
    (addresses) => {
      let socket: Duplex;
      try {
        socket = connect({ ...options, lookup: fixedLookup(addresses) });
      } catch (err) {
        callback(err as Error);
        return;
      }
      callback(null, socket);
    },
    (err: unknown) => callback(err as Error),
  );
}

/** A lookup that answers the addresses given (in their order), never asking the DNS again. */
export function fixedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = typeof options.family === 'number' ? options.family : 0;
    const usable = addresses.filter((a) => family === 0 || a.family === family);
    process.nextTick(() => {
      const first = usable[0];
      if (!first) {
        const err = Object.assign(new Error(`no IPv${family} address`), { code: 'ENOTFOUND' });
        (callback as (err: NodeJS.ErrnoException) => void)(err);
      } else if (options.all) {
        (callback as (err: null, addresses: ResolvedAddress[]) => void)(null, usable);
      } else {
        callback(null, first.address, first.family);
      }
    });
  };
}

function portMatches(rulePort: number | undefined, port: number): boolean {
  return rulePort === undefined || rulePort === port;
}

function inRange(address: ipaddr.IPv4 | ipaddr.IPv6, range: [ipaddr.IPv4 | ipaddr.IPv6, number]): boolean {
  return address.kind() === range[0].kind() && address.match(range as [typeof address, number]);
}

/**
 * An allow-list entry: `host`, `host:port`, an address (`10.0.0.5`, `::1`, `[::1]`, `[::1]:8080`,
 * `127.0.0.1:8080`) or a CIDR range (`10.0.0.0/8`, `fd00::/8`). IPv4-mapped IPv6 forms are kept as
 * their IPv4 address, as the addresses checked are.
 */
function parseRule(entry: string): AllowRule {
  const bad = () =>
    new Error(`"${entry}" is not a host name, address or CIDR range (host[:port], address[:port], CIDR)`);
  let text = entry.trim().toLowerCase();
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    text = bracketed[1] as string;
    if (bracketed[2] !== undefined) port = portOf(bracketed[2], bad);
  } else if (!text.includes('/') && (text.match(/:/g) ?? []).length === 1) {
    const [h, p] = text.split(':') as [string, string];
    text = h;
    port = portOf(p, bad);
  }
  if (text.includes('/')) {
    if (port !== undefined || !ipaddr.isValidCIDR(text)) throw bad();
    const [address, bits] = ipaddr.parseCIDR(text);
    const mapped = address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress();
    return {
      kind: 'range',
      range: mapped ? [(address as ipaddr.IPv6).toIPv4Address(), Math.max(0, bits - 96)] : [address, bits],
      port,
    };
  }
  if (ipaddr.isValid(text)) {
    const address = ipaddr.process(text);
    return { kind: 'range', range: [address, address.kind() === 'ipv4' ? 32 : 128], port };
  }
  text = text.replace(/\.$/, '');
  if (!/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(text)) throw bad();
  return { kind: 'name', name: text, port };
}

function portOf(text: string, bad: () => Error): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65_535) throw bad();
  return port;
}
