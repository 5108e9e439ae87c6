import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";
import { keccak256, toBytes, TransactionReceiptNotFoundError } from "viem";

import { startLocalNode, type LocalNode } from "@ciphershare/coprocessor/chain/localNode";
import { signerTransactionDriver } from "@ciphershare/coprocessor/chain/transactionDriver";
import { chainProbeAbi } from "@ciphershare/protocol/chain/abis";
import { StepRevertedError, resumeAction, runOnChainStep, runStep } from "@ciphershare/coprocessor/state/journal";
import { StateStore } from "@ciphershare/coprocessor/state/store";
import { type Hex } from "@ciphershare/protocol/hex";
import { connectChainProbe, type ChainProbeFixture } from "../chain/chainProbeFixture";
import { storeCall, storeValueStep, type CrashPoint } from "./storeValueStep";

describe("state/journal: on-chain steps survive a killed process without running twice", function () {
  this.timeout(120_000);

  let node: LocalNode;
  let fixture: ChainProbeFixture;
  let directory: string;
  let databaseCount = 0;

  const freshDatabase = () => join(directory, `state-${++databaseCount}.sqlite`);
  const storedEventCount = async () =>
    (
      await fixture.reader.getContractEvents({
        address: fixture.probeAddress,
        abi: chainProbeAbi,
        eventName: "ValueStored",
        args: { owner: fixture.signer.address },
        fromBlock: 0n,
      })
    ).length;
  const minedNonce = () => fixture.reader.getTransactionCount({ address: fixture.signer.address, blockTag: "latest" });
  const receiptOrNull = (hash: Hex) =>
    fixture.reader.getTransactionReceipt({ hash }).catch((error: unknown) => {
      if (error instanceof TransactionReceiptNotFoundError) return null;
      throw error;
    });

  /** Runs the store-value step in a child process that SIGKILLs itself at `crashPoint`. */
  async function crashInChild(databasePath: string, round: number, value: bigint, crashPoint: CrashPoint) {
    const child = spawn(
      process.execPath,
      [
        "--require",
        "tsx/cjs",
        join(__dirname, "crashingStepProcess.ts"),
        databasePath,
        node.rpcUrl,
        fixture.probeAddress,
        String(round),
        String(value),
        crashPoint,
      ],
      { stdio: ["ignore", "inherit", "inherit"] },
    );
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_, s) => resolve(s)));
    expect(signal, "the child should have been killed at the crash point").to.equal("SIGKILL");
  }

  before(async () => {
    node = await startLocalNode();
    fixture = await connectChainProbe(node.rpcUrl, 2);
    directory = mkdtempSync(join(tmpdir(), "ciphershare-journal-"));
  });

  after(async () => {
    fixture?.close();
    await node?.stop();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it("runs a step once, then skips it as confirmed", async () => {
    const store = StateStore.open(freshDatabase());
    const eventsBefore = await storedEventCount();
    const first = await storeValueStep(store, fixture, 1, 11n);
    expect(first.status).to.equal("confirmed");
    expect(first.txHash).to.match(/^0x[0-9a-f]{64}$/);
    const nonceAfterFirst = await minedNonce();

    const again = await storeValueStep(store, fixture, 1, 11n);
    expect(again).to.deep.equal(first);
    expect(await storedEventCount()).to.equal(eventsBefore + 1);
    expect(await minedNonce()).to.equal(nonceAfterFirst);
    store.close();
  });

  const crashCases: { crashPoint: CrashPoint; journaled: "intent" | "sent"; minedBeforeCrash: boolean }[] = [
    { crashPoint: "in-sign", journaled: "intent", minedBeforeCrash: false },
    { crashPoint: "before-broadcast", journaled: "sent", minedBeforeCrash: false },
    { crashPoint: "after-broadcast", journaled: "sent", minedBeforeCrash: true },
  ];
  for (const { crashPoint, journaled, minedBeforeCrash } of crashCases) {
    it(`resumes after a SIGKILL ${crashPoint} with exactly one transaction for the step`, async () => {
      const databasePath = freshDatabase();
      const eventsBefore = await storedEventCount();
      const nonceBefore = await minedNonce();
      await crashInChild(databasePath, 7, 77n, crashPoint);
      const nonceAfterCrash = await minedNonce();
      expect(nonceAfterCrash).to.equal(nonceBefore + (minedBeforeCrash ? 1 : 0));

      const store = StateStore.open(databasePath);
      const journaledRecord = store.getStep(7, "store-value");
      expect(journaledRecord?.status).to.equal(journaled);
      expect(store.unfinishedSteps().map((record) => record.step)).to.deep.equal(["store-value"]);

      const resumed = await storeValueStep(store, fixture, 7, 77n);
      expect(resumed.status).to.equal("confirmed");
      expect(resumed.attempts).to.equal(1);
      if (journaled === "sent") expect(resumed.txHash).to.equal(journaledRecord?.txHash);
      expect(await storedEventCount()).to.equal(eventsBefore + 1);
      expect(await minedNonce()).to.equal(nonceBefore + 1);
      expect(store.unfinishedSteps()).to.deep.equal([]);
      store.close();
    });
  }

  it("signs a new transaction when the journaled one lost its nonce to another transaction", async () => {
    const store = StateStore.open(freshDatabase());
    const eventsBefore = await storedEventCount();
    const inputHash = keccak256(toBytes("store:5"));
    // Journal a signed transaction as a crashed process would have, then spend its nonce elsewhere.
    store.recordIntent(3, "store-value", { inputHash });
    const self = fixture.signer.address;
    const orphan = await signerTransactionDriver(fixture.signer, { to: self, value: 1n }).sign();
    store.recordSent(3, "store-value", orphan);
    const spent = await fixture.signer.wallet.sendTransaction({ to: self, value: 2n, nonce: orphan.nonce });
    await fixture.reader.waitForTransactionReceipt({ hash: spent });

    const resumed = await storeValueStep(store, fixture, 3, 5n);
    expect(resumed.status).to.equal("confirmed");
    expect(resumed.attempts).to.equal(2);
    expect(resumed.txHash).to.not.equal(orphan.txHash);
    expect(await receiptOrNull(orphan.txHash)).to.equal(null);
    expect(await storedEventCount()).to.equal(eventsBefore + 1);
    store.close();
  });

  it("records a reverted transaction as failed and says so", async () => {
    const store = StateStore.open(freshDatabase());
    // An input proof made for another sender: FHE.fromExternal reverts. A fixed gas limit skips estimation,
    // so the transaction is mined and reverts on-chain.
    const driver = signerTransactionDriver(fixture.signer, async () => ({
      ...(await storeCall(fixture, 1n, fixture.probeAddress)),
      gas: 1_000_000n,
    }));
    const error = await runOnChainStep(store, { round: 4, step: "bad-store" }, driver).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(StepRevertedError);
    const record = store.getStep(4, "bad-store");
    expect(record?.status).to.equal("failed");
    expect(record?.error).to.contain("reverted");
    expect(resumeAction(record)).to.equal("retry");
    store.close();
  });
});

