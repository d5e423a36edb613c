import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIPv4, isIPv6, type LookupFunction } from 'node:net';

// Addresses a webhook must not reach unless private networks are allowed: "this" network,
// private, CGNAT, loopback, link-local (cloud metadata at 169.254.169.254), IETF protocol
// assignments, benchmarking, multicast, reserved and broadcast.
const blockedV4 = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4], // includes 255.255.255.255
] as const) {
  blockedV4.addSubnet(net, prefix, 'ipv4');
}

// Unspecified, loopback, ULA, link-local, deprecated site-local, multicast; ::/96 (the deprecated
// IPv4-compatible form) and 64:ff9b:1::/48 (local-use NAT64, RFC 8215) only ever lead inside.
const blockedV6 = new BlockList();
for (const [net, prefix] of [
  ['::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
  ['64:ff9b:1::', 48],
] as const) {
  blockedV6.addSubnet(net, prefix, 'ipv6');
}

/**
 * Whether a webhook may not connect to `ip` (unless private networks are allowed). IPv6 forms
 * that carry an IPv4 address (`::ffff:a.b.c.d`, `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`,
 * 6to4 `2002:AABB:CCDD::`)
 * are judged by that IPv4 address. Anything that is not an IP address is blocked.
 *
 * @example
 * isBlockedAddress('169.254.169.254'); // true (cloud metadata)
 * isBlockedAddress('::ffff:10.0.0.1'); // true
 * isBlockedAddress('8.8.8.8'); // false
 */
export function isBlockedAddress(ip: string): boolean {
  if (isIPv4(ip)) return blockedV4.check(ip, 'ipv4');
  const bare = ip.split('%')[0]!; // a zone id (fe80::1%eth0) says nothing about the address
  if (!isIPv6(bare)) return true;
  if (blockedV6.check(bare, 'ipv6')) return true;
  const embedded = embeddedIPv4(parseIPv6(bare));
  return embedded !== undefined && blockedV4.check(embedded, 'ipv4');
}

/** Raised through `dns.lookup` when every address of a host is blocked; undici surfaces it as-is. */
export class BlockedAddressError extends Error {
  override name = 'BlockedAddressError';
  readonly code = 'EBLOCKEDADDRESS';
  constructor(
    readonly hostname: string,
    readonly addresses: readonly string[],
  ) {
    super(`${hostname} resolves only to blocked addresses (${addresses.join(', ') || 'none'})`);
  }
}

/**
 * A `dns.lookup`-compatible function for undici's `connect.lookup` (it reaches `net.connect`).
 * It resolves every address, drops the blocked ones unless `allowPrivate`, and fails with
 * {@link BlockedAddressError} (`code: 'EBLOCKEDADDRESS'`) when none is left. Because the socket
 * connects to what this returns, there is no window for DNS rebinding between check and connect.
 * Literal-IP hosts never reach a lookup: check those with {@link isBlockedAddress}.
 *
 * @example
 * const agent = new Agent({ connect: { lookup: guardedLookup(false), timeout: 5_000 } });
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, options.all ? [] : '');
      const allowed = allowPrivate ? addresses : addresses.filter((a) => !isBlockedAddress(a.address));
      const first = allowed[0];
      if (!first) {
        return callback(new BlockedAddressError(hostname, addresses.map((a) => a.address)), options.all ? [] : '');
      }
      // net.connect asks for all addresses when it races IPv4/IPv6 (autoSelectFamily), else one.
      if (options.all) callback(null, allowed);
      else callback(null, first.address, first.family);
    });
  };
}

function parseIPv6(ip: string): number[] {
  let text = ip;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    // A trailing dotted quad fills the last two 16-bit groups.
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -dotted[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::') as [string, string | undefined];
  const groups = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = groups(head);
  if (tail === undefined) return left;
  const right = groups(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function embeddedIPv4(g: number[]): string | undefined {
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return v4(g[6]!, g[7]!); // ::ffff:a.b.c.d (IPv4-mapped)
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return v4(g[6]!, g[7]!); // ::ffff:0:a.b.c.d (SIIT)
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return v4(g[6]!, g[7]!); // 64:ff9b::/96 (NAT64)
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!); // 2002::/16 (6to4)
  return undefined;
}
