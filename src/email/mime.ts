// Just enough MIME to read delivery reports: header fields, multipart bodies, base64 and
// quoted-printable. mailparser folds a report's machine-readable part (message/delivery-status)
// into the text body, so bounce handling reads the raw message with this instead. Pure.

export interface MimePart {
  /** Lower-cased field name -> value (first occurrence, unfolded). */
  headers: Map<string, string>;
  /** Media type, lower-cased, without parameters ("text/plain" when absent). */
  type: string;
  params: Record<string, string>;
  /** Decoded body text (for multiparts: the preamble, usually ignored). */
  body: string;
  parts: MimePart[];
}

const MAX_DEPTH = 5;
const MAX_PARTS = 20;

/** Header fields of a block (RFC 5322 folding undone). Later duplicates are ignored. */
export function parseFields(block: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!fields.has(name)) fields.set(name, line.slice(colon + 1).trim());
  }
  return fields;
}

/** `multipart/report; report-type=delivery-status; boundary="x"` -> type and parameters. */
export function parseContentType(value: string | undefined): {
  type: string;
  params: Record<string, string>;
} {
  const [type = '', ...rest] = (value ?? '').split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const key = p.slice(0, eq).trim().toLowerCase();
    params[key] = p
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
  }
  return { type: type.trim().toLowerCase() || 'text/plain', params };
}

function decodeQuotedPrintable(s: string): string {
  const bytes = s
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function decodeBody(body: string, encoding: string | undefined): string {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

/** Splits a message (or an embedded message/rfc822 part) into its headers and parts. */
export function parseMime(raw: string, depth = 0): MimePart {
  // Headers end at the first empty line; a part may start with one (no headers at all).
  const split = /^\r?\n|\r?\n\r?\n/.exec(raw);
  const head = split ? raw.slice(0, split.index) : raw;
  const rest = split ? raw.slice(split.index + split[0].length) : '';
  const headers = parseFields(head);
  const { type, params } = parseContentType(headers.get('content-type'));
  const part: MimePart = { headers, type, params, body: '', parts: [] };
  const boundary = params.boundary;
  if (type.startsWith('multipart/') && boundary && depth < MAX_DEPTH) {
    // split() with a capture group interleaves each delimiter's "--" (the closing one) or
    // undefined: [preamble, d1, part1, d2, part2, ...]. Whatever follows the closing one is epilogue.
    const pieces = rest.split(new RegExp(`^--${escapeRegExp(boundary)}(--)?[ \\t]*\\r?$`, 'm'));
    part.body = pieces[0] ?? '';
    for (let i = 1; i + 1 < pieces.length && part.parts.length < MAX_PARTS; i += 2) {
      if (pieces[i] === '--') break;
      const chunk = (pieces[i + 1] ?? '').replace(/^\r?\n/, '');
      if (chunk.trim() !== '') part.parts.push(parseMime(chunk, depth + 1));
    }
    return part;
  }
  part.body = decodeBody(rest, headers.get('content-transfer-encoding'));
  if ((type === 'message/rfc822' || type === 'message/global') && depth < MAX_DEPTH)
    part.parts.push(parseMime(part.body, depth + 1));
  return part;
}

/** Every part, depth first, the message itself included. */
export function allParts(root: MimePart): MimePart[] {
  return [root, ...root.parts.flatMap(allParts)];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
