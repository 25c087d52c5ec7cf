// Table tests for reading bounces and complaints, on samples shaped like what Postfix, Exim,
// Gmail, Exchange Online and a Yahoo-style feedback loop send (written for these tests).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addressOf, looksLikeReport, readReport, type MailReport } from '../../src/email/dsn.ts';
import { parseMime } from '../../src/email/mime.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n');

const cases: [string, MailReport | null][] = [
  [
    'postfix-hard.eml',
    {
      kind: 'bounce',
      recipients: [{ address: 'gone@example.org', severity: 'hard', status: '5.1.1' }],
      originalMessageId: '<0b6f0c5e-3f4a-4d1e-9a53-1c2d3e4f5a6b@steady.example.com>',
    },
  ],
  [
    'postfix-delayed.eml',
    {
      kind: 'bounce',
      recipients: [{ address: 'full@example.org', severity: 'soft', status: '4.2.2' }],
      originalMessageId: '<5d1e2c3b-4a59-4687-8a9b-0c1d2e3f4a5b@steady.example.com>',
    },
  ],
  [
    'gmail-hard.eml',
    {
      kind: 'bounce',
      recipients: [{ address: 'someone.gone@gmail.com', severity: 'hard', status: '5.1.1' }],
      originalMessageId: '<0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f@steady.example.com>',
    },
  ],
  [
    // "failed" after days of retrying a temporary error: still a soft bounce (4.x.x).
    'exchange-expired.eml',
    {
      kind: 'bounce',
      recipients: [{ address: 'late@example.org', severity: 'soft', status: '4.4.7' }],
      originalMessageId: '<9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b@steady.example.com>',
    },
  ],
  [
    // No report part: X-Failed-Recipients, and the original message only as quoted text.
    'exim-failed.eml',
    {
      kind: 'bounce',
      recipients: [{ address: 'nobody@example.org', severity: 'hard', status: '5.1.1' }],
      originalMessageId: null,
    },
  ],
  [
    'yahoo-arf.eml',
    {
      kind: 'complaint',
      recipients: ['complainer@example.org'],
      feedbackType: 'abuse',
      originalMessageId: '<1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d@steady.example.com>',
    },
  ],
  ['arf-not-spam.eml', null],
  ['delivered.eml', null],
];

describe('readReport', () => {
  it.each(cases)('%s', (name, expected) => {
    expect(readReport(fixture(name))).toEqual(expected);
    // The same with CRLF line endings, as it comes over SMTP.
    expect(readReport(crlf(fixture(name)))).toEqual(expected);
  });

  it.each([
    [
      'a plain reply',
      'From: jane@example.org\nTo: reply+x@reply.example.com\nSubject: Re: hi\n\n4\n',
    ],
    [
      'a multipart reply',
      'Content-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain\n\nok\n--b--\n',
    ],
    ['an empty message', ''],
  ])('%s is not a report', (_name, raw) => {
    expect(readReport(raw)).toBeNull();
    expect(looksLikeReport(raw)).toBe(false);
  });

  it('recognises every sample as a report before reading it', () => {
    for (const [name] of cases) expect(looksLikeReport(fixture(name))).toBe(true);
  });

  it('prefers Original-Recipient (the address we sent to) over a forwarded Final-Recipient', () => {
    const raw = fixture('postfix-hard.eml').replace(
      'Final-Recipient: rfc822; gone@example.org',
      'Final-Recipient: rfc822; fwd@elsewhere.example',
    );
    expect(readReport(raw)).toMatchObject({ recipients: [{ address: 'gone@example.org' }] });
  });

  it('reads each recipient of a multi-recipient report, skipping delivered ones', () => {
    const raw = fixture('postfix-hard.eml').replace(
      '    rejected: User unknown\n\n--4F1A',
      '    rejected: User unknown\n\nFinal-Recipient: rfc822; ok@example.org\nAction: delivered\nStatus: 2.0.0\n\n' +
        'Final-Recipient: rfc822; busy@example.org\nAction: delayed\n\n--4F1A',
    );
    expect(readReport(raw)).toMatchObject({
      recipients: [
        { address: 'gone@example.org', severity: 'hard' },
        { address: 'busy@example.org', severity: 'soft', status: null },
      ],
    });
  });
});

describe('addressOf', () => {
  it.each([
    ['rfc822; Jane@Example.org', 'jane@example.org'],
    ['rfc822;<jane@example.org>', 'jane@example.org'],
    ['Jane Doe <jane@example.org>', 'jane@example.org'],
    ['utf-8; jane@example.org', 'jane@example.org'],
    ['rfc822; not an address', null],
    [undefined, null],
  ])('%s -> %s', (field, expected) => expect(addressOf(field)).toBe(expected));
});

describe('parseMime', () => {
  it('decodes base64 and quoted-printable parts and ignores the epilogue', () => {
    const raw = [
      'Content-Type: multipart/mixed; boundary="xyz"',
      '',
      'preamble',
      '--xyz',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('Grüße').toString('base64'),
      '--xyz',
      'Content-Type: text/plain',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'caf=C3=A9 and a soft=',
      ' break',
      '--xyz--',
      'epilogue --xyz',
    ].join('\r\n');
    const root = parseMime(raw);
    expect(root.parts.map((p) => p.body.trim())).toEqual(['Grüße', 'café and a soft break']);
  });
});
