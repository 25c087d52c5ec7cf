// The SSRF guard: endpoints must be public (and https in production), checked at registration and
// again at delivery after DNS; WEBHOOKS_ALLOW_PRIVATE=1 lets private addresses through.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { postJson } from '../../src/webhooks/post.ts';
import { checkEndpointUrl, isPublicAddress, UnsafeUrlError } from '../../src/webhooks/ssrf.ts';

const strict = { allowPrivate: false, httpsOnly: true };
const open = { allowPrivate: true, httpsOnly: false };
const resolvesTo =
  (...addresses: string[]) =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('isPublicAddress', () => {
  it.each([
    ['127.0.0.1', false],
    ['127.1.2.3', false],
    ['10.0.0.5', false],
    ['172.16.0.1', false],
    ['172.31.255.255', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false], // cloud metadata
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['224.0.0.1', false],
    ['255.255.255.255', false],
    ['::1', false],
    ['::', false],
    ['fe80::1', false],
    ['fc00::1', false],
    ['fd12:3456::1', false],
    ['::ffff:127.0.0.1', false], // IPv4-mapped loopback
    ['::ffff:7f00:1', false], // the same, in hex
    ['::ffff:10.1.2.3', false],
    ['::ffff:169.254.169.254', false],
    ['::127.0.0.1', false], // IPv4-compatible
    ['64:ff9b::7f00:1', false], // NAT64 of loopback
    ['2002:7f00:1::', false], // 6to4 of loopback
    ['[::1]', false],
    ['not-an-ip', false],
    ['8.8.8.8', true],
    ['93.184.216.34', true],
    ['172.32.0.1', true],
    ['::ffff:8.8.8.8', true],
    ['2606:4700:4700::1111', true],
  ])('%s -> %s', (ip, expected) => {
    expect(isPublicAddress(ip)).toBe(expected);
  });
});

describe('checkEndpointUrl (registration)', () => {
  it('refuses private, loopback, link-local and mapped addresses, literal or resolved', async () => {
    for (const url of [
      'https://127.0.0.1/hook',
      'https://[::1]/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://10.0.0.1/',
    ])
      await expect(checkEndpointUrl(url, strict), url).rejects.toThrow(UnsafeUrlError);
    await expect(
      checkEndpointUrl('https://hooks.example.com/x', strict, resolvesTo('192.168.0.10')),
    ).rejects.toThrow(/resolves to 192\.168\.0\.10/);
    // One bad address among good ones is enough to refuse.
    await expect(
      checkEndpointUrl('https://hooks.example.com/x', strict, resolvesTo('8.8.8.8', 'fe80::1')),
    ).rejects.toThrow(/fe80::1/);
    await expect(
      checkEndpointUrl('https://hooks.example.com/x', strict, resolvesTo('::ffff:10.0.0.1')),
    ).rejects.toThrow(UnsafeUrlError);
  });

  it('accepts a public https endpoint', async () => {
    const url = await checkEndpointUrl(
      'https://hooks.example.com/x',
      strict,
      resolvesTo('93.184.216.34'),
    );
    expect(url.host).toBe('hooks.example.com');
  });

  it('production wants https; no credentials in the URL; only http(s)', async () => {
    const pub = resolvesTo('93.184.216.34');
    await expect(checkEndpointUrl('http://hooks.example.com/x', strict, pub)).rejects.toThrow(
      /https/,
    );
    await expect(checkEndpointUrl('https://u:p@hooks.example.com/x', strict, pub)).rejects.toThrow(
      /user name or password/,
    );
    await expect(checkEndpointUrl('ftp://hooks.example.com/x', strict, pub)).rejects.toThrow(
      /https/,
    );
    await expect(checkEndpointUrl('not a url', strict, pub)).rejects.toThrow(/not a URL/);
  });

  it('WEBHOOKS_ALLOW_PRIVATE: private and loopback addresses and plain http are allowed', async () => {
    await expect(checkEndpointUrl('http://127.0.0.1:9/hook', open)).resolves.toBeInstanceOf(URL);
    await expect(checkEndpointUrl('http://[::1]:9/hook', open)).resolves.toBeInstanceOf(URL);
    await expect(
      checkEndpointUrl('http://hooks.example.com/x', open, resolvesTo('10.0.0.1')),
    ).resolves.toBeInstanceOf(URL);
  });
});

describe('at delivery time', () => {
  it('a name that now resolves to loopback is refused before any connection; allowed with the flag', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      // "localhost" resolves to loopback, as a rebinding name would after registration.
      const url = `http://localhost:${port}/hook`;
      const opts = { allowPrivate: false, httpsOnly: false, timeoutMs: 2000 };
      await expect(postJson(url, '{}', {}, opts)).rejects.toThrow(/not a public address/);
      await expect(postJson(`http://127.0.0.1:${port}/`, '{}', {}, opts)).rejects.toThrow(
        /not a public address/,
      );
      expect(hits).toBe(0);
      const ok = await postJson(url, '{}', {}, { ...opts, allowPrivate: true });
      expect(ok.status).toBe(200);
      expect(hits).toBe(1);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
