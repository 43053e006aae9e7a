import { measureOverhead } from "../src/bench/measure_overhead.ts";
const r = await measureOverhead({ seconds: Number(Deno.args[0] ?? 2), onProgress: (p) => console.error(p.index, p.label) });
console.log(JSON.stringify(r, null, 1));
