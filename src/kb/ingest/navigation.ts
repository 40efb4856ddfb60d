/**
 * Navigation pages — tables of contents, indexes, lists of figures — recognised from a chunk's
 * text: dotted leaders, or a "Contents"/"Index" heading over text that is mostly page numbers.
 * Pure.
 */

/** A run of dotted (or middle-dot) leaders: "....", ". . . .", "····", "……". */
const LEADER = /(?:\.\s?){4,}|(?:·\s?){4,}|…{2,}/g;
/** A heading that names a navigation page, at the start of the text or its section. */
const HEADING = /^\s*(?:\d+[.)]?\s*)?(?:(?:table of )?contents|index|list of (?:figures|tables|illustrations))\b/i;
/** A bare page number (or roman numeral, or a range). */
const PAGE_NUMBER = /^(?:\d{1,4}(?:[-–]\d{1,4})?|[ivxlc]{1,6})[,;.]?$/i;

/** Leader runs that make a chunk navigation on their own. */
const MIN_LEADERS = 3;
/** Under a navigation heading: page numbers among the words, and at least this many of them. */
const MIN_NUMBER_SHARE = 0.15;
const MIN_NUMBERS = 5;

export function isNavigation(content: string, section: string | null = null): boolean {
  if ((content.match(LEADER) ?? []).length >= MIN_LEADERS) return true;
  if (!HEADING.test(content) && !(section && HEADING.test(section))) return false;
  const words = content.split(/\s+/).filter(Boolean);
  const numbers = words.filter((w) => PAGE_NUMBER.test(w)).length;
  return numbers >= MIN_NUMBERS && numbers / words.length >= MIN_NUMBER_SHARE;
}
