import { describe, expect, it } from 'vitest';
import { stripQuotedReply } from '../../src/core/email-reply.ts';

const CHECKIN = 'How was your week? Reply 1-5, or STOP to end.';

describe('stripQuotedReply', () => {
  it.each([
    [
      'Gmail, top-posted',
      `4 this week. Thanks!\n\nOn Mon, Mar 3, 2026 at 9:00 AM Steady <hello@example.com> wrote:\n> ${CHECKIN}\n> Steady`,
      '4 this week. Thanks!',
    ],
    [
      'Gmail header wrapped over two lines',
      `3, it was ok\n\nOn Mon, Mar 3, 2026 at 9:00 AM Steady <\nhello@example.com> wrote:\n\n> ${CHECKIN}`,
      '3, it was ok',
    ],
    [
      'the last line written right above the header is kept (not taken for a wrapped header)',
      `4\nhe reads my mail before I do\nOn Mon, Mar 3, 2026 at 9:00 AM Steady <hello@example.com> wrote:\n> ${CHECKIN}`,
      '4\nhe reads my mail before I do',
    ],
    [
      'Apple Mail, quoted with ">"',
      `Good week\n\nOn Mar 3, 2026, at 09:00, Steady <hello@example.com> wrote:\n\n> ${CHECKIN}`,
      'Good week',
    ],
    [
      'Apple Mail, old message not quoted with ">"',
      `Good week\n\nOn Mar 3, 2026, at 09:00, Steady <hello@example.com> wrote:\n\n${CHECKIN}`,
      'Good week',
    ],
    [
      'Spanish Gmail',
      `Hola, 4.\n\nEl lun, 3 mar 2026 a las 9:00, Steady (<hola@example.com>) escribió:\n> ¿Cómo fue tu semana?`,
      'Hola, 4.',
    ],
    [
      'Outlook "Original Message"',
      `2\n\n-----Original Message-----\nFrom: Steady <hello@example.com>\nSent: Monday, March 3, 2026 9:00 AM\nTo: me@example.com\nSubject: Check-in\n\n${CHECKIN}`,
      '2',
    ],
    [
      'Outlook From/Sent/To/Subject block',
      `5, great\n\n________________________________\nFrom: Steady <hello@example.com>\nSent: Monday, March 3, 2026 9:00 AM\nTo: me@example.com\nSubject: Check-in\n\n${CHECKIN}`,
      '5, great',
    ],
    [
      'Outlook block without a rule line',
      `fine\nFrom: Steady <hello@example.com>\nDate: Monday, March 3, 2026\nSubject: Check-in\n${CHECKIN}`,
      'fine',
    ],
    [
      'Spanish Outlook block',
      `bien\n\nDe: Steady <hola@example.com>\nEnviado: lunes, 3 de marzo de 2026 9:00\nPara: yo@example.com\nAsunto: Semana\n\n¿Cómo fue tu semana?`,
      'bien',
    ],
    ['bottom-posted reply', `> ${CHECKIN}\n> Steady\n\n3, it was ok`, '3, it was ok'],
    [
      'interleaved answers',
      `> Q1: how was your week?\n4\n> Q2: anything else?\nhe reads my email so please only text`,
      '4\nhe reads my email so please only text',
    ],
    ['"-- " signature', `STOP\n\n-- \nAna Pérez\n555-1234`, 'STOP'],
    ['Sent from my iPhone', `Fine\n\nSent from my iPhone`, 'Fine'],
    ['Enviado desde mi iPhone', `Bien\n\nEnviado desde mi iPhone`, 'Bien'],
    ['Get Outlook for iOS', `ok\n\nGet Outlook for iOS`, 'ok'],
    [
      'a sign-off is not a signature: what follows it is kept',
      `Rough week.\n\nCheers,\nAna\n\nhe took my phone again`,
      'Rough week.\n\nCheers,\nAna\n\nhe took my phone again',
    ],
    [
      'a person writing "On ... wrote:" without a date is not a header',
      `On Monday he wrote: you're dead\nand I believe him`,
      `On Monday he wrote: you're dead\nand I believe him`,
    ],
    [
      'French header (via email-reply-parser)',
      `Ça va, 4.\n\nLe lun. 3 mars 2026 à 09:00, Steady <hello@example.com> a écrit :\n> Comment était ta semaine ?`,
      'Ça va, 4.',
    ],
    [
      'CRLF line endings',
      `4\r\n\r\nOn Mon, Mar 3, 2026 at 9:00 AM Steady <h@example.com> wrote:\r\n> hi`,
      '4',
    ],
    ['plain reply', 'just a plain reply\nover two lines', 'just a plain reply\nover two lines'],
    ['only quoted text', `> ${CHECKIN}`, ''],
  ])('%s', (_name, email, expected) => {
    expect(stripQuotedReply(email)).toBe(expected);
  });
});
