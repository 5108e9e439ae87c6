import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";

import { FhevmClient } from "@ciphershare/coprocessor/chain/fhevmClient";
import { findProjectRoot } from "@ciphershare/coprocessor/chain/localNode";
import { RPC_URL_ENV, readNodeInfo, resolveRpcUrl } from "@ciphershare/coprocessor/chain/nodeInfo";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { descendantPids, waitUntilDead } from "./processTree";

describe("chain/nodeMain: the network role as its own process", function () {
  this.timeout(120_000);

  let directory: string;
  before(() => {
    directory = mkdtempSync(join(tmpdir(), "ciphershare-network-"));
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  it("publishes the chain in an info file other processes connect with, and tears down on SIGTERM", async () => {
    const infoFile = join(directory, "node.json");
    const projectRoot = findProjectRoot(__dirname);
    const network = spawn(
      process.execPath,
      ["--require", "tsx/cjs", join(projectRoot, "coprocessor/src/chain/nodeMain.ts"), "--info-file", infoFile],
      { cwd: projectRoot, stdio: ["ignore", "pipe", "inherit"] },
    );
    const announced = await new Promise<{ rpcUrl: string; pid: number }>((resolve, reject) => {
      let output = "";
      network.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        output += chunk;
        const line = output.split("\n").find((candidate) => candidate.startsWith("{"));
        if (line) resolve(JSON.parse(line) as { rpcUrl: string; pid: number });
      });
      network.once("exit", (code) => reject(new Error(`network process exited with ${code}: ${output}`)));
    });

    const info = readNodeInfo(infoFile);
    expect(info.rpcUrl).to.equal(announced.rpcUrl);
    expect(info.pid).to.equal(announced.pid);
    expect(resolveRpcUrl({ infoFile })).to.equal(process.env[RPC_URL_ENV] ?? info.rpcUrl);
    const client = await FhevmClient.connect(info.rpcUrl);
    expect(client.metadata.ACLAddress).to.equal(info.fhevm.ACLAddress);
    client.destroy();

    const processes = [network.pid as number, info.pid, ...descendantPids(info.pid)];
    network.kill("SIGTERM");
    expect(await waitUntilDead(processes, 10_000)).to.deep.equal([]);
    expect(existsSync(infoFile)).to.equal(false);
    expect(() => readNodeInfo(infoFile)).to.throw(InvalidInputError, /network process running/);
  });
});
