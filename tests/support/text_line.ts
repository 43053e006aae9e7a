/**
 * A reader of the console text format, for tests: splits one line into its
 * event name and key/value tokens, decoding quoted tokens with `JSON.parse`.
 * Throws on anything the format does not produce.
 *
 * @module
 */

function token(line: string, pos: number, stops: string): [string, number] {
  if (line[pos] === '"') {
    let i = pos + 1;
    while (i < line.length && line[i] !== '"') i += line[i] === "\\" ? 2 : 1;
    if (i >= line.length) throw new Error(`Unterminated quoted token at ${pos}: ${line}`);
    return [JSON.parse(line.slice(pos, i + 1)) as string, i + 1];
  }
  let i = pos;
  while (i < line.length && !stops.includes(line[i]!)) i++;
  if (i === pos) throw new Error(`Empty token at ${pos}: ${line}`);
  return [line.slice(pos, i), i];
}

/** `[event, [[key, valueText], ...]]` of one text line. */
export function parseTextLine(line: string): [string, [string, string][]] {
  const [event, after] = token(line, 0, " ");
  const pairs: [string, string][] = [];
  let pos = after;
  while (pos < line.length) {
    if (line[pos] !== " ") throw new Error(`Expected a space at ${pos}: ${line}`);
    const [key, k] = token(line, pos + 1, "= ");
    if (line[k] !== "=") throw new Error(`Expected = at ${k}: ${line}`);
    const [value, v] = token(line, k + 1, " ");
    pairs.push([key, value]);
    pos = v;
  }
  return [event, pairs];
}
