// Logs and operator views must never hold a whole phone number or address: these keep just enough
// to tell two people apart while debugging (country and area code, last four digits; first letter
// and domain of an address).

/** `+12025550123` -> `+1202***0123`. Short or odd input keeps less, never the whole value. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length >= 10) return `+${digits.slice(0, 4)}***${digits.slice(-4)}`;
  if (digits.length >= 6) return `+${digits.slice(0, 2)}***${digits.slice(-2)}`;
  return '***';
}

/** `jane.doe@example.com` -> `j***@example.com`; also accepts `Jane <jane@example.com>`. */
export function maskEmail(address: string): string {
  const bracketed = /<([^<>]*)>\s*$/.exec(address);
  const addr = (bracketed?.[1] ?? address).trim();
  const at = addr.lastIndexOf('@');
  if (at < 0) return '***';
  const local = addr.slice(0, at);
  const domain = addr.slice(at + 1);
  return `${local.slice(0, 1)}***@${domain}`;
}
