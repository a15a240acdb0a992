import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where a webhook may point. Only https, and only to public addresses: not private, loopback,
 * link-local, shared (CGNAT), multicast, reserved or documentation ranges, in IPv4 or IPv6
 * (IPv4-mapped IPv6 addresses are checked as IPv4). Checked when an endpoint is registered and
 * again before every attempt, on the addresses the name resolves to then; the attempt connects
 * to the address that was checked, so a name re-pointed in between (DNS rebinding) cannot reach
 * an internal service. `allowPrivate` (WEBHOOKS_ALLOW_PRIVATE, for tests and on-premise
 * receivers) lifts both rules: http and any address.
 */
const blocked = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const)
  blocked.addSubnet(network, prefix, 'ipv6');

export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !blocked.check(address, 'ipv4');
  if (family !== 6) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return !blocked.check(mapped[1]!, 'ipv4');
  return !blocked.check(address, 'ipv6');
}

export class UnsafeUrlError extends Error {
  override name = 'UnsafeUrlError';
}

/** The URL's form: a problem with it, or undefined. No DNS. */
export function urlFormProblem(raw: string, allowPrivate: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a URL';
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) return 'use an https:// URL';
  if (url.username || url.password) return 'no user name or password in the URL: authenticate the message by its signature';
  if (url.hash) return 'no #fragment';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && isIP(host) && !isPublicAddress(host)) return 'points to a private, loopback or link-local address';
  if (!allowPrivate && /(^|\.)(localhost|local|internal|localdomain)$/i.test(host)) return 'points to a local name';
  return undefined;
}

export interface ResolvedTarget {
  address: string;
  family: 4 | 6;
}

/** Resolves the URL's host and checks every address it has now; the one to connect to. */
export async function resolveSafely(raw: string, allowPrivate: boolean): Promise<ResolvedTarget> {
  const problem = urlFormProblem(raw, allowPrivate);
  if (problem) throw new UnsafeUrlError(problem);
  const host = new URL(raw).hostname.replace(/^\[|\]$/g, '');
  const family = isIP(host);
  const addresses = family
    ? [{ address: host, family }]
    : await lookup(host, { all: true, verbatim: true }).catch((error: NodeJS.ErrnoException) => {
        throw new UnsafeUrlError(`the host name does not resolve (${error.code ?? error.message})`);
      });
  if (!addresses.length) throw new UnsafeUrlError('the host name does not resolve');
  if (!allowPrivate) {
    const inside = addresses.find((entry) => !isPublicAddress(entry.address));
    if (inside) throw new UnsafeUrlError(`the host name resolves to a private, loopback or link-local address (${inside.address})`);
  }
  const first = addresses[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}
