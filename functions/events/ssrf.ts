/**
 * SSRF guard for webhook URLs (SPEC §4): `https` only, and every address the host resolves to must be
 * public. The same check runs at registration (a 400 for the caller) and as the `lookup` of every
 * delivery's connection, so a name that later re-resolves to a private address (DNS rebinding) is refused
 * at connect time too. Local mode may allow `http` and loopback (never other private ranges).
 */
import dns from 'node:dns';
import net from 'node:net';
import { validationError } from '../shared/errors.ts';

export interface UrlPolicy {
  /** Local mode: accept `http:` and loopback addresses. */
  allowInsecure: boolean;
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

function blockList(ranges: [string, number, 'ipv4' | 'ipv6'][]): net.BlockList {
  const list = new net.BlockList();
  for (const [prefix, bits, family] of ranges) list.addSubnet(prefix, bits, family);
  return list;
}

const LOOPBACK = blockList([
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
]);

/** Not routable on the public internet (RFC 6890 special-purpose registries, the ones that matter here). */
const NON_PUBLIC = blockList([
  ['0.0.0.0', 8, 'ipv4'], // "this network", incl. 0.0.0.0
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT
  ['169.254.0.0', 16, 'ipv4'], // link-local, incl. the instance metadata service 169.254.169.254
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'], // benchmarking
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved, incl. broadcast
  ['::', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'], // unique local
  ['fe80::', 10, 'ipv6'], // link-local
  ['ff00::', 8, 'ipv6'], // multicast
  ['fd00:ec2::', 32, 'ipv6'], // EC2's IPv6 metadata endpoint (inside fc00::/7, named for the record)
]);

/** IPv6 forms that embed an IPv4 address: mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96), 6to4 (2002::/16). */
function embeddedIPv4(address: string): string | undefined {
  const bytes = ipv6Bytes(address);
  if (!bytes) return undefined;
  const v4 = (offset: number) => bytes.slice(offset, offset + 4).join('.');
  const zero = (from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);
  if (zero(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return v4(12);
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && zero(4, 12)) return v4(12);
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return v4(2);
  return undefined;
}

function ipv6Bytes(address: string): number[] | undefined {
  if (!net.isIPv6(address)) return undefined;
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (dotted) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted.split('.').map(Number);
    text = `${text.slice(0, -dotted.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return all.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

export type AddressVerdict = 'public' | 'loopback' | 'private';

export function classifyAddress(raw: string): AddressVerdict {
  const address = raw.split('%')[0] ?? '';
  const family = net.isIP(address);
  if (family === 0) return 'private';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const v4 = family === 6 ? embeddedIPv4(address) : undefined;
  if (v4 !== undefined) return classifyAddress(v4);
  if (LOOPBACK.check(address, type)) return 'loopback';
  return NON_PUBLIC.check(address, type) ? 'private' : 'public';
}

const allowed = (verdict: AddressVerdict, policy: UrlPolicy) =>
  verdict === 'public' || (verdict === 'loopback' && policy.allowInsecure);

/** Refuses (throws) unless every resolved address is allowed; returns the addresses. */
export async function resolveAllowed(hostname: string, policy: UrlPolicy, resolve: Resolver): Promise<ResolvedAddress[]> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  let addresses: ResolvedAddress[];
  if (net.isIP(bare)) {
    addresses = [{ address: bare, family: net.isIP(bare) }];
  } else {
    try {
      addresses = await resolve(bare);
    } catch {
      throw validationError(`webhook host ${hostname} does not resolve`, { field: 'url' });
    }
  }
  if (addresses.length === 0) throw validationError(`webhook host ${hostname} does not resolve`, { field: 'url' });
  const refused = addresses.filter((a) => !allowed(classifyAddress(a.address), policy));
  if (refused.length > 0) {
    throw validationError(`webhook host ${hostname} resolves to a non-public address (${refused[0]?.address})`, {
      field: 'url',
    });
  }
  return addresses;
}

/** Validates a webhook URL (scheme, credentials, resolved addresses) and returns it normalized. */
export async function assertWebhookUrl(raw: string, policy: UrlPolicy, resolve: Resolver = systemResolver): Promise<string> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw validationError('webhook url is not a valid URL', { field: 'url' });
  }
  const schemes = policy.allowInsecure ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) throw validationError('webhook url must use https', { field: 'url' });
  if (url.username || url.password) throw validationError('webhook url must not carry credentials', { field: 'url' });
  await resolveAllowed(url.hostname, policy, resolve);
  return url.toString();
}

/**
 * A `lookup` for http(s).request that connects only to allowed addresses: the check and the connection use
 * the same resolution, so there is no window for DNS rebinding.
 */
export function guardedLookup(policy: UrlPolicy, resolve: Resolver = systemResolver): net.LookupFunction {
  return (hostname, options, callback) => {
    resolveAllowed(hostname, policy, resolve).then(
      (addresses) => {
        const wanted = typeof options === 'object' && options.family ? options.family : 0;
        const usable = addresses.filter((a) => wanted === 0 || a.family === wanted);
        if (typeof options === 'object' && options.all) {
          callback(null, usable as dns.LookupAddress[]);
          return;
        }
        const first = usable[0] ?? addresses[0];
        if (!first) callback(new Error(`no address for ${hostname}`), '', 0);
        else callback(null, first.address, first.family);
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, '', 0),
    );
  };
}
