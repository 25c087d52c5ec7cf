// Sender proof for email replies: the SPF / DKIM / DMARC verdict that the receiving mail server
// (the MX in front of the inbound SMTP listener, or the provider behind the inbound webhook) wrote
// into an `Authentication-Results` header (RFC 8601). Pure: header values and the From address in,
// a verdict out.
//
// Which headers are trusted: a sender can write any header it likes, so only those added by our
// own relay count. With INBOUND_AUTHSERV_ID set, every header whose authserv-id is that one (a relay
// that checks SPF, DKIM and DMARC in separate milters may add one each); the relay must remove any
// incoming header that claims its id. Without it, only the first (topmost) header: relays prepend
// theirs, so the topmost is the last hop's, ours. Either way a forged header can make a mail look
// worse, never better: a `fail` anywhere in what we trust outweighs a `pass`.
//
// The verdict:
//   pass  DMARC passed for the From domain, or DKIM or SPF passed for a domain aligned with it
//   fail  DMARC failed, or DKIM and SPF both failed outright (and nothing passed aligned)
//   none  no trusted header, or no usable result (neutral, softfail, temperror, none, ...)

export type SenderAuth = 'pass' | 'fail' | 'none';

export interface AuthResultInfo {
  method: string;
  result: string;
  /** Properties, lower-cased keys: `header.d`, `header.i`, `header.from`, `smtp.mailfrom`, ... */
  props: Record<string, string>;
}

export interface AuthResultsHeader {
  /** Lower-cased. */
  authservId: string;
  results: AuthResultInfo[];
}

export interface SenderAuthDetail {
  verdict: SenderAuth;
  /** The trusted headers' authserv-ids (lower-cased); empty when none was trusted. */
  trusted: string[];
  dmarc: string | null;
  dkim: { result: string; domain: string | null; aligned: boolean }[];
  spf: { result: string; domain: string | null; aligned: boolean } | null;
  /** Whether a passing result was for a domain aligned with the From address's domain. */
  aligned: boolean;
}

/** A header longer than this is not read past it (a real one is a few hundred characters). */
const MAX_HEADER = 8192;
/** At most this many headers are looked at. */
const MAX_HEADERS = 50;

/** Unfolds a header value and removes RFC 5322 comments (nested parentheses), outside quotes. */
function uncomment(value: string): string {
  const s = value.slice(0, MAX_HEADER).replace(/\r?\n(?=[ \t])/g, '');
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += c + (s[i + 1] ?? '');
      i++;
      continue;
    }
    if (depth === 0 && c === '"') quoted = !quoted;
    else if (!quoted && c === '(') {
      depth++;
      continue;
    } else if (!quoted && c === ')' && depth > 0) {
      depth--;
      if (depth === 0) out += ' ';
      continue;
    }
    if (depth === 0) out += c;
  }
  return out;
}

/** Splits on `;` outside quoted strings. */
function splitSemicolons(s: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && quoted) {
      cur += c + (s[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

const unquote = (v: string) =>
  v.startsWith('"') && v.endsWith('"') && v.length >= 2
    ? v.slice(1, -1).replace(/\\(.)/g, '$1')
    : v;

// key = value, where the key is a method (`dkim`, `auth/1`), `reason`, or `ptype.property`.
const PAIR =
  /([A-Za-z0-9_-]+(?:\/[0-9]+)?(?:\s*\.\s*[A-Za-z0-9_-]+)?)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s";]+)/g;

/** Parses one header value (without the `Authentication-Results:` name), or null if unreadable. */
export function parseAuthResults(value: string): AuthResultsHeader | null {
  const [head = '', ...rest] = splitSemicolons(uncomment(value));
  const id = /^\s*("(?:[^"\\]|\\.)*"|[^\s";]+)/.exec(head)?.[1];
  if (!id) return null;
  const results: AuthResultInfo[] = [];
  for (const part of rest) {
    if (/^\s*none\s*$/i.test(part)) continue; // "no-result": nothing was checked
    const pairs = [...part.matchAll(PAIR)];
    const first = pairs[0];
    if (!first || first.index === undefined || part.slice(0, first.index).trim() !== '') continue;
    const method = first[1]!.replace(/\/[0-9]+$/, '').toLowerCase();
    if (method.includes('.') || method === 'reason') continue;
    const props: Record<string, string> = {};
    for (const p of pairs.slice(1)) {
      const key = p[1]!.replace(/\s+/g, '').toLowerCase();
      if (key === 'reason' || !key.includes('.')) continue;
      props[key] ??= unquote(p[2]!);
    }
    results.push({ method, result: unquote(first[2]!).toLowerCase(), props });
  }
  return { authservId: unquote(id).toLowerCase(), results };
}

