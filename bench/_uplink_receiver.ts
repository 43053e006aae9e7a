/**
 * The loopback receiver of bench/uplink_throughput.ts, in its own process so
 * it does not share the uplink's thread: reads each body, answers 200, prints
 * its port, and on stdin's end prints the body bytes it read and exits.
 * Private to `bench/`.
 *
 * @module
 */
let bytes = 0;
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
  bytes += (await req.arrayBuffer()).byteLength;
  return new Response("{}", { headers: { "content-type": "application/json" } });
});
console.log(server.addr.port);
for await (const _ of Deno.stdin.readable) {
  // Runs until the parent closes stdin.
}
console.log(bytes);
await server.shutdown();
