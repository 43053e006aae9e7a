/**
 * The text of a paging cursor, shared by `query()` and `listFlows()`: a JSON
 * array as unpadded base64url, so it travels in a URL or a CLI argument
 * unchanged and says nothing a caller should rely on.
 *
 * @module
 */

/**
 * Writes `values` as a cursor's text.
 *
 * @example Round trip
 * ```ts
 * import { cursorText, cursorValues } from "./cursor_text.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(cursorValues(cursorText([1, "é", "f"])), [1, "é", "f"]);
 * assert.equal(cursorValues("not base64 json"), null);
 * ```
 */
export function cursorText(values: readonly unknown[]): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(JSON.stringify(values))) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Reads a cursor's text back: its values, or null when it is not one. */
export function cursorValues(text: string): unknown {
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
  } catch {
    return null;
  }
}
