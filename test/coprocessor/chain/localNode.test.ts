import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { HDNodeWallet, Mnemonic } from "ethers";

import { HARDHAT_MNEMONIC, mined, type ChainReader } from "@ciphershare/coprocessor/chain/clients";
import { DecryptionRefusedError, LocalNodeError } from "@ciphershare/coprocessor/chain/errors";
import { FhevmClient, viemAccountSigner } from "@ciphershare/coprocessor/chain/fhevmClient";
import { findProjectRoot, startLocalNode, type LocalNode } from "@ciphershare/coprocessor/chain/localNode";
import type { Address } from "@ciphershare/protocol/hex";
import { connectChainProbe, type ChainProbeFixture } from "./chainProbeFixture";
import { descendantPids, isAlive, waitUntilDead } from "./processTree";

const projectRoot = findProjectRoot(__dirname);

describe("chain/localNode + fhevmClient (separate hardhat node process)", function () {
  this.timeout(120_000);

  let node: LocalNode;
  let owner: ChainProbeFixture;
  let stranger: ChainProbeFixture;
  let reader: ChainReader;
  let client: FhevmClient;
  let probe: ChainProbeFixture["probe"];
  let probeAddress: Address;
  let nodeProcesses: number[];

  before(async () => {
    node = await startLocalNode();
    nodeProcesses = [node.pid, ...descendantPids(node.pid)];
    owner = await connectChainProbe(node.rpcUrl, 0);
    probe = owner.probe;
    probeAddress = owner.probeAddress;
    stranger = await connectChainProbe(node.rpcUrl, 1, probeAddress);
    reader = owner.reader;
    // This client gets nothing but the URL, as a separate process would.
    client = await FhevmClient.connect(node.rpcUrl);
  });

  after(async () => {
    client?.destroy();
    owner?.close();
    stranger?.close();
    await node?.stop();
  });

  it("listens on loopback with chain 31337 and the fhEVM host contracts installed", async () => {
    expect(node.rpcUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(node.chainId).to.equal(31337);
    expect(client.chainId).to.equal(31337);
    expect(client.metadata.ACLAddress).to.equal(node.fhevm.ACLAddress);
    expect(await reader.getCode({ address: node.fhevm.ACLAddress })).to.not.equal(undefined);
  });

  it("stores an encrypted value from a plain account and user-decrypts it as the owner", async () => {
    const input = await client.encryptUint64(probeAddress, owner.signer.address, [1_234_567_890_123n]);
    expect(input.handles).to.have.length(1);
    await mined(reader, probe.write.store([input.handles[0], input.inputProof]));
    const handle = await probe.read.valueOf([owner.signer.address]);
    expect(handle).to.equal(input.handles[0]);

    const viemOwner = viemAccountSigner(owner.signer.account);
    expect(await client.userDecryptUint64(handle, probeAddress, viemOwner)).to.equal(1_234_567_890_123n);
    // The same through an ethers signer (a browser wallet's JsonRpcSigner is one): the client takes either.
    const ethersOwner = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(HARDHAT_MNEMONIC), "m/44'/60'/0'/0/0");
    expect(await client.userDecryptUint64(handle, probeAddress, ethersOwner)).to.equal(1_234_567_890_123n);
  });

  it("refuses user decryption to an account the ACL never allowed", async () => {
    const input = await client.encryptUint64(probeAddress, owner.signer.address, [7n]);
    await mined(reader, probe.write.store([input.handles[0], input.inputProof]));
    const error = await client
      .userDecryptUint64(input.handles[0], probeAddress, viemAccountSigner(stranger.signer.account))
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(DecryptionRefusedError);
    expect((error as DecryptionRefusedError).details).to.contain(stranger.signer.address);
  });

  it("refuses an input proof submitted by another account than the one it was made for", async () => {
    const input = await client.encryptUint64(probeAddress, owner.signer.address, [5n]);
    let reverted = false;
    try {
      await mined(reader, stranger.probe.write.store([input.handles[0], input.inputProof]));
    } catch {
      reverted = true;
    }
    expect(reverted).to.equal(true);
  });

  it("public-decrypts a value only after the contract made it publicly decryptable", async () => {
    const input = await client.encryptUint64(probeAddress, owner.signer.address, [99n]);
    await mined(reader, probe.write.store([input.handles[0], input.inputProof]));
    const handle = input.handles[0];
    const early = await client.publicDecrypt([handle]).catch((e: unknown) => e);
    expect(early).to.be.instanceOf(DecryptionRefusedError);

    await mined(reader, probe.write.reveal());
    const decryption = await client.publicDecrypt([handle]);
    expect(decryption.clearValues[handle]).to.equal(99n);
    expect(decryption.decryptionProof).to.match(/^0x[0-9a-f]+$/i);
    expect(decryption.abiEncodedClearValues).to.equal("0x" + (99).toString(16).padStart(64, "0"));
  });

  it("refuses a port that is already taken, with an error naming it", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const takenPort = (blocker.address() as { port: number }).port;
    try {
      const error = await startLocalNode({ port: takenPort }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(LocalNodeError);
      expect((error as LocalNodeError).shortMessage).to.contain(String(takenPort));
    } finally {
      blocker.close();
    }
  });

  it("reports a node that fails to start with the tail of its output", async () => {
    // A project whose Hardhat config throws: the node process exits before it ever listens.
    const brokenProject = mkdtempSync(join(tmpdir(), "ciphershare-broken-node-"));
    try {
      symlinkSync(join(projectRoot, "node_modules"), join(brokenProject, "node_modules"));
      writeFileSync(join(brokenProject, "hardhat.config.js"), 'throw new Error("config-marker-1729");\n');
      const error = await startLocalNode({ projectRoot: brokenProject }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(LocalNodeError);
      expect((error as LocalNodeError).shortMessage).to.match(/exited with code 1 before it was ready/);
      expect((error as LocalNodeError).details).to.contain("config-marker-1729");
    } finally {
      rmSync(brokenProject, { recursive: true, force: true });
    }
  });

  it("leaves no process behind after stop()", async () => {
    await node.stop();
    expect(await waitUntilDead(nodeProcesses, 10_000)).to.deep.equal([]);
  });
});

describe("chain/localNode when its parent dies", function () {
  this.timeout(120_000);

  it("exits with a parent killed by SIGKILL (no orphan chain)", async () => {
    // A parent process that starts a node, prints its pid, then waits forever until we kill it.
    const script = [
      `const { startLocalNode } = require("@ciphershare/coprocessor/chain/localNode");`,
      `startLocalNode().then((node) => console.log("NODE_PID=" + node.pid));`,
      `setInterval(() => {}, 1000);`,
    ].join("\n");
    const parent = spawn(process.execPath, ["--require", "tsx/cjs", "-e", script], {
      cwd: projectRoot,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const nodePid = await new Promise<number>((resolve, reject) => {
      let output = "";
      parent.stdout.setEncoding("utf8");
      parent.stdout.on("data", (chunk: string) => {
        output += chunk;
        const match = /NODE_PID=(\d+)/.exec(output);
        if (match) resolve(Number(match[1]));
      });
      parent.once("exit", (code) => reject(new Error(`parent exited early with ${code}: ${output}`)));
    });
    expect(isAlive(nodePid)).to.equal(true);
    const processes = [nodePid, ...descendantPids(nodePid)];

    parent.kill("SIGKILL");
    expect(await waitUntilDead(processes, 10_000)).to.deep.equal([]);
  });
});
