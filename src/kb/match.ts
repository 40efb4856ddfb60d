/**
 * The "does anything in the knowledge base match" evidence for the retrieval-only answer: the
 * rarity the best passages share with the question, in units of the rarest possible lexeme, moved
 * by how far the nearest chunk's cosine stands out from the other vector candidates'.
 */

/** A lexeme's rarity weight: held by `df` of `totalChunks` chunks. */
export const idfOf = (df: number, totalChunks: number) => Math.log(1 + (totalChunks + 1) / (df + 0.5));

/**
 * Below this `match`, nothing in the knowledge base matches: the retrieval-only answer says so
 * instead of quoting. Chosen from bench/retrieval's distribution (the 5th percentile of the
 * answerable questions, on both the hybrid and the full-text side): less than about one rare
 * lexeme's worth of shared evidence.
 */
export const MATCH_THRESHOLD = 0.8;
/** Weight of the top cosine's standing (standard deviations above the candidates' mean) in `match`. */
export const STANDOUT_WEIGHT = 0.5;
/** Standing of the nearest chunk that leaves `match` unchanged (a typical one). */
export const TYPICAL_STANDOUT = 3;

/**
 * How many standard deviations the best cosine stands above the mean of the candidates'; null with
 * fewer than `full` candidates (a small knowledge base: the figure would not compare) or no spread.
 */
export function cosineStandout(cosines: number[], full: number): number | null {
  if (cosines.length < Math.max(full, 2)) return null;
  const mean = cosines.reduce((s, c) => s + c, 0) / cosines.length;
  const sd = Math.sqrt(cosines.reduce((s, c) => s + (c - mean) ** 2, 0) / cosines.length);
  return sd > 0 ? (Math.max(...cosines) - mean) / sd : null;
}

/**
 * The "does anything match" evidence (bench/retrieval measures its separation): `covered` (the
 * rarity the best of the top passages shares with the question) in units of the rarest possible
 * lexeme's, so it does not grow or shrink with the question's length the way a share does; plus
 * STANDOUT_WEIGHT per standard deviation the nearest chunk stands out beyond a typical one.
 */
export function matchScore(covered: number, totalChunks: number, standout: number | null): number {
  const evidence = totalChunks > 0 ? covered / idfOf(1, totalChunks) : 0;
  return standout === null ? evidence : evidence + STANDOUT_WEIGHT * (standout - TYPICAL_STANDOUT);
}
