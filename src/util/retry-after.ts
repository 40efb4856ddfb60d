/** The Retry-After header of a rate-limited or unavailable service (Groq, embeddings), in milliseconds. */

/** A Retry-After header (seconds, or an HTTP date) in milliseconds; null when absent or unreadable. */
export function parseRetryAfter(raw: string | null | undefined, now = Date.now()): number | null {
  if (raw === null || raw === undefined || raw.trim() === '') return null;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}
