/**
 * Text PostgreSQL can store exactly as sent. A `text` or `jsonb` value cannot hold U+0000
 * (the database refuses it), and a lone UTF-16 surrogate, which JSON's "\ud800" escape can
 * produce, has no UTF-8 form: the driver would silently store U+FFFD instead. Both are refused
 * as invalid input rather than failing in, or being altered by, the database.
 */
// eslint-disable-next-line no-control-regex -- U+0000 is exactly what the database cannot store
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const UNSTORABLE_TEXT_DETAIL = 'contains a NUL character or an unpaired surrogate; send valid Unicode text';

export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

/**
 * Paths (as segment lists) of every string, or object key, in `input` that cannot be stored.
 * Iterative, with each path kept as a link to its parent, so a body nested 100,000 levels deep
 * costs linear time instead of overflowing the stack.
 */
export function unstorableTextPaths(input: unknown): string[][] {
  interface Step {
    value: unknown;
    key?: string;
    parent?: Step;
  }
  const pathOf = (step: Step): string[] => {
    const segments: string[] = [];
    for (let at: Step | undefined = step; at?.key !== undefined; at = at.parent) segments.push(at.key);
    return segments.reverse();
  };
  const found: string[][] = [];
  const pending: Step[] = [{ value: input }];
  for (let step = pending.pop(); step; step = pending.pop()) {
    if (typeof step.value === 'string') {
      if (!isStorableText(step.value)) found.push(pathOf(step));
    } else if (step.value && typeof step.value === 'object') {
      for (const [key, value] of Object.entries(step.value)) {
        const child = { value, key, parent: step };
        if (isStorableText(key)) pending.push(child);
        else found.push(pathOf(child));
      }
    }
  }
  return found;
}
