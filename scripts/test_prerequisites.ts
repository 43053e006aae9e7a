/**
 * What `deno task test` needs besides Deno and `node_modules`: Debian's
 * Chromium (the browser tests drive `/usr/bin/chromium`) and `promtool`
 * (package `prometheus`: the metrics tests validate with it). The test task
 * runs this first: it installs what is missing with `apt-get` (as root, or
 * through `sudo`), says so in one line on stderr, and prints nothing when
 * all is there. On a machine without `apt-get` it says what to install and
 * exits 1.
 *
 * `FLIGHTLOG_CHROMIUM` names another Chromium binary (tests/support/chromium.ts
 * uses the same variable).
 *
 * @module
 */

/** Where Debian's `chromium` package puts the browser. */
export const DEBIAN_CHROMIUM = "/usr/bin/chromium";

/** The Chromium binary the tests launch: `FLIGHTLOG_CHROMIUM`, else Debian's. */
export function chromiumPath(): string {
  return Deno.env.get("FLIGHTLOG_CHROMIUM") || DEBIAN_CHROMIUM;
}

function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && info.mode !== null && (info.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** The first executable `name` on PATH, or null. */
function onPath(name: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir !== "" && isExecutable(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return null;
}

interface Tool {
  /** What the tests call it. */
  name: string;
  /** The Debian package that provides it. */
  debian: string;
  present(): boolean;
}

const TOOLS: Tool[] = [
  { name: "Chromium", debian: "chromium", present: () => isExecutable(chromiumPath()) },
  { name: "promtool", debian: "prometheus", present: () => onPath("promtool") !== null },
];

async function apt(prefix: string[], args: string[]): Promise<void> {
  const [command, ...rest] = [...prefix, "apt-get", ...args];
  const out = await new Deno.Command(command!, {
    args: rest,
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdin: "inherit", // sudo may ask for a password
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const text = new TextDecoder();
    throw new Error(
      `${[command, ...rest].join(" ")} failed (exit code ${out.code}):\n` +
        text.decode(out.stdout) + text.decode(out.stderr),
    );
  }
}

/** Installs the missing tools; returns the exit code. */
export async function ensurePrerequisites(): Promise<number> {
  const missing = TOOLS.filter((tool) => !tool.present());
  if (missing.length === 0) return 0;
  const names = missing.map((tool) => tool.name).join(" and ");
  const packages = missing.map((tool) => tool.debian);
  const are = missing.length === 1 ? "is" : "are";
  if (onPath("apt-get") === null) {
    console.error(
      `The tests need ${names}, which ${are} missing, and apt-get is not here to install ${
        missing.length === 1 ? "it" : "them"
      }: ` +
        `install ${packages.join(" and ")} (the Debian package names) yourself` +
        (missing.some((tool) => tool.debian === "chromium")
          ? `, or point FLIGHTLOG_CHROMIUM at a Chromium binary`
          : ""),
    );
    return 1;
  }
  const prefix = Deno.uid() === 0 ? [] : ["sudo"];
  if (prefix.length > 0 && onPath("sudo") === null) {
    console.error(
      `The tests need ${names}, which ${are} missing: run the tests as root once, or install ` +
        `${packages.join(" and ")} with apt-get as root`,
    );
    return 1;
  }
  console.error(`Installing ${names} for the tests: apt-get install -y ${packages.join(" ")}`);
  try {
    await apt(prefix, ["update"]);
    await apt(prefix, ["install", "-y", ...packages]);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    return 1;
  }
  const still = missing.filter((tool) => !tool.present());
  if (still.length > 0) {
    console.error(
      `apt-get installed ${packages.join(" ")}, but ${
        still.map((tool) => tool.name).join(" and ")
      } still cannot be found: check PATH and FLIGHTLOG_CHROMIUM (${chromiumPath()})`,
    );
    return 1;
  }
  return 0;
}

if (import.meta.main) Deno.exit(await ensurePrerequisites());
