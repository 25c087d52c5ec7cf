// The SSRF guard: a webhook endpoint is somewhere on the public internet, over https in
// production. It is checked when it is registered and again at every delivery, after DNS: the
// connection goes to the very address that was checked (a custom `lookup`), so a name that
// resolves to a public address at registration and to 127.0.0.1 later (DNS rebinding) is refused.
// WEBHOOKS_ALLOW_PRIVATE=1 (dev, tests) lets private and loopback addresses through.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

export class UnsafeUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeUrlError';
  }
}

// Everything that is not a globally routed unicast address (IANA special-purpose registries).
const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local (cloud metadata lives here)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and broadcast
] as const)
  blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b::', 96], // NAT64: embeds an IPv4 address
  ['64:ff9b:1::', 48],
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo, ...)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an IPv4 address
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // old site-local
  ['ff00::', 8], // multicast
] as const)
  blocked.addSubnet(net, bits, 'ipv6');

/** An IPv4 address written inside IPv6 (::ffff:a.b.c.d, ::a.b.c.d), as IPv4; else null. */
function embeddedIPv4(ip: string): string | null {
  const m = /^::(?:ffff(?::0{1,4})?:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (m) return m[1]!;
  // The hex form of a mapped address: ::ffff:7f00:1
  const h = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (h) {
    const a = parseInt(h[1]!, 16);
    const b = parseInt(h[2]!, 16);
    return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
  }
  return null;
}

/** Whether an IP address is a public unicast one. */
export function isPublicAddress(ip: string): boolean {
  const bare = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return !blocked.check(bare, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIPv4(bare);
    if (v4) return isPublicAddress(v4);
    // Anything else under ::/96 (IPv4-compatible) or ::ffff:0:0/96 (mapped) is not public either.
    if (/^::(ffff:)?[0-9a-f]{0,4}(:[0-9a-f]{0,4})?$/i.test(bare)) return false;
    return !blocked.check(bare, 'ipv6');
  }
  return false;
}

export interface GuardOptions {
  /** WEBHOOKS_ALLOW_PRIVATE: private and loopback addresses allowed. */
  allowPrivate: boolean;
  /** Production: https only. */
  httpsOnly: boolean;
}

/** Checks the form of an endpoint URL (no DNS): scheme, no credentials, a host. */
export function checkUrlShape(raw: string, opts: GuardOptions): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnsafeUrlError(
      'not a URL: give an absolute address such as https://example.com/hook',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new UnsafeUrlError('the URL must start with https://');
  if (opts.httpsOnly && url.protocol !== 'https:')
    throw new UnsafeUrlError('the URL must start with https:// in production');
  if (url.username || url.password)
    throw new UnsafeUrlError('the URL must not hold a user name or password');
  if (!url.hostname) throw new UnsafeUrlError('the URL has no host');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !opts.allowPrivate && !isPublicAddress(host))
    throw new UnsafeUrlError(`${host} is not a public address`);
  return url;
}

type Resolve = (host: string) => Promise<LookupAddress[]>;

const systemResolve: Resolve = (host) =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (err, addrs) =>
      err ? reject(err) : resolve(addrs),
    ),
  );

/** Resolves a host and refuses it unless every address is public (or private ones are allowed). */
export async function resolvePublic(
  host: string,
  opts: Pick<GuardOptions, 'allowPrivate'>,
  resolve: Resolve = systemResolve,
): Promise<LookupAddress[]> {
  const bare = host.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  let addrs: LookupAddress[];
  if (family) addrs = [{ address: bare, family }];
  else {
    try {
      addrs = await resolve(bare);
    } catch (err) {
      throw new UnsafeUrlError(`${bare} does not resolve (${(err as Error).message})`);
    }
  }
  if (!addrs.length) throw new UnsafeUrlError(`${bare} does not resolve`);
  if (!opts.allowPrivate) {
    const bad = addrs.find((a) => !isPublicAddress(a.address));
    if (bad)
      throw new UnsafeUrlError(`${bare} resolves to ${bad.address}, which is not a public address`);
  }
  return addrs;
}

/** Registration: the URL's form and where it resolves now. */
export async function checkEndpointUrl(
  raw: string,
  opts: GuardOptions,
  resolve?: Resolve,
): Promise<URL> {
  const url = checkUrlShape(raw, opts);
  await resolvePublic(url.hostname, opts, resolve);
  return url;
}

/** A `lookup` for http.request that connects only to addresses that passed the guard. */
export function guardedLookup(opts: Pick<GuardOptions, 'allowPrivate'>, resolve?: Resolve) {
  return (
    hostname: string,
    options: { all?: boolean },
    callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    resolvePublic(hostname, opts, resolve).then(
      (addrs) => {
        if (options?.all) callback(null, addrs);
        else callback(null, addrs[0]!.address, addrs[0]!.family);
      },
      (err: Error) => callback(err, ''),
    );
  };
}
