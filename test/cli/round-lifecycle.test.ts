import { expect } from "chai";
import { rmSync } from "node:fs";
import { roundManagerAbi } from "@ciphershare/protocol/chain/abis";
import { ExclusionReason, RoundPhase } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import type { Hex } from "@ciphershare/protocol/hex";
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
import { readReasons } from "@ciphershare/coprocessor/chain/events";
import { contributorAccount, readDeployment, ROLE_ACCOUNT } from "@ciphershare/coprocessor/roles/workspace";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import { cli, run, startTestNetwork, type TestNetwork } from "../e2e/processes";

// The round lifecycle commands of the hardened contracts, as separate processes on a real local chain, without any
// CKKS work: program terms and the custodian's acceptance policy, close, a publication challenged and upheld, the
// coprocessor's next publication, cancellation below the minimum crowd, forfeited deposits, pool recovery, expiry.
// Every contribution here is junk (a blob that is no envelope), so the coprocessor excludes them all as Malformed
// and publishes no outputs: the round can never count.
describe("cli: the round lifecycle (commit deposits, acceptance, challenges, cancellation, recovery)", function () {
  const BUNDLE_HASH = `0x${"b1".repeat(32)}`;
  const DEPOSIT = 1_000n;
  let network: TestNetwork;
  let home: string;
  let deployment: Deployment;
  let reader: ChainReader;
  const fail = async (args: string[]) => {
    const result = await run([...args, "--home", home]);
    expect(result.code, result.stdout).to.equal(1);
    return result.stderr;
  };

  before(async function () {
    network = await startTestNetwork("ciphershare-lifecycle-");
    home = network.home;
    await cli(home, ["network", "deploy"]);
    deployment = readDeployment(network.ws);
    reader = chainReader(network.chain.rpcUrl, network.chain.chainId);
  });

  after(async () => {
    await network?.stop();
    if (network) rmSync(network.home, { recursive: true, force: true });
  });

  it("creates programs with their terms; the custodian's policy refuses a crowd below 3 unless forced", async () => {
    const created = await cli<{ programId: string; minContributors: number; commitDeposit: string }>(home, [
      "network",
      "create-program",
      "--bundle-hash",
      BUNDLE_HASH,
      "--commit-deposit",
      DEPOSIT.toString(),
    ]);
    expect(created).to.deep.include({ programId: "1", minContributors: 3, commitDeposit: DEPOSIT.toString() });
    const thin = await cli<{ programId: string }>(home, [
      "network",
      "create-program",
      "--bundle-hash",
      BUNDLE_HASH,
      "--min-contributors",
      "1",
    ]);
    expect(thin.programId).to.equal("2");

    // No round opens before the custodian accepted the program.
    expect(await fail(["network", "open-round", "--program", "1"])).to.contain("has not accepted it yet");
    const accepted = await cli<{ outcome: string; terms: { minContributors: number } }>(home, [
      "custodian",
      "accept",
      "--program",
      "1",
    ]);
    expect(accepted).to.deep.include({ outcome: "accepted" });
    expect(accepted.terms.minContributors).to.equal(3);

    expect(await fail(["custodian", "accept", "--program", "2"])).to.match(
      /policy refuses this program[\s\S]*minimum crowd of 1/,
    );
    const rounds = contractsFor(deployment, chainSigner(reader, roleAccount(ROLE_ACCOUNT.network))).rounds;
    expect(await rounds.read.isProgramActive([2n])).to.equal(false);
    const forced = await cli<{ outcome: string; overruled: string[] }>(home, [
      "custodian",
      "accept",
      "--program",
      "2",
      "--force",
    ]);
    expect(forced.outcome).to.equal("accepted");
    expect(forced.overruled).to.have.length(1);
  });

  it("closes a round after the reveal deadline, cancelled when fewer than the minimum revealed a new hash", async () => {
    await cli(home, ["network", "open-round", "--program", "1", "--reveal-window", "600"]);
    const store = new LocalDirectoryBlobStore(network.ws.blobsDir);
    const junk = await store.put(new TextEncoder().encode("junk, not an envelope"));
    for (const i of [0, 1, 2, 3]) {
      await cli(home, ["contributor", "register", "--index", String(i)]);
    }
    const signers = [0, 1, 2, 3].map((i) => chainSigner(reader, roleAccount(contributorAccount(i))));
    for (const [i, signer] of signers.entries()) {
      // Three copies of one junk blob (the second and third are Duplicates once revealed), one never revealed.
      const hash = (i === 3 ? `0x${"33".repeat(32)}` : junk) as Hex;
      await mined(
        reader,
        contractsFor(deployment, signer).rounds.write.commitContribution([1n, sealOf(hash, signer.address), 10n], {
          value: DEPOSIT,
        }),
      );
    }
    // The dev chain's clock, past the commit deadline: the reveal phase.
    await advanceChainPast(reader, (await readRound(deployment, reader, 1n)).commitDeadline);
    for (const signer of signers.slice(0, 3)) {
      await mined(reader, contractsFor(deployment, signer).rounds.write.revealContribution([1n, junk, "local:"]));
    }
    // One valid reveal (the first), below the minimum of 3: cancelled at close.
    const closed = await cli<{ phase: string; cancelReason?: string }>(home, [
      "network",
      "close",
      "--round",
      "1",
      "--advance-time",
    ]);
    expect(closed).to.deep.include({ phase: "cancelled", cancelReason: "too-few-revealed" });
  });

  it("refunds a revealed deposit of a round cancelled before any judgement, forfeits the others", async () => {
    const refund = await cli<{ refunded: string; reason?: string }>(home, [
      "contributor",
      "withdraw-deposit",
      "--round",
      "1",
      "--index",
      "0",
    ]);
    expect(refund).to.deep.equal({
      address: roleAccount(contributorAccount(0)).address,
      round: "1",
      refunded: DEPOSIT.toString(),
    });
    const duplicate = await cli<{ refunded: string; reason: string }>(home, [
      "contributor",
      "withdraw-deposit",
      "--round",
      "1",
      "--index",
      "1",
    ]);
    expect(duplicate.refunded).to.equal("0");
    expect(duplicate.reason).to.contain("forfeited");
    const collected = await cli<{ count: number; amount: string }>(home, [
      "network",
      "collect-deposits",
      "--round",
      "1",
    ]);
    expect(collected).to.deep.include({ count: 3, amount: (3n * DEPOSIT).toString() });
  });

  it("an upheld challenge returns the round to Closed and the coprocessor publishes anew as publication 2", async () => {
    // Program 2 (forced, minimum 1): two junk reveals, both Malformed, so the publication includes nobody.
    await cli(home, ["network", "open-round", "--program", "2"]);
    const store = new LocalDirectoryBlobStore(network.ws.blobsDir);
    const signers = [4, 5].map((i) => chainSigner(reader, roleAccount(contributorAccount(i))));
    const hashes: Hex[] = [];
    for (const [k, signer] of signers.entries()) {
      await cli(home, ["contributor", "register", "--index", String(4 + k)]);
      const hash = await store.put(new TextEncoder().encode(`junk ${k}`));
      hashes.push(hash);
      await mined(
        reader,
        contractsFor(deployment, signer).rounds.write.commitContribution([2n, sealOf(hash, signer.address), 10n]),
      );
    }
    await advanceChainPast(reader, (await readRound(deployment, reader, 2n)).commitDeadline);
    for (const [k, signer] of signers.entries()) {
      await mined(reader, contractsFor(deployment, signer).rounds.write.revealContribution([2n, hashes[k], "local:"]));
    }
    await cli(home, ["network", "close", "--round", "2", "--advance-time"]);
    await cli(home, ["network", "fund", "--round", "2", "--amount", "5000"]);
    await cli(home, ["coprocessor", "run", "--once"]);
    let round = await readRound(deployment, reader, 2n);
    expect(round.phase).to.equal(RoundPhase.ResultsPublished);
    expect(round.publication).to.equal(1);
    const reasons = await readReasons(reader, deployment, 2n, 1, 2);
    expect([...reasons]).to.deep.equal([ExclusionReason.Malformed, ExclusionReason.Malformed]);

    // An auditor challenges; the network upholds the challenge.
    const auditor = chainSigner(reader, roleAccount(19));
    await mined(
      reader,
      contractsFor(deployment, auditor).rounds.write.challengeResults([2n, `0x${"e1".repeat(32)}`, "ipfs://evidence"]),
    );
    expect(await fail(["network", "resolve-challenge", "--round", "2"])).to.contain("--upheld or --rejected");
    const resolved = await cli<{ phase: string; upheld: boolean }>(home, [
      "network",
      "resolve-challenge",
      "--round",
      "2",
      "--upheld",
    ]);
    expect(resolved).to.deep.include({ phase: "closed", upheld: true });

    const second = await cli<{ processed: number[] }>(home, ["coprocessor", "run", "--once"]);
    expect(second.processed).to.deep.equal([2]);
    round = await readRound(deployment, reader, 2n);
    expect(round.phase).to.equal(RoundPhase.ResultsPublished);
    expect(round.publication).to.equal(2);
    const published = await reader.getContractEvents({
      address: deployment.rounds,
      abi: roundManagerAbi,
      eventName: "ResultsPublished",
      args: { roundId: 2n },
      fromBlock: BigInt(deployment.deployedAtBlock),
    });
    expect(published.map((log) => Number(log.args.publication))).to.deep.equal([1, 2]);
  });

  it("finalizing a publication below the minimum cancels the round; the network recovers the whole pool", async () => {
    const finalized = await cli<{ phase: string; cancelReason: string }>(home, [
      "network",
      "finalize",
      "--round",
      "2",
      "--advance-time",
    ]);
    expect(finalized).to.deep.include({ phase: "cancelled", cancelReason: "too-few-included" });
    // The custodian never acts on a cancelled round.
    const custodian = await cli<{ settled: number[] }>(home, ["custodian", "run", "--once"]);
    expect(custodian.settled).to.deep.equal([]);
    expect((await readRound(deployment, reader, 2n)).releaseHash).to.equal(`0x${"0".repeat(64)}`);
    const recovered = await cli<{ recovered: string }>(home, ["network", "recover-pool", "--round", "2"]);
    expect(recovered.recovered).to.equal("5000");
  });

  it("expires a round nobody finalized by its expiry", async () => {
    await cli(home, ["network", "open-round", "--program", "1", "--commit-period", "60"]);
    expect(await fail(["network", "expire", "--round", "3"])).to.contain("RoundNotExpired");
    const expired = await cli<{ phase: string; cancelReason: string }>(home, [
      "network",
      "expire",
      "--round",
      "3",
      "--advance-time",
    ]);
    expect(expired).to.deep.include({ phase: "cancelled", cancelReason: "expired" });
  });
});
