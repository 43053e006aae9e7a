/**
 * scripts/test_prerequisites.ts (the first step of `deno task test`) in a
 * subprocess, with Chromium and promtool made absent by the environment
 * rather than uninstalled: `FLIGHTLOG_CHROMIUM` names a path that does not
 * exist yet, and PATH holds only a fake `apt-get` that records its calls and
 * "installs" by creating the two files.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

// The script runs with the flags `deno task test` gives it, read from deno.json.
const TASK = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)).tasks.test as string;
const RUN: string[] = (() => {
  const run = TASK.match(/\S*deno (run [^&]*scripts\/test_prerequisites\.ts)/)?.[1];
  if (run === undefined) {
    throw new Error("deno.json tasks.test does not run scripts/test_prerequisites.ts");
  }
  return run.split(" ");
})();

interface Bootstrap {
  code: number;
  stdout: string;
  stderr: string;
}

function bootstrap(env: Record<string, string>): Promise<Bootstrap> {
  return new Deno.Command(Deno.execPath(), {
    args: RUN,
    cwd: ROOT,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output().then((out) => ({
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  }));
}

/** A fake `apt-get` in `bin/`: logs each call (with DEBIAN_FRONTEND), installs on `install`. */
async function fakeApt(dir: string, options: { fail?: boolean } = {}): Promise<void> {
  await Deno.writeTextFile(
    `${dir}/bin/apt-get`,
    `#!/bin/sh
echo "$DEBIAN_FRONTEND $*" >> "${dir}/apt.log"
${options.fail ? 'echo "E: Unable to locate package chromium" >&2; exit 100' : ""}
if [ "$1" = install ]; then
  printf '#!/bin/sh\\n' > "${dir}/chromium"
  printf '#!/bin/sh\\n' > "${dir}/bin/promtool"
  /bin/chmod +x "${dir}/chromium" "${dir}/bin/promtool"
fi
`,
  );
  await Deno.chmod(`${dir}/bin/apt-get`, 0o755);
}

async function readLog(dir: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(`${dir}/apt.log`)).trim().split("\n");
  } catch {
    return [];
  }
}

async function sandbox(fn: (dir: string, env: Record<string, string>) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-prereq-" });
  try {
    await Deno.mkdir(`${dir}/bin`);
    await fn(dir, { PATH: `${dir}/bin`, FLIGHTLOG_CHROMIUM: `${dir}/chromium` });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("test_prerequisites.ts installs missing Chromium and promtool with one line, then is quiet", async () => {
  await sandbox(async (dir, env) => {
    await fakeApt(dir);
    const first = await bootstrap(env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, "");
    assert.equal(
      first.stderr,
      "Installing Chromium and promtool for the tests: apt-get install -y chromium prometheus\n",
    );
    assert.deepEqual(await readLog(dir), [
      "noninteractive update",
      "noninteractive install -y chromium prometheus",
    ]);
    // Idempotent: present now, so nothing is printed and apt-get is not called again.
    const second = await bootstrap(env);
    assert.deepEqual([second.code, second.stdout, second.stderr], [0, "", ""]);
    assert.equal((await readLog(dir)).length, 2);
  });
});

Deno.test("test_prerequisites.ts installs only what is missing", async () => {
  await sandbox(async (dir, env) => {
    await fakeApt(dir);
    await Deno.writeTextFile(`${dir}/chromium`, "#!/bin/sh\n");
    await Deno.chmod(`${dir}/chromium`, 0o755);
    const r = await bootstrap(env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "Installing promtool for the tests: apt-get install -y prometheus\n");
    assert.deepEqual(await readLog(dir), [
      "noninteractive update",
      "noninteractive install -y prometheus",
    ]);
  });
});

Deno.test("test_prerequisites.ts is silent and calls nothing when all is present", async () => {
  await sandbox(async (dir, env) => {
    await fakeApt(dir);
    for (const path of [`${dir}/chromium`, `${dir}/bin/promtool`]) {
      await Deno.writeTextFile(path, "#!/bin/sh\n");
      await Deno.chmod(path, 0o755);
    }
    const r = await bootstrap(env);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, "", ""]);
    assert.deepEqual(await readLog(dir), []);
  });
});

Deno.test("test_prerequisites.ts reports a failed apt-get with its output and exits 1", async () => {
  await sandbox(async (dir, env) => {
    await fakeApt(dir, { fail: true });
    const r = await bootstrap(env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Installing Chromium and promtool for the tests/);
    assert.match(r.stderr, /apt-get update failed \(exit code 100\):\nE: Unable to locate package/);
  });
});

Deno.test("test_prerequisites.ts without apt-get says what to install and exits 1", async () => {
  await sandbox(async (_dir, env) => {
    const r = await bootstrap(env);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^The tests need Chromium and promtool, which are missing, and apt-get is not here to install them: install chromium and prometheus/,
    );
  });
});
