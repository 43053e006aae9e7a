/**
 * The CPU model in the text of Linux's `/proc/cpuinfo`, whose keys differ by
 * architecture. Private to `platform/deno.ts`.
 *
 * @module
 */

// x86 and most ARM kernels say "model name"; a Raspberry Pi says the board in
// "Model" (its cores have no model name), older ARM kernels "Hardware",
// MIPS "cpu model", PowerPC "cpu".
const KEYS = ["model name", "Model", "Hardware", "cpu model", "cpu"];

/** The CPU model named in `cpuinfo`, or null when it names none. */
export function cpuModelOf(cpuinfo: string): string | null {
  const found = new Map<string, string>();
  for (const line of cpuinfo.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (value !== "" && KEYS.includes(key) && !found.has(key)) found.set(key, value);
  }
  for (const key of KEYS) {
    const value = found.get(key);
    if (value !== undefined) return value;
  }
  return null;
}
