// The Authentication-Results reader (RFC 8601): which headers are trusted, how each is read, and
// the verdict for the From address.
import { describe, expect, it } from 'vitest';
import {
  aligned,
  authResultsValues,
  domainOf,
  parseAuthResults,
  senderAuth,
  senderAuthDetail,
} from '../../src/email/auth-results.ts';

const FROM = 'jane@example.com';

describe('parseAuthResults', () => {
  it('reads the authserv-id, each method, its result and its properties', () => {
    const h = parseAuthResults(
      ' mx.example.net 1; spf=pass smtp.mailfrom=jane@example.com; dkim=pass (2048-bit key) header.d=example.com header.i=@example.com header.b=abc; dmarc=pass (p=reject dis=none) header.from=example.com',
    );
    expect(h).toEqual({
      authservId: 'mx.example.net',
      results: [
        { method: 'spf', result: 'pass', props: { 'smtp.mailfrom': 'jane@example.com' } },
        {
          method: 'dkim',
          result: 'pass',
          props: { 'header.d': 'example.com', 'header.i': '@example.com', 'header.b': 'abc' },
        },
        { method: 'dmarc', result: 'pass', props: { 'header.from': 'example.com' } },
      ],
    });
  });

  it('unfolds folded lines and ignores case in names and results', () => {
    const h = parseAuthResults(
      ' MX.Example.NET;\r\n\tDKIM=Fail reason="signature did not verify"\r\n  Header.D=Example.COM;\r\n DMARC = FAIL header.from=example.com',
    );
    expect(h?.authservId).toBe('mx.example.net');
    expect(h?.results).toEqual([
      { method: 'dkim', result: 'fail', props: { 'header.d': 'Example.COM' } },
      { method: 'dmarc', result: 'fail', props: { 'header.from': 'example.com' } },
    ]);
  });

  it('drops comments (nested, with semicolons) and keeps semicolons in quoted strings', () => {
    const h = parseAuthResults(
      'mx.example.net (our relay; (really)); spf=fail (sender ip 192.0.2.1; not permitted) smtp.mailfrom=example.com; dkim=none reason="no signature; none"',
    );
    expect(h?.results).toEqual([
      { method: 'spf', result: 'fail', props: { 'smtp.mailfrom': 'example.com' } },
      { method: 'dkim', result: 'none', props: {} },
    ]);
  });

  it('reads "none" (nothing checked), a method version, and refuses an empty header', () => {
    expect(parseAuthResults('mx.example.net; none')).toEqual({
      authservId: 'mx.example.net',
      results: [],
    });
    expect(parseAuthResults('mx.example.net; dkim/1=pass header.d=example.com')?.results).toEqual([
      { method: 'dkim', result: 'pass', props: { 'header.d': 'example.com' } },
    ]);
    expect(parseAuthResults('   ')).toBeNull();
    expect(parseAuthResults('; spf=pass')).toBeNull();
  });
});

describe('domains and alignment', () => {
  it('takes the domain of an address, @domain or a bare domain', () => {
    expect(domainOf('Jane@Mail.Example.COM')).toBe('mail.example.com');
    expect(domainOf('@example.com')).toBe('example.com');
    expect(domainOf('example.com.')).toBe('example.com');
    expect(domainOf('<bounce+x=y@example.com>')).toBe('example.com');
    expect(domainOf('localhost')).toBeNull();
    expect(domainOf(null)).toBeNull();
  });

  it('aligns a domain with itself and its subdomains, never with a bare top-level domain', () => {
    expect(aligned('example.com', 'example.com')).toBe(true);
    expect(aligned('mail.example.com', 'example.com')).toBe(true);
    expect(aligned('example.com', 'news.example.com')).toBe(true);
    expect(aligned('example.net', 'example.com')).toBe(false);
    expect(aligned('badexample.com', 'example.com')).toBe(false);
    expect(aligned('com', 'example.com')).toBe(false);
    expect(aligned(null, 'example.com')).toBe(false);
  });
});

