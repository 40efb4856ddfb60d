/**
 * Where a host name leads: resolution (Node's resolver, or one given by tests) and the link-local
 * rule — 169.254.0.0/16 and fe80::/10 (cloud metadata endpoints) are never contacted for a
 * discovered URL. The rule is applied to the resolved addresses, which are then the ones connected to.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to its addresses (a DNS failure rejects with the resolver's error). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) => {
  const all = await dnsLookup(hostname, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet('169.254.0.0', 16, 'ipv4');
LINK_LOCAL.addSubnet('fe80::', 10, 'ipv6');

/** The host of a URL without IPv6 brackets (`[fe80::1]` → `fe80::1`). */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** A link-local address, IPv4-mapped IPv6 (`::ffff:169.254.169.254`) included. */
export function isLinkLocal(address: string): boolean {
  const [a = ''] = bareHost(address).split('%');
  const family = isIP(a);
  if (family === 4) return LINK_LOCAL.check(a, 'ipv4');
  // BlockList matches IPv4-mapped IPv6 addresses against the IPv4 subnet too.
  return family === 6 && LINK_LOCAL.check(a, 'ipv6');
}

/** The host itself when it is an IP address literal (no resolution needed), else null. */
export function literalAddress(hostname: string): ResolvedAddress | null {
  const h = bareHost(hostname);
  const family = isIP(h);
  return family === 0 ? null : { address: h, family: family === 6 ? 6 : 4 };
}
