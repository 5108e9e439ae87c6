import { expect } from "chai";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CommitmentStatus, ExclusionReason, RoundPhase } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { roundManagerAbi } from "@ciphershare/protocol/chain/abis";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { serializeNpy } from "@ciphershare/protocol/formats/npy";
import type { Hex } from "@ciphershare/protocol/hex";
import { sealOf } from "@ciphershare/protocol/round/inputs";
import { ROUND_MODEL_NORM_BOUND, ROUND_PARAMETER_SET_ID } from "@ciphershare/protocol/round/config";
import { chainReader, chainSigner, mined, roleAccount, type ChainReader } from "@ciphershare/coprocessor/chain/clients";
import { contractsFor, readRound } from "@ciphershare/coprocessor/chain/contracts";
import { readCommitments, readReasons } from "@ciphershare/coprocessor/chain/events";
import { KeyCustodian } from "@ciphershare/coprocessor/keys/key-custodian";
import { DecryptionRefusedError } from "@ciphershare/coprocessor/keys/policy";
import { ChainRoundCommitments } from "@ciphershare/coprocessor/roles/custodian";
import { contributorAccount, readDeployment, ROLE_ACCOUNT } from "@ciphershare/coprocessor/roles/workspace";
import { StateStore } from "@ciphershare/coprocessor/state/store";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import { aggregateRelease } from "@ciphershare/coprocessor/threshold/release-bounds";
import { rejectionOf } from "../support/rejection";
import { cli, PASSPHRASE, run, startTestNetwork, type TestNetwork } from "./processes";

