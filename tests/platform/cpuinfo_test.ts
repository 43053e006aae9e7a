/** `cpuModelOf()` reads the CPU model from /proc/cpuinfo as each architecture writes it. */
import assert from "node:assert/strict";
import { cpuModelOf } from "../../src/platform/_cpuinfo.ts";

Deno.test("cpuModelOf() reads the model name of x86 and of most ARM kernels", () => {
  const x86 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 1\n" +
    "model name\t: AMD EPYC 7B13\nflags\t\t: fpu\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n";
  assert.equal(cpuModelOf(x86), "AMD EPYC 7B13");
});

Deno.test("cpuModelOf() names a Raspberry Pi by its board, whose cores have no model name", () => {
  const pi = "processor\t: 0\nBogoMIPS\t: 108.00\nCPU implementer\t: 0x41\nCPU part\t: 0xd08\n\n" +
    "Hardware\t: BCM2835\nRevision\t: c03114\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n";
  assert.equal(cpuModelOf(pi), "Raspberry Pi 4 Model B Rev 1.4");
  assert.equal(cpuModelOf("processor\t: 0\nHardware\t: Qualcomm SDM845\n"), "Qualcomm SDM845");
  assert.equal(
    cpuModelOf("processor\t: 0\ncpu\t\t: POWER9 (raw), altivec supported\n"),
    "POWER9 (raw), altivec supported",
  );
});

Deno.test("cpuModelOf() returns null when no line names a model", () => {
  assert.equal(cpuModelOf(""), null);
  assert.equal(cpuModelOf("processor\t: 0\nCPU part\t: 0xd08\nmodel name\t:\n"), null);
});
