/**
 * A seeded generator (mulberry32) of numbers in [0, 1), so a test draws the
 * same values on every run.
 *
 * @module
 */

/** A generator of numbers in [0, 1) from `seed`. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A log-normal draw: e^(mu + sigma·z), z standard normal (Box–Muller). */
export function logNormal(next: () => number, mu: number, sigma: number): number {
  const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return Math.exp(mu + sigma * z);
}