// The coprocessor as a real process against a real local chain: SIGKILLed at five points of a round (after each
// journaled off-chain step, just before and just after broadcasting its transaction), restarted each time, it ends
// with exactly one publishResults transaction, runs the Shapley computation once, and publishes one reason per
// commitment (the chain's Unrevealed and Duplicate, its own BlobMissing and Malformed) that the auditor then
// reproduces. The custodian decrypts nothing before the round is finalized, and never inputs or unpublished hashes.
describe("end to end: coprocessor crash and resume, exclusions, custodian policy", function () {
  let network: TestNetwork;
  let deployment: Deployment;
  let reader: ChainReader;
  const addressOf = (account: number) => roleAccount(account).address;
  const roundId = 1n;
  const inputHashes: string[] = [];

  before(async function () {
    network = await startTestNetwork("ciphershare-resume-");
    const home = network.home;
    await cli(home, ["network", "deploy"]);
    await cli(home, ["custodian", "keygen"]);
    await cli(home, ["network", "create-program"]);
    await cli(home, ["custodian", "accept", "--program", "1"]);
    deployment = readDeployment(network.ws);
    reader = chainReader(network.chain.rpcUrl, network.chain.chainId);
    await Promise.all([0, 1, 2, 3, 4, 5, 6].map((i) => cli(home, ["contributor", "register", "--index", String(i)])));
    await cli(home, ["network", "open-round", "--program", "1"]);
    for (const i of [0, 1]) {
      const submitted = await cli<{ ciphertextHash: string }>(home, [
        "contributor",
        "submit",
        "--index",
        String(i),
        "--round",
        "1",
        "--clients",
        "3",
      ]);
      inputHashes.push(submitted.ciphertextHash);
    }
    // Contributor 2 imports its model from a .npy file instead of training.
    const modelFile = join(home, "contributor-2.npy");
    writeFileSync(modelFile, serializeNpy(new Float64Array(785 * 10).fill(0.001), [785, 10]));
    const imported = await cli<{ ciphertextHash: string; sampleCount: number }>(home, [
      "contributor",
      "submit",
      "--index",
      "2",
      "--round",
      "1",
      "--update",
      modelFile,
      "--samples",
      "900",
    ]);
    expect(imported.sampleCount).to.equal(900);
    inputHashes.push(imported.ciphertextHash);
    // Contributor 3 reveals a hash it never uploads; contributor 4 uploads bytes that are no envelope; contributor 5
    // never reveals; contributor 6 got hold of contributor 0's hash during the commit phase and sealed it as its own.
    const store = new LocalDirectoryBlobStore(network.ws.blobsDir);
    const garbage = await store.put(new TextEncoder().encode("definitely not a CKKS envelope"));
    const direct: [number, Hex][] = [
      [3, `0x${"42".repeat(32)}`],
      [4, garbage],
      [5, `0x${"55".repeat(32)}`],
      [6, inputHashes[0] as Hex],
    ];
    for (const [i, hash] of direct) {
      const contributor = chainSigner(reader, roleAccount(contributorAccount(i)));
      await mined(
        reader,
        contractsFor(deployment, contributor).rounds.write.commitContribution([
          roundId,
          sealOf(hash, contributor.address),
          500n,
        ]),
      );
    }
    // The reveal phase: contributor 0 first (moving the dev chain's clock), then the others.
    await cli(home, ["contributor", "reveal", "--index", "0", "--round", "1", "--advance-time"]);
    await Promise.all([1, 2].map((i) => cli(home, ["contributor", "reveal", "--index", String(i), "--round", "1"])));
    for (const [i, hash] of direct.filter(([i]) => i !== 5)) {
      const contributor = chainSigner(reader, roleAccount(contributorAccount(i)));
      await mined(
        reader,
        contractsFor(deployment, contributor).rounds.write.revealContribution([roundId, hash, "local:"]),
      );
    }
    await cli(home, ["network", "close", "--round", "1", "--advance-time"]);
  });

  after(async () => {
    await network?.stop();
    if (network) rmSync(network.home, { recursive: true, force: true }); // the public bundle alone is ~180 MB
  });

  it("resumes after SIGKILL at every step without repeating an on-chain step", async () => {
    const points = [
      "after-verify-inputs",
      "after-fedavg",
      "after-shapley",
      "before-broadcast-publish",
      "after-broadcast-publish",
    ];
    for (const point of points) {
      const killed = await run(["coprocessor", "run", "--once", "--home", network.home], {
        CIPHERSHARE_KILL_AT: point,
      });
      expect(killed.signal, `killed at ${point}: ${killed.stderr}`).to.equal("SIGKILL");
    }
    const finished = await run(["coprocessor", "run", "--once", "--home", network.home, "--json"]);
    expect(finished.code, finished.stderr).to.equal(0);

    const round = await readRound(deployment, reader, roundId);
    expect(round.phase).to.equal(RoundPhase.ResultsPublished);
    const published = await reader.getContractEvents({
      address: deployment.rounds,
      abi: roundManagerAbi,
      eventName: "ResultsPublished",
      args: { roundId },
      fromBlock: BigInt(deployment.deployedAtBlock),
    });
    expect(published).to.have.length(1);
    const coprocessor = addressOf(ROLE_ACCOUNT.coprocessor);
    expect(await reader.getTransactionCount({ address: coprocessor })).to.equal(1); // one transaction ever sent

    const state = StateStore.open(network.ws.coprocessorDb);
    try {
      // Steps are journaled per publication: an upheld challenge would run publication 2's under their own names.
      const steps = Object.fromEntries(state.listSteps(1).map((s) => [s.step, s]));
      expect(Object.keys(steps)).to.have.members(["p1:verify-inputs", "p1:fedavg", "p1:shapley", "p1:publish-results"]);
      expect(steps["p1:verify-inputs"].status).to.equal("confirmed");
      expect(steps["p1:fedavg"].attempts).to.equal(1);
      expect(steps["p1:shapley"].attempts).to.equal(1);
      expect(steps["p1:shapley"].outputHash).to.equal(round.scoresHash.toLowerCase());
      expect(steps["p1:publish-results"].status).to.equal("confirmed");
    } finally {
      state.close();
    }
  });

  it("publishes one reason byte per commitment: the chain's verdicts and its own", async () => {
    const round = await readRound(deployment, reader, roundId);
    const commitments = await readCommitments(reader, deployment, roundId);
    const reasons = await readReasons(reader, deployment, roundId, round.publication, commitments.length);
    const byContributor = Object.fromEntries(commitments.map((c) => [c.contributor.toLowerCase(), reasons[c.index]]));
    const reasonOf = (i: number) => byContributor[addressOf(contributorAccount(i)).toLowerCase()];
    expect([0, 1, 2].map(reasonOf)).to.deep.equal([0, 0, 0]);
    expect(reasonOf(3)).to.equal(ExclusionReason.BlobMissing);
    expect(reasonOf(4)).to.equal(ExclusionReason.Malformed);
    expect(reasonOf(5)).to.equal(ExclusionReason.Unrevealed);
    expect(reasonOf(6)).to.equal(ExclusionReason.Duplicate);
    expect(commitments.find((c) => reasons[c.index] === ExclusionReason.Duplicate)?.status).to.equal(
      CommitmentStatus.Duplicate,
    );
    expect(round.includedCount).to.equal(3);
  });

  it("the custodian decrypts nothing before finalization; after it, the outputs but never inputs or other hashes", async () => {
    const custodianAddress = addressOf(ROLE_ACCOUNT.custodian);
    const early = await run(["custodian", "run", "--once", "--home", network.home, "--json"]);
    expect(early.code, early.stderr).to.equal(0);
    expect((await readRound(deployment, reader, roundId)).releaseHash).to.equal(`0x${"0".repeat(64)}`);
    const ctx = await CkksContext.create(ROUND_PARAMETER_SET_ID);
    const custodian = await KeyCustodian.open(ctx, readFileSync(network.ws.keystoreFile, "utf8"), PASSPHRASE, {
      commitments: new ChainRoundCommitments(deployment, reader, custodianAddress),
    });
    // The sample counts only size the flooding; the policy refuses before using them.
    const release = aggregateRelease(ctx, [1, 1, 1], ROUND_MODEL_NORM_BOUND);
    try {
      const store = new LocalDirectoryBlobStore(network.ws.blobsDir);
      const published = await readRound(deployment, reader, roundId);
      const beforeFinal = await rejectionOf(
        custodian.decryptOutput(roundId, await store.get(published.aggregateHash), release),
        DecryptionRefusedError,
      );
      expect(beforeFinal.reason).to.equal("unknown-commitment"); // published, but the dispute window is open

      await cli(network.home, ["network", "finalize", "--round", "1", "--advance-time"]);
      const released = await run(["custodian", "run", "--once", "--home", network.home, "--json"]);
      expect(released.code, released.stderr).to.equal(0);
      expect((await readRound(deployment, reader, roundId)).releaseHash).to.not.equal(`0x${"0".repeat(64)}`);

      const input = await store.get(inputHashes[0] as Hex);
      const refusedInput = await rejectionOf(custodian.decryptOutput(roundId, input, release), DecryptionRefusedError);
      expect(refusedInput.reason).to.equal("input-commitment");
      const round = await readRound(deployment, reader, roundId);
      const aggregate = await store.get(round.aggregateHash);
      // The same output asked for under a round that did not publish it.
      const refusedOther = await rejectionOf(custodian.decryptOutput(2n, aggregate, release), DecryptionRefusedError);
      expect(refusedOther.reason).to.equal("unknown-commitment");
      const output = await custodian.decryptOutput(roundId, aggregate, release);
      expect(output.values.length).to.equal(785 * 10);
    } finally {
      custodian.dispose();
      ctx.dispose();
    }
  });

  it("the auditor reproduces inputs, exclusions and both output commitments, and fails (exit 1) on the unfunded pool", async () => {
    const audit = await run(["audit", "--round", "1", "--home", network.home, "--json"]);
    expect(audit.code).to.equal(1);
    const verdict = audit.json as { passed: boolean; checks: { name: string; passed: boolean }[] };
    const byName = Object.fromEntries(verdict.checks.map((c) => [c.name, c.passed]));
    expect(byName).to.deep.include({
      "inputs-hash": true,
      "input-blobs": true,
      exclusions: true,
      "aggregate-commitment": true,
      "scores-commitment": true,
      "release-found": true,
      "release-after-finalization": true,
      "shapley-efficiency": true,
      "shares-sum-to-pool": false,
    });
    const exclusions = verdict.checks.find((c) => c.name === "exclusions") as unknown as { detail: string };
    expect(exclusions.detail).to.match(/#6 0x[0-9a-fA-F]{40} duplicate of round 1 #0/);
    expect(verdict.passed).to.equal(false);
  });
});
