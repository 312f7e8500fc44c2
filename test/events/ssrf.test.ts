import { describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { assertWebhookUrl, classifyAddress, type Resolver } from '../../functions/events/ssrf.ts';
import { httpPoster } from '../../functions/events/deliver.ts';
import { ArcaError } from '../../functions/shared/errors.ts';

const dnsTable: Record<string, string[]> = {
  'hooks.example.com': ['93.184.215.14'],
  'internal.example.com': ['10.1.2.3'],
  'mixed.example.com': ['93.184.215.14', '192.168.1.5'],
  'metadata.example.com': ['169.254.169.254'],
  'v6private.example.com': ['fd12::1'],
  'localhost': ['127.0.0.1', '::1'],
};
const fakeDns: Resolver = async (host) => {
  const addresses = dnsTable[host];
  if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

const strict = { allowInsecure: false };
const local = { allowInsecure: true };

async function refusal(url: string, policy = strict): Promise<ArcaError> {
  const error = await assertWebhookUrl(url, policy, fakeDns).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ArcaError);
  return error as ArcaError;
}

describe('classifyAddress', () => {
  it.each([
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.0.1', 'private'],
    ['169.254.169.254', 'private'],
    ['0.0.0.0', 'private'],
    ['100.64.0.1', 'private'],
    ['224.0.0.1', 'private'],
    ['255.255.255.255', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['::', 'private'],
    ['fc00::1', 'private'],
    ['fdff:ffff::1', 'private'],
    ['fe80::1', 'private'],
    ['fe80::1%eth0', 'private'],
    ['fd00:ec2::254', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a9fe:a9fe', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:a00:1::', 'private'],
    // Issue 13: IPv6 forms that embed or map a private IPv4, and the deprecated or tunnelling ranges.
    ['::a9fe:a9fe', 'private'], // IPv4-compatible (deprecated) metadata address
    ['::169.254.169.254', 'private'],
    ['::127.0.0.1', 'private'],
    ['::ffff:0:a9fe:a9fe', 'private'], // SIIT IPv4-translated
    ['::ffff:0:127.0.0.1', 'private'],
    ['64:ff9b:1::a9fe:a9fe', 'private'], // local-use NAT64 (RFC 8215)
    ['64:ff9b::a9fe:a9fe', 'private'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'private'], // Teredo
    ['2001::1', 'private'],
    ['fec0::1', 'private'], // site-local (deprecated)
    ['2002:a9fe:a9fe::1', 'private'], // 6to4 embedding the metadata address
    ['2002:c0a8:101::1', 'private'], // 6to4 embedding 192.168.1.1
    ['2002:7f00:1::', 'private'], // 6to4 embedding loopback
    ['100::1', 'private'], // discard-only
    ['2001:db8::1', 'private'], // documentation
    ['198.51.100.7', 'private'], // documentation (TEST-NET-2)
    ['93.184.215.14', 'public'],
    ['8.8.8.8', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['not-an-ip', 'private'],
  ])('%s is %s', (address, verdict) => {
    expect(classifyAddress(address)).toBe(verdict);
  });
});

describe('assertWebhookUrl', () => {
  it.each([
    'https://10.0.0.1/hook',
    'https://169.254.169.254/latest/meta-data/',
    'https://127.0.0.1/hook',
    'https://[::1]/hook',
    'https://[fe80::1]/hook',
    'https://[::ffff:10.0.0.1]/hook',
    'https://[::a9fe:a9fe]/latest/meta-data/',
    'https://[::169.254.169.254]/latest/meta-data/',
    'https://[::127.0.0.1]/hook',
    'https://[::ffff:0:a9fe:a9fe]/hook',
    'https://[64:ff9b:1::a9fe:a9fe]/hook',
    'https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook',
    'https://[fec0::1]/hook',
    'https://[2002:a9fe:a9fe::1]/hook',
    'https://internal.example.com/hook',
    'https://mixed.example.com/hook',
    'https://metadata.example.com/hook',
    'https://v6private.example.com/hook',
    'https://localhost/hook',
    'https://nowhere.example.com/hook',
    'http://hooks.example.com/hook',
    'ftp://hooks.example.com/hook',
    'https://user:pw@hooks.example.com/hook',
    'not a url',
  ])('refuses %s with a 400 ValidationError naming the url field', async (url) => {
    const error = await refusal(url);
    expect(error.code).toBe('ValidationError');
    expect(error.status).toBe(400);
    expect(error.details).toEqual({ field: 'url' });
  });

  it('accepts a public https URL and returns it normalized', async () => {
    await expect(assertWebhookUrl('https://HOOKS.example.com/a?b=1', strict, fakeDns)).resolves.toBe('https://hooks.example.com/a?b=1');
  });

  it('in local mode allows http and loopback, still not private ranges', async () => {
    await expect(assertWebhookUrl('http://127.0.0.1:9999/hook', local, fakeDns)).resolves.toBe('http://127.0.0.1:9999/hook');
    await expect(assertWebhookUrl('http://localhost:9999/hook', local, fakeDns)).resolves.toBe('http://localhost:9999/hook');
    await expect(assertWebhookUrl('http://[::1]:9999/hook', local, fakeDns)).resolves.toBe('http://[::1]:9999/hook');
    expect((await refusal('http://10.0.0.1/hook', local)).code).toBe('ValidationError');
    expect((await refusal('http://internal.example.com/hook', local)).code).toBe('ValidationError');
  });
});

describe('delivery connections (DNS rebinding)', () => {
  it('refuses to connect when the name now resolves to a private address, even if it was fine at registration', async () => {
    let hits = 0;
    const server = http.createServer((_req, res) => {
      hits += 1;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const rebinding: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
      const post = httpPoster(strict, rebinding);
      const result = await post(`https://rebind.example.com:${port}/hook`, '{}', {});
      expect(result.statusCode).toBeUndefined();
      expect(result.error).toMatch(/non-public address \(127\.0\.0\.1\)/);
      // The same resolution through local mode's policy connects (http, loopback allowed).
      const allowed = await httpPoster(local, rebinding)(`http://rebind.example.com:${port}/hook`, '{}', {});
      expect(allowed).toEqual({ statusCode: 200 });
      expect(hits).toBe(1);
    } finally {
      server.close();
    }
  });
});