describe('senderAuth: the verdict', () => {
  const verdict = (values: string[], authserv?: string) => senderAuth(values, FROM, authserv);

  it('pass: DMARC pass, or DKIM / SPF pass aligned with the From domain', () => {
    expect(verdict(['mx.example.net; dmarc=pass header.from=example.com'])).toBe('pass');
    expect(verdict(['mx.example.net; dkim=pass header.d=example.com'])).toBe('pass');
    expect(verdict(['mx.example.net; dkim=pass header.i=jane@mail.example.com'])).toBe('pass');
    expect(verdict(['mx.example.net; spf=pass smtp.mailfrom=bounce@example.com'])).toBe('pass');
  });

  it('none: passes for another domain, no result, or only soft results', () => {
    expect(verdict([])).toBe('none');
    expect(verdict(['mx.example.net; none'])).toBe('none');
    expect(verdict(['mx.example.net; dkim=pass header.d=mailer.example.net'])).toBe('none');
    expect(verdict(['mx.example.net; spf=pass smtp.mailfrom=x@example.net'])).toBe('none');
    // A DMARC pass for another From domain says nothing about this one.
    expect(verdict(['mx.example.net; dmarc=pass header.from=example.net'])).toBe('none');
    expect(verdict(['mx.example.net; spf=softfail; dkim=neutral; dmarc=none'])).toBe('none');
    // One failure alone is not a verdict: a forwarder breaks SPF, a list breaks DKIM.
    expect(verdict(['mx.example.net; spf=fail smtp.mailfrom=example.com'])).toBe('none');
    expect(verdict(['mx.example.net; dkim=fail header.d=example.com'])).toBe('none');
  });

  it('fail: DMARC fail, or DKIM and SPF both failing outright', () => {
    expect(verdict(['mx.example.com; dmarc=fail (p=none dis=none) header.from=example.com'])).toBe(
      'fail',
    );
    expect(
      verdict([
        'mx.example.net; spf=fail smtp.mailfrom=example.com; dkim=fail header.d=example.com',
      ]),
    ).toBe('fail');
    // DMARC fail outweighs an aligned DKIM pass next to it.
    expect(
      verdict([
        'mx.example.net; dkim=pass header.d=example.com; dmarc=fail header.from=example.com',
      ]),
    ).toBe('fail');
    // Both failed, but DKIM also passed with another signature of the From domain: pass.
    expect(
      verdict([
        'mx.example.net; spf=fail smtp.mailfrom=example.com; dkim=fail header.d=example.com; dkim=pass header.d=example.com',
      ]),
    ).toBe('pass');
  });

  it('without INBOUND_AUTHSERV_ID trusts only the first (topmost) header', () => {
    // Our relay prepended its own fail; the sender's own "pass" further down counts for nothing.
    expect(
      verdict([
        'mx.example.net; dmarc=fail header.from=example.com',
        'mx.example.net; dmarc=pass header.from=example.com',
      ]),
    ).toBe('fail');
    expect(
      verdict([
        'mx.example.net; dmarc=pass header.from=example.com',
        'elsewhere.example.org; dmarc=fail header.from=example.com',
      ]),
    ).toBe('pass');
  });

  it('with INBOUND_AUTHSERV_ID ignores every other authserv-id', () => {
    const values = [
      'mx.attacker.example; dmarc=pass header.from=example.com',
      'MX.Example.NET; dkim=fail header.d=example.com',
      'relay.example.org; dmarc=fail header.from=example.com',
      'mx.example.net; spf=fail smtp.mailfrom=example.com',
    ];
    // Ours (in two headers, as separate milters write them): DKIM and SPF both failed.
    expect(verdict(values, 'mx.example.net')).toBe('fail');
    expect(senderAuthDetail(values, FROM, 'mx.example.net').trusted).toEqual([
      'mx.example.net',
      'mx.example.net',
    ]);
    // Our id on none of them: the mail did not come through our MX, whatever the others claim.
    expect(verdict(values, 'mx.unknown.example')).toBe('fail');
    // Without INBOUND_AUTHSERV_ID and without any header: no verdict.
    expect(verdict([], undefined)).toBe('none');
    // A forged header claiming our id can make a mail worse, never better.
    expect(
      verdict(
        [
          'mx.example.net; dmarc=pass header.from=example.com',
          'mx.example.net; dmarc=fail header.from=example.com',
        ],
        'mx.example.net',
      ),
    ).toBe('fail');
  });

  it('explains the verdict: results, domains and alignment', () => {
    const d = senderAuthDetail(
      ['mx.example.net; spf=pass smtp.mailfrom=example.net; dkim=pass header.d=example.com'],
      FROM,
    );
    expect(d).toMatchObject({
      verdict: 'pass',
      aligned: true,
      dmarc: null,
      dkim: [{ result: 'pass', domain: 'example.com', aligned: true }],
      spf: { result: 'pass', domain: 'example.net', aligned: false },
    });
  });
});

describe('authResultsValues', () => {
  it('takes the Authentication-Results lines of a parsed mail, in order, without the name', () => {
    const values = authResultsValues([
      { key: 'received', line: 'Received: from x' },
      { key: 'authentication-results', line: 'Authentication-Results: mx.example.net; spf=pass' },
      { key: 'arc-authentication-results', line: 'ARC-Authentication-Results: i=1; a; dmarc=pass' },
      { key: 'authentication-results', line: 'AUTHENTICATION-RESULTS: b;\r\n\tdkim=fail' },
    ]);
    expect(values).toEqual([' mx.example.net; spf=pass', ' b;\r\n\tdkim=fail']);
  });
});
