/** Neighbouring elements of a list, for code that compares each element with the one before it. */

/** Each element with the one after it, in order: [a, b], [b, c], … (none for fewer than two). */
export function adjacentPairs<T>(items: readonly T[]): [T, T][] {
  const out: [T, T][] = [];
  let previous: { value: T } | null = null;
  for (const item of items) {
    if (previous) out.push([previous.value, item]);
    previous = { value: item };
  }
  return out;
}
