/**
 * A fast-check arbitrary of any JS string: any sequence of UTF-16 code units,
 * so lone surrogates (high or low, at the start, in the middle, at the end)
 * and reversed pairs as well as well-formed text. `fc.string({ unit: "binary" })`
 * draws code points, which never gives a lone surrogate.
 *
 * @module
 */
import fc from "fast-check";

/** Any one UTF-16 code unit (a lone surrogate one time in 32). */
const codeUnit = fc.nat(0xffff).map((c) => String.fromCharCode(c));

/** The units that matter most, made common: lone halves, a pair, ASCII, Latin-1, a BOM, NUL. */
const edgeUnit = fc.constantFrom(
  "\ud800",
  "\udbff",
  "\udc00",
  "\udfff",
  "\u{1F680}",
  "a",
  "é",
  "\ufeff",
  "\0",
);

/** Any JS string of at most `maxLength` units (a pair counts as one unit here, two in `length`). */
export function anyString(maxLength = 40): fc.Arbitrary<string> {
  return fc.string({ unit: fc.oneof(codeUnit, edgeUnit, fc.constantFrom("x", "y")), maxLength });
}
