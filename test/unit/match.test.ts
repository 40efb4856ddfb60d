/** The "does anything match" evidence: shared rarity in units of the rarest lexeme, moved by how far the nearest chunk stands out. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cosineStandout, matchScore, MATCH_THRESHOLD, STANDOUT_WEIGHT, TYPICAL_STANDOUT } from '../../src/kb/match.js';

const rarest = (chunks: number) => Math.log(1 + (chunks + 1) / 1.5);

test('sharing one lexeme found in a single chunk is one unit of evidence, whatever the corpus size or question length', () => {
  for (const chunks of [10, 1000, 100_000]) assert.ok(Math.abs(matchScore(rarest(chunks), chunks, null) - 1) < 1e-9);
  assert.ok(Math.abs(matchScore(2 * rarest(500), 500, null) - 2) < 1e-9);
  assert.equal(matchScore(0, 500, null), 0);
  assert.equal(matchScore(3, 0, null), 0, 'an empty knowledge base matches nothing');
  assert.ok(MATCH_THRESHOLD > 0 && MATCH_THRESHOLD < 1, 'a single rare shared lexeme is enough');
});

test('a nearest chunk that stands out more than a typical one adds evidence, one that does not takes some away', () => {
  const base = matchScore(rarest(500), 500, null);
  assert.equal(matchScore(rarest(500), 500, TYPICAL_STANDOUT), base);
  assert.ok(Math.abs(matchScore(rarest(500), 500, TYPICAL_STANDOUT + 2) - (base + 2 * STANDOUT_WEIGHT)) < 1e-9);
  assert.ok(matchScore(rarest(500), 500, TYPICAL_STANDOUT - 1) < base);
});

test('the standout is the best cosine in standard deviations above the candidates mean, null when it cannot be told', () => {
  assert.equal(cosineStandout([0.9, 0.1, 0.1, 0.1], 5), null, 'fewer candidates than a full list: a small knowledge base');
  assert.equal(cosineStandout([0.3, 0.3, 0.3, 0.3, 0.3], 5), null, 'no spread');
  const z = cosineStandout([0.9, 0.1, 0.1, 0.1, 0.1], 5)!;
  assert.ok(Math.abs(z - 2) < 1e-9, String(z));
});
