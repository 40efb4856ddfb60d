/**
 * A tripwire for tests of the link-local rule: while installed, every TCP connection this process
 * would open to a link-local address (an IP literal, or a name whose lookup answers one) is
 * recorded and sent to 127.0.0.1 instead, so no packet ever leaves for 169.254.0.0/16 or
 * fe80::/10 — not even if the code under test is wrong. A test asserts on `attempts`.
 */
import dns from 'node:dns';
import net, { BlockList } from 'node:net';

const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet('169.254.0.0', 16, 'ipv4');
LINK_LOCAL.addSubnet('fe80::', 10, 'ipv6');

function linkLocal(address: string): boolean {
  const family = net.isIP(address);
  return family !== 0 && LINK_LOCAL.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

export interface LinkLocalGuard {
  /** Link-local addresses that connections were attempted to, in order. */
  readonly attempts: string[];
  restore(): void;
}

type Connect = (this: net.Socket, ...args: unknown[]) => net.Socket;
type Lookup = (host: string, opts: { all?: boolean }, cb: (err: Error | null, address: unknown, family?: number) => void) => void;

export function guardLinkLocal(): LinkLocalGuard {
  const attempts: string[] = [];
  const original = net.Socket.prototype.connect as unknown as Connect;
  const patched: Connect = function (this: net.Socket, ...args: unknown[]) {
    // net.createConnection passes [options, cb] as one normalised array; a direct call, options first.
    const first = args[0];
    const opts = (Array.isArray(first) ? first[0] : first) as { host?: string; lookup?: Lookup } | undefined;
    if (opts && typeof opts === 'object') {
      const host = opts.host?.replace(/^\[|\]$/g, '');
      if (host && linkLocal(host)) {
        attempts.push(host);
        opts.host = '127.0.0.1';
      } else if (host && net.isIP(host) === 0) {
        const inner = opts.lookup ?? dns.lookup;
        opts.lookup = (h, o, cb) =>
          inner(h, o, (err, address, family) => {
            if (err) return cb(err, address, family);
            if (Array.isArray(address)) {
              const list = (address as { address: string; family: number }[]).map((a) => {
                if (!linkLocal(a.address)) return a;
                attempts.push(a.address);
                return { address: '127.0.0.1', family: 4 };
              });
              return cb(null, list);
            }
            if (typeof address === 'string' && linkLocal(address)) {
              attempts.push(address);
              return cb(null, '127.0.0.1', 4);
            }
            cb(null, address, family);
          });
      }
    }
    return original.apply(this, args);
  };
  net.Socket.prototype.connect = patched;
  return {
    attempts,
    restore() {
      net.Socket.prototype.connect = original;
    },
  };
}