/** The domain of an address, `@domain` or bare domain (lower-cased, no trailing dot), or null. */
export function domainOf(value: string | null | undefined): string | null {
  if (!value) return null;
  const v = value.trim().replace(/^<|>$/g, '');
  const d = (v.includes('@') ? v.slice(v.lastIndexOf('@') + 1) : v)
    .toLowerCase()
    .replace(/\.$/, '');
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(d) ? d : null;
}

/**
 * DMARC's relaxed alignment, without the public suffix list: the same domain, or one a
 * subdomain of the other, where the shorter still has two labels or more (`mail.example.com`
 * aligns with `example.com`; nothing aligns with a bare `com`).
 */
export function aligned(a: string | null, b: string | null): boolean {
  if (!a || !b) return false;
  if (a === b) return true;
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  return short.split('.').length >= 2 && long.endsWith('.' + short);
}

/** The headers we trust, as described above. */
export function trustedHeaders(
  values: readonly string[],
  authservId: string | undefined,
): AuthResultsHeader[] {
  const parsed = values
    .slice(0, MAX_HEADERS)
    .map(parseAuthResults)
    .filter((h): h is AuthResultsHeader => h !== null);
  if (!authservId) return parsed.slice(0, 1);
  const id = authservId.trim().toLowerCase();
  return parsed.filter((h) => h.authservId === id);
}

/**
 * The verdict for a mail from `from`, given the values of its Authentication-Results headers in
 * the order they appear (topmost first) and the authserv-id we trust (undefined: the first).
 */
export function senderAuthDetail(
  values: readonly string[],
  from: string | null,
  authservId?: string,
): SenderAuthDetail {
  const headers = trustedHeaders(values, authservId);
  const fromDomain = domainOf(from);
  const all = headers.flatMap((h) => h.results);
  const of = (method: string) => all.filter((r) => r.method === method);

  // DMARC: a fail counts whatever domain it names; a pass only for the From domain.
  const dmarcs = of('dmarc');
  const dmarcFail = dmarcs.some((r) => r.result === 'fail');
  const dmarcPass = dmarcs.some(
    (r) =>
      r.result === 'pass' &&
      (!r.props['header.from'] || domainOf(r.props['header.from']) === fromDomain),
  );
  const dkim = of('dkim').map((r) => {
    const domain = domainOf(r.props['header.d'] ?? r.props['header.i']);
    return { result: r.result, domain, aligned: aligned(domain, fromDomain) };
  });
  const spfs = of('spf').map((r) => {
    const domain = domainOf(r.props['smtp.mailfrom'] ?? r.props['envelope-from']);
    return { result: r.result, domain, aligned: aligned(domain, fromDomain) };
  });
  const spfFail = spfs.some((r) => r.result === 'fail');
  const spf = spfs.find((r) => r.result === 'fail') ?? spfs[0] ?? null;
  const dkimPassAligned = dkim.some((r) => r.result === 'pass' && r.aligned);
  const spfPassAligned = !spfFail && spfs.some((r) => r.result === 'pass' && r.aligned);
  const dkimFailed =
    dkim.some((r) => r.result === 'fail') && !dkim.some((r) => r.result === 'pass');

  let verdict: SenderAuth = 'none';
  // With INBOUND_AUTHSERV_ID set, our MX stamps every mail it checked: a mail without its stamp
  // did not come through it (someone connected to the listener directly), so it is unverified.
  if (authservId && headers.length === 0) verdict = 'fail';
  else if (dmarcFail) verdict = 'fail';
  else if (dmarcPass || dkimPassAligned || spfPassAligned) verdict = 'pass';
  else if (dkimFailed && spfFail) verdict = 'fail';
  return {
    verdict,
    trusted: headers.map((h) => h.authservId),
    dmarc: dmarcFail ? 'fail' : dmarcPass ? 'pass' : (dmarcs[0]?.result ?? null),
    dkim,
    spf,
    aligned: dkimPassAligned || spfPassAligned || dmarcPass,
  };
}

export function senderAuth(
  values: readonly string[],
  from: string | null,
  authservId?: string,
): SenderAuth {
  return senderAuthDetail(values, from, authservId).verdict;
}

/** The Authentication-Results values of a parsed mail's raw header lines, topmost first. */
export function authResultsValues(headerLines: readonly { key: string; line: string }[]): string[] {
  return headerLines
    .filter((h) => h.key === 'authentication-results')
    .map((h) => h.line.slice(h.line.indexOf(':') + 1));
}
