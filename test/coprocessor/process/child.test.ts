import { expect } from "chai";
import { createServer } from "node:net";
import { runChild, startChild, stopChild } from "@ciphershare/coprocessor/process/child";
import { freeLoopbackPort } from "@ciphershare/coprocessor/process/ports";

const node = (script: string) => [process.execPath, ["-e", script]] as const;

describe("process: child processes and ports, one way for every caller", () => {
  it("runs a child to its end: output by stream, exit code, and the last stdout line as JSON", async () => {
    const run = await runChild(
      ...node(
        `console.log("progress"); console.error("warning"); console.log(JSON.stringify({ done: 1 })); process.exitCode = 3;`,
      ),
    );
    expect(run.code).to.equal(3);
    expect(run.stdout).to.equal('progress\n{"done":1}\n');
    expect(run.stderr).to.equal("warning\n");
    expect(run.json).to.deep.equal({ done: 1 });
    expect((await runChild(...node(`console.log("not json")`))).json).to.equal(undefined);
  });

  it("streams lines as they come, the unterminated last one included", async () => {
    const lines: string[] = [];
    const child = startChild(
      ...node(`process.stdout.write("a\\nb"); setTimeout(() => process.stdout.write("c\\nd"), 50);`),
      {
        onLine: (line, stream) => lines.push(`${stream}:${line}`),
      },
    );
    expect(await child.exited).to.deep.equal({ code: 0, signal: null });
    expect(lines).to.deep.equal(["stdout:a", "stdout:bc", "stdout:d"]);
  });

  it("stops with SIGTERM, and with SIGKILL a child that ignores it once the grace period is over", async () => {
    const polite = startChild(...node(`setInterval(() => {}, 1000);`));
    await polite.stop();
    expect(await polite.exited).to.deep.equal({ code: null, signal: "SIGTERM" });
    const stubborn = startChild(
      ...node(
        `process.on("SIGTERM", () => console.log("ignored")); console.log("ready"); setInterval(() => {}, 1000);`,
      ),
      { onLine: (line) => line === "ready" && void stopChild(stubborn.child, 200) },
    );
    expect((await stubborn.exited).signal).to.equal("SIGKILL");
  });

  it("finds a free loopback port that can then be bound", async () => {
    const port = await freeLoopbackPort();
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
