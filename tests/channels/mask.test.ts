// Masks must not be readable back: a phone keeps its country code and at most its last two digits,
// an address its first letter, its domain's first letter and top-level domain.
import { describe, expect, it } from 'vitest';
import { maskEmail, maskPhone } from '../../src/channels/mask.ts';

describe('maskPhone', () => {
  it.each([
    ['+12025550123', '+1*******23'],
    ['+447700900123', '+44*******23'],
    ['+33612345678', '+33*******78'],
    ['+4915123456789', '+49*******89'],
    ['+5215512345678', '+52*******78'],
    ['+61412345678', '+61*******78'],
    ['+3545551234', '+354*******34'],
    ['+3312345', '+33*******'],
    ['(202) 555-0123', '*******23'],
    ['+123', '***'],
    ['', '***'],
  ])('%s -> %s', (input, masked) => {
    expect(maskPhone(input)).toBe(masked);
  });

  // Numbers of several countries and lengths (E.164 national numbers of 5 to 14 digits).
  const NUMBERS: [country: string, cc: string, national: string][] = [
    ['US', '1', '2025550123'],
    ['CA', '1', '4165550199'],
    ['GB', '44', '7700900123'],
    ['FR', '33', '612345678'],
    ['DE', '49', '15123456789'],
    ['DE landline', '49', '301234567'],
    ['MX', '52', '5512345678'],
    ['BR', '55', '11912345678'],
    ['IN', '91', '9812345678'],
    ['CN', '86', '13812345678'],
    ['AU', '61', '412345678'],
    ['IS', '354', '5551234'],
    ['NU', '683', '1234'],
    ['AT long', '43', '66412345678901'],
  ];

  it.each(NUMBERS)(
    '%s: shows the country code and at most 4 (here 2) digits of the national number',
    (_country, cc, national) => {
      const masked = maskPhone(`+${cc}${national}`);
      expect(masked.startsWith(`+${cc}*`)).toBe(true);
      const shown = masked.slice(1 + cc.length).replace(/\D/g, '');
      expect(shown.length).toBeLessThanOrEqual(2);
      expect(national.endsWith(shown)).toBe(true);
      // The same mask whatever the format, and its width does not tell the number's length.
      expect(maskPhone(`+${cc} ${national.slice(0, 3)} ${national.slice(3)}`)).toBe(masked);
      expect(masked.length).toBe(1 + cc.length + 7 + shown.length);
    },
  );

  it('never shows more than 4 digits of any number, E.164 or not', () => {
    for (let len = 0; len <= 16; len++) {
      const digits = '98765432109876543'.slice(0, len);
      for (const input of [`+${digits}`, digits, `+1${digits}`, `+44 ${digits}`]) {
        const cc = input.startsWith('+44') ? 2 : input.startsWith('+1') ? 1 : 0;
        const shown = maskPhone(input).replace(/\D/g, '').length;
        expect(shown - cc, input).toBeLessThanOrEqual(4);
      }
    }
  });
});

describe('maskEmail', () => {
  it.each([
    ['jane.doe@example.com', 'j***@e***.com'],
    ['Jane Doe <jane.doe@example.com>', 'j***@e***.com'],
    ['x@y.org', 'x***@y***.org'],
    ['m@mail.example.co.uk', 'm***@m***.uk'],
    ['someone@localhost', 's***@l***'],
    ['not-an-address', '***'],
    ['', '***'],
  ])('%s -> %s', (input, masked) => {
    expect(maskEmail(input)).toBe(masked);
  });

  it('keeps neither the local part nor the domain name', () => {
    const masked = maskEmail('maria.lopez@proton-example.net');
    expect(masked).toBe('m***@p***.net');
    expect(masked).not.toMatch(/aria|lopez|roton/);
  });
});