describe("state/journal: off-chain steps", () => {
  it("repeats failed work on the next run and skips confirmed work", async () => {
    const store = StateStore.open(":memory:");
    let calls = 0;
    const flakyWork = async (): Promise<Hex> => {
      calls += 1;
      if (calls === 1) throw new Error("blob store unreachable");
      return keccak256(toBytes("aggregate"));
    };
    const key = { round: 1, step: "aggregate" };
    const failure = await runStep(store, key, flakyWork).catch((e: unknown) => e);
    expect((failure as Error).message).to.equal("blob store unreachable");
    expect(store.getStep(1, "aggregate")?.status).to.equal("failed");

    const done = await runStep(store, key, flakyWork);
    expect(done.status).to.equal("confirmed");
    expect(done.attempts).to.equal(2);
    expect(done.outputHash).to.equal(keccak256(toBytes("aggregate")));

    await runStep(store, key, flakyWork);
    expect(calls).to.equal(2);
    store.close();
  });

  it("maps each journaled status to what a restarted process must do", () => {
    expect(resumeAction(undefined)).to.equal("run");
    const base = { round: 0, step: "s", inputHash: null, txHash: null, rawTransaction: null, nonce: null };
    const rest = { outputHash: null, blockNumber: null, attempts: 1, error: null, createdAt: 0, updatedAt: 0 };
    expect(resumeAction({ ...base, ...rest, status: "intent" })).to.equal("run");
    expect(resumeAction({ ...base, ...rest, status: "sent" })).to.equal("await-transaction");
    expect(resumeAction({ ...base, ...rest, status: "confirmed" })).to.equal("done");
    expect(resumeAction({ ...base, ...rest, status: "failed" })).to.equal("retry");
  });
});
