import { expect } from "chai";
import { readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { concat, getAddress, keccak256 } from "viem";
import { anonymousPayoutsAbi } from "@ciphershare/protocol/chain/abis";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import { sealOf } from "@ciphershare/protocol/round/inputs";
import {
  advanceChainPast,
  chainReader,
  chainSigner,
  mined,
  roleAccount,
  type ChainReader,
} from "@ciphershare/coprocessor/chain/clients";
import { contractsFor, readRound } from "@ciphershare/coprocessor/chain/contracts";
import { FhevmClient } from "@ciphershare/coprocessor/chain/fhevmClient";
import { claimForAddress, payoutKeystorePath, readPayoutKeys } from "@ciphershare/coprocessor/roles/anonymous-payouts";
import { KeystoreError } from "@ciphershare/coprocessor/keys/keystore";
import { ClaimRelayer } from "@ciphershare/coprocessor/roles/claim-relayer";
import { contributorAccount, readDeployment, ROLE_ACCOUNT } from "@ciphershare/coprocessor/roles/workspace";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import { cli, CONTRIBUTOR_PASSPHRASE, run, startTestNetwork, type TestNetwork } from "../e2e/processes";

// Anonymous claims through the CLI, as separate processes on a real local chain (no CKKS: junk contributions that
// the test publishes as included, and shares the test settles as the custodian): `contributor seal-payout`,
// `contributor claim --anonymous [--relay URL]`, `contributor balance --payout`.
describe("cli: anonymous claims (seal-payout, claim --anonymous, balance --payout)", function () {
  const SHARES = [500n, 300n, 200n];
  let network: TestNetwork;
  let home: string;
  let deployment: Deployment;
  let reader: ChainReader;
  const contributors = () => [0, 1, 2].map((i) => chainSigner(reader, roleAccount(contributorAccount(i))));
  const payTo: Address[] = [];

  before(async function () {
    network = await startTestNetwork("ciphershare-anonymous-");
    home = network.home;
    await cli(home, ["network", "deploy"]);
    deployment = readDeployment(network.ws);
    reader = chainReader(network.chain.rpcUrl, network.chain.chainId);
    await cli(home, ["network", "create-program", "--bundle-hash", `0x${"b1".repeat(32)}`]);
    const custodian = chainSigner(reader, roleAccount(ROLE_ACCOUNT.custodian));
    await mined(reader, contractsFor(deployment, custodian).rounds.write.acceptProgram([1n]));
    await cli(home, ["network", "open-round", "--program", "1"]);
    for (const i of [0, 1, 2]) await cli(home, ["contributor", "register", "--index", String(i)]);
  });

  after(async () => {
    await network?.stop();
    if (network) rmSync(network.home, { recursive: true, force: true });
  });

  it("seal-payout generates a fresh address per round, keeps its key (0600) and seals it once", async () => {
    const store = new LocalDirectoryBlobStore(network.ws.blobsDir);
    for (const [i, signer] of contributors().entries()) {
      const hash = await store.put(new TextEncoder().encode(`junk ${i}`));
      await mined(
        reader,
        contractsFor(deployment, signer).rounds.write.commitContribution([1n, sealOf(hash, signer.address), 10n]),
      );
    }
    for (const i of [0, 1]) {
      const sealed = await cli<{ payTo: Address; sealed: string; index: string }>(home, [
        "contributor",
        "seal-payout",
        "--round",
        "1",
        "--index",
        String(i),
      ]);
      expect(sealed.sealed).to.equal("sealed");
      expect(sealed.index).to.equal(String(i));
      payTo.push(sealed.payTo);
    }
    const again = await cli<{ payTo: Address; sealed: string }>(home, [
      "contributor",
      "seal-payout",
      "--round",
      "1",
      "--index",
      "0",
    ]);
    expect(again).to.deep.include({ payTo: payTo[0], sealed: "already-sealed" });
    const [alice] = contributors();
    expect(payTo[0]).to.not.equal(alice.address);
    expect(statSync(payoutKeystorePath(network.ws.contributorDir(alice.address))).mode & 0o777).to.equal(0o600);
    const { anonymousPayouts, rounds } = contractsFor(deployment, alice);
    expect(await anonymousPayouts.read.sealedCount([1n])).to.equal(2n);
    expect(await rounds.read.isRegistered([payTo[0]])).to.equal(false);
  });

  it("keeps payout keys encrypted with the contributor's passphrase: the file names neither key nor address", async () => {
    const [alice] = contributors();
    const dir = network.ws.contributorDir(alice.address);
    const text = readFileSync(payoutKeystorePath(dir), "utf8").toLowerCase();
    const [key] = await readPayoutKeys(dir, CONTRIBUTOR_PASSPHRASE);
    expect(key).to.deep.include({ round: "1", address: payTo[0] });
    expect(text).to.not.contain(key.privateKey.slice(2).toLowerCase());
    expect(text).to.not.contain(key.address.slice(2).toLowerCase());
    expect(text).to.contain("aes-256-gcm");
    let refused: unknown;
    await readPayoutKeys(dir, "not the passphrase").catch((error: unknown) => (refused = error));
    expect(refused).to.be.instanceOf(KeystoreError);
    const wrong = await run(["contributor", "balance", "--payout", "--index", "0", "--home", home], {
      CIPHERSHARE_CONTRIBUTOR_PASSPHRASE: "not the passphrase",
    });
    expect(wrong.code).to.equal(1);
    expect(wrong.stderr).to.contain("Wrong passphrase");
  });

  it("claims for the sealed address from the relayer account: it gets exactly its share", async () => {
    await settleRound();
    const claimed = await cli<{ payTo: Address; balance: string; relayed: boolean; transactions: number }>(home, [
      "contributor",
      "claim",
      "--round",
      "1",
      "--anonymous",
      "--index",
      "0",
    ]);
    expect(claimed).to.deep.include({ payTo: payTo[0], balance: "500", relayed: false, transactions: 1 });
    const [paid] = await reader.getContractEvents({
      address: deployment.anonymousPayouts,
      abi: anonymousPayoutsAbi,
      eventName: "AnonymousClaimPaid",
      args: { to: payTo[0] },
      fromBlock: BigInt(deployment.deployedAtBlock),
    });
    const tx = await reader.getTransaction({ hash: paid.transactionHash });
    expect(getAddress(tx.from)).to.equal(
      roleAccount(ROLE_ACCOUNT.relayer).address,
      "never the contributor's own account",
    );
    const direct = await run(["contributor", "claim", "--round", "1", "--index", "0", "--home", home]);
    expect(direct.code).to.equal(1);
    expect(direct.stderr).to.contain("PayoutSealed");
  });

  it("--relay queues the claim at the network's relay, which sends it in its next batch", async () => {
    const relayerSigner = chainSigner(reader, roleAccount(ROLE_ACCOUNT.relayer));
    const relayer = new ClaimRelayer({
      intervalMs: 3_600_000,
      submit: async ({ to, rounds }) => void (await claimForAddress(deployment, relayerSigner, to, rounds)),
    });
    const server: Server = createServer((req, res) =>
      relayer.handle(req, res, () => {
        res.statusCode = 404;
        res.end();
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const queued = await cli<{ payTo: Address; status: string; scheduledAt: number; relayed: boolean }>(home, [
        "contributor",
        "claim",
        "--round",
        "1",
        "--anonymous",
        "--relay",
        url,
        "--index",
        "1",
      ]);
      expect(queued).to.deep.include({ payTo: payTo[1], status: "queued", relayed: true });
      expect(queued.scheduledAt % 3_600_000).to.equal(0, "a fixed batch time");
      expect(relayer.status(payTo[1]).status).to.equal("queued");
      await relayer.flush();
      expect(relayer.status(payTo[1])).to.deep.equal({ status: "claimed" });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const balances = await cli<{ payouts: { round: string; payTo: Address; balance: string }[]; total: string }>(home, [
      "contributor",
      "balance",
      "--payout",
      "--index",
      "1",
    ]);
    expect(balances).to.deep.include({ payouts: [{ round: "1", payTo: payTo[1], balance: "300" }], total: "300" });
  });

  it("all claims together pay exactly the pool: two anonymous, one direct", async () => {
    const direct = await cli<{ claimed: string; balance: string }>(home, [
      "contributor",
      "claim",
      "--round",
      "1",
      "--index",
      "2",
    ]);
    expect(direct).to.deep.include({ claimed: "200", balance: "200" });
    const zero = await run(["contributor", "claim", "--round", "1", "--anonymous", "--index", "2", "--home", home]);
    expect(zero.code).to.equal(1);
    expect(zero.stderr).to.contain("No payout address sealed for round 1");
  });

  /** Reveal, close, publish everyone as included, fund 1000, finalize, settle SHARES as the custodian, complete. */
  async function settleRound(): Promise<void> {
    await advanceChainPast(reader, (await readRound(deployment, reader, 1n)).commitDeadline);
    const store = new LocalDirectoryBlobStore(network.ws.blobsDir);
    const hashes: Hex[] = [];
    for (const [i, signer] of contributors().entries()) {
      const hash = await store.put(new TextEncoder().encode(`junk ${i}`));
      hashes.push(hash);
      await mined(reader, contractsFor(deployment, signer).rounds.write.revealContribution([1n, hash, "local:"]));
    }
    await cli(home, ["network", "close", "--round", "1", "--advance-time"]);
    const coprocessor = chainSigner(reader, roleAccount(ROLE_ACCOUNT.coprocessor));
    await mined(
      reader,
      contractsFor(deployment, coprocessor).rounds.write.publishResults([
        1n,
        `0x${"a1".repeat(32)}`,
        `0x${"5c".repeat(32)}`,
        keccak256(concat(hashes)),
        "0x000000",
      ]),
    );
    await cli(home, ["network", "fund", "--round", "1", "--amount", "1000"]);
    await cli(home, ["network", "finalize", "--round", "1", "--advance-time"]);
    const custodian = chainSigner(reader, roleAccount(ROLE_ACCOUNT.custodian));
    const fhevm = await FhevmClient.connect(network.chain.rpcUrl);
    try {
      const shares = await fhevm.encryptUint64(deployment.distributor, custodian.address, SHARES);
      const { distributor } = contractsFor(deployment, custodian);
      await mined(
        reader,
        distributor.write.settle([1n, contributors().map((c) => c.address), shares.handles, [shares.inputProof]]),
      );
      await mined(reader, distributor.write.completeSettlement([1n]));
    } finally {
      fhevm.destroy();
    }
  }
});
