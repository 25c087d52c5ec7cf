// Control characters in input. PostgreSQL cannot store NUL in a text column, and no field we take
// has a use for the other C0 controls, so input that carries one is refused at the edge as bad
// input (HTTP 400, SMTP 5xx: src/http/input.ts, src/email/inbound-smtp.ts), never stored. Two
// kinds of field: a line (addresses, ids, tokens, names, subjects, query and path values), where
// only a tab may appear, and free text (message bodies, notes), which may also hold line breaks.
// DEL counts as a control too.

export type FieldKind = 'line' | 'text';

// Matching control characters is the point here, so the lint rule against them is off.
/* eslint-disable no-control-regex */
const CONTROL: Record<FieldKind, RegExp> = {
  line: /[\u0000-\u0008\u000A-\u001F\u007F]/,
  text: /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/,
};
/* eslint-enable no-control-regex */
const CONTROL_ALL: Record<FieldKind, RegExp> = {
  line: new RegExp(CONTROL.line.source, 'g'),
  text: new RegExp(CONTROL.text.source, 'g'),
};

/** Whether a string holds a control character that this kind of field may not. */
export function hasControlChars(value: string, kind: FieldKind = 'line'): boolean {
  return CONTROL[kind].test(value);
}

/** The string without the control characters this kind of field may not hold (for the one place
 * that keeps such input rather than refusing it: a person's SMS, which cannot bounce). */
export function withoutControlChars(value: string, kind: FieldKind = 'text'): string {
  return value.replace(CONTROL_ALL[kind], '');
}

/**
 * The first place in a parsed value (a string, or objects and arrays of them, as a JSON or form
 * body parses) that holds a control character it may not: `$` for the value itself, `$.a[2].b`
 * below it. Keys are lines, string values are of `kind`. Null when there is none. The walk is
 * iterative, so deep JSON cannot overflow the stack.
 */
export function findControlChars(value: unknown, kind: FieldKind = 'line'): string | null {
  const stack: [unknown, string][] = [[value, '$']];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (hasControlChars(v, kind)) return path;
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push([item, `${path}[${i}]`]));
    } else if (v && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        const at = `${path}.${k.slice(0, 40).replace(CONTROL_ALL.line, '?')}`;
        if (hasControlChars(k, 'line')) return at;
        stack.push([item, at]);
      }
    }
  }
  return null;
}
