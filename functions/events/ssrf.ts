/**
 * SSRF guard for webhook URLs (R-SEC): `https` only, and every address the host resolves to must be
 * public. The same check runs at registration (a 400 for the caller) and as the `lookup` of every
 * delivery's connection, so a name that later re-resolves to a private address (DNS rebinding) is refused
 * at connect time too. Local mode may allow `http` and loopback (never other private ranges).
 */
import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
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

/**
 * IPv6 ranges ipaddr.js files under "unicast" that must not be reached: IPv4-compatible addresses (::/96,
 * deprecated, they embed any IPv4 such as ::a9fe:a9fe), local-use NAT64 (RFC 8215, translates to operator-chosen
 * private space) and site-local (fec0::/10, deprecated but still routed inside some networks). Checked on the
 * text with Node's own parser because ipaddr.js rewrites `::a.b.c.d` to the mapped form.
 */
const UNLISTED_NON_PUBLIC = new net.BlockList();
UNLISTED_NON_PUBLIC.addSubnet('::', 96, 'ipv6');
UNLISTED_NON_PUBLIC.addSubnet('64:ff9b:1::', 48, 'ipv6');
UNLISTED_NON_PUBLIC.addSubnet('fec0::', 10, 'ipv6');

/** IPv6 ranges whose address carries an IPv4 one the packet ends up at (mapped / translated, NAT64, 6to4). */
const CARRIES_IPV4 = new Set(['ipv4Mapped', 'rfc6145', 'rfc6052', '6to4']);

export type AddressVerdict = 'public' | 'loopback' | 'private';

function classifyIPv4(address: ipaddr.IPv4): AddressVerdict {
  const range = address.range();
  if (range === 'unicast') return 'public';
  return range === 'loopback' ? 'loopback' : 'private';
}

/**
 * Public means ipaddr.js's "unicast", i.e. outside every special-purpose range it knows (RFC 6890 and
 * successors: private, link-local incl. the metadata service 169.254.169.254, CGNAT, unique local incl.
 * fd00:ec2::254, multicast, Teredo, documentation, discard, ORCHID…). An address that carries an IPv4 is
 * judged by that IPv4; only the mapped form can be loopback, a 6to4 or NAT64 one goes through a relay.
 */
export function classifyAddress(raw: string): AddressVerdict {
  const text = raw.split('%')[0] ?? '';
  if (!ipaddr.isValid(text) || net.isIP(text) === 0) return 'private';
  const address = ipaddr.parse(text);
  if (address.kind() === 'ipv4') return classifyIPv4(address as ipaddr.IPv4);
  const v6 = address as ipaddr.IPv6;
  const range = v6.range();
  if (range === 'loopback') return 'loopback';
  if (UNLISTED_NON_PUBLIC.check(text, 'ipv6')) return 'private';
  if (range === 'ipv4Mapped') return classifyIPv4(v6.toIPv4Address());
  if (CARRIES_IPV4.has(range)) {
    const bytes = v6.toByteArray();
    const embedded = new ipaddr.IPv4(range === '6to4' ? bytes.slice(2, 6) : bytes.slice(12, 16));
    return classifyIPv4(embedded) === 'public' ? 'public' : 'private';
  }
  return range === 'unicast' ? 'public' : 'private';
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
