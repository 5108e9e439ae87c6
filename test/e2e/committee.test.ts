import { expect } from "chai";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bytesToHex, getContract } from "viem";
import { custodianCommitteeAbi } from "@ciphershare/protocol/chain/abis";
import { RoundPhase, SettlementState } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { encodeJsonRecord } from "@ciphershare/protocol/records/json";
import { inputsHash, publicationReasons, includedContributions } from "@ciphershare/protocol/round/inputs";
import {
  advanceChainTime,
  chainReader,
  chainSigner,
  mined,
  roleAccount,
  type ChainReader,
  type ChainSigner,
} from "@ciphershare/coprocessor/chain/clients";
import { contractsFor, contractsToRead, readRound } from "@ciphershare/coprocessor/chain/contracts";
import { readCommitments } from "@ciphershare/coprocessor/chain/events";
import { FhevmClient } from "@ciphershare/coprocessor/chain/fhevmClient";
import {
  committeeAddress,
  committeeToRead,
  serveRoundAsMember,
  SETTLEMENT_TURN_SECONDS,
  type MemberRoleOptions,
} from "@ciphershare/coprocessor/roles/committee-member";
import {
  combineRoundRelease,
  fetchRoundPartials,
  readRoundReleaseInputs,
} from "@ciphershare/coprocessor/roles/committee-release";
import {
  blobStoreForUri,
  contributorAccount,
  readDeployment,
  ROLE_ACCOUNT,
} from "@ciphershare/coprocessor/roles/workspace";
import { ChainInputReaders, blobAccessDomain } from "@ciphershare/coprocessor/roles/input-access";
import { workspaceRequestSigner } from "@ciphershare/coprocessor/roles/input-requests";
import { StateStore } from "@ciphershare/coprocessor/state/store";
import {
  BlobAccessDeniedError,
  BlobAccessGuard,
  blobRequestSigner,
} from "@ciphershare/coprocessor/storage/blob-access";
import { HttpBlobStore } from "@ciphershare/coprocessor/storage/http-client";
import { startBlobServer } from "@ciphershare/coprocessor/storage/http-server";
import { LocalDirectoryBlobStore } from "@ciphershare/coprocessor/storage/local-directory";
import { committeeFiles, memberAccount } from "@ciphershare/scripts/cli/commands/committee";
import { usageTotalUnits } from "@ciphershare/protocol/chain/usage-terms";
import { serializeNpy } from "@ciphershare/protocol/formats/npy";
import { encodeUsagePeriodRecord } from "@ciphershare/protocol/records/usage-period";
import { combineUsageRelease } from "@ciphershare/coprocessor/roles/committee-usage";
import { computeUsagePeriod } from "@ciphershare/coprocessor/roles/usage-coprocessor";
import { usagePeriodShares } from "@ciphershare/coprocessor/roles/usage-custodian";
import { plaintextUsageTotals } from "@ciphershare/coprocessor/usage/attribution";
import { syntheticAttributions } from "@ciphershare/coprocessor/usage/synthetic";
import { rejectionOf } from "../support/rejection";
import { cli, PASSPHRASE, run, startTestNetwork, type TestNetwork } from "./processes";

// A 2-of-3 custodian committee on a real local chain, each member its own process: member 3 joins the release and
// goes silent (down); after the committee's share deadline members 1 and 2 stop waiting for it, report it, and
// release and settle the round without it, the anchored record being exactly what anyone recombines from the
// published partial decryptions. On a round whose published outputs are forged, the two honest members recompute,
// refuse and nothing is released although the third (dishonest) member joins.
/** What `custodian run --member K --once --json` prints. */
interface MemberReport {
  member: number;
  rounds: Record<string, string>;
  releasedBy: Record<string, number[]>;
  silent: Record<string, number[]>;
}

describe("end to end: a 2-of-3 custodian committee", function () {
  let network: TestNetwork;
  let home: string;
  let deployment: Deployment;
  let reader: ChainReader;
  const zero = `0x${"0".repeat(64)}`;
  /** The committee contract as `signer` writes it. */
  const committeeFor = (signer: ChainSigner) =>
    getContract({
      address: committeeAddress(deployment),
      abi: custodianCommitteeAbi,
      client: { public: signer.reader, wallet: signer.wallet },
    });

  /** Submits and reveals contributors offset…offset + 2 to `round` (MNIST split in offset + 3), then closes it. */
  async function contribute(round: number, offset: number): Promise<void> {
    for (const i of [0, 1, 2]) {
      await cli(home, [
        "contributor",
        "submit",
        "--index",
        String(i + offset),
        "--round",
        String(round),
        "--clients",
        String(offset + 3),
      ]);
    }
    await cli(home, ["contributor", "reveal", "--index", String(offset), "--round", String(round), "--advance-time"]);
    for (const i of [1, 2]) {
      await cli(home, ["contributor", "reveal", "--index", String(i + offset), "--round", String(round)]);
    }
    await cli(home, ["network", "close", "--round", String(round), "--advance-time"]);
  }

  before(async function () {
    network = await startTestNetwork("ciphershare-committee-");
    home = network.home;
    await cli(home, ["network", "deploy"]);
    const setup = await cli<{ members: string[]; threshold: number; shareCommitments: string[] }>(home, [
      "custodian",
      "keygen",
      "--committee",
      "--threshold",
      "2",
    ]);
    expect(setup.members).to.have.length(3);
    await cli(home, ["network", "create-program", "--committee"]);
    for (const k of [1, 2, 3]) await cli(home, ["custodian", "accept", "--program", "1", "--member", String(k)]);
    deployment = readDeployment(network.ws);
    reader = chainReader(network.chain.rpcUrl, network.chain.chainId);
    await Promise.all([0, 1, 2, 3, 4, 5].map((i) => cli(home, ["contributor", "register", "--index", String(i)])));
    await cli(home, ["network", "open-round", "--program", "1"]);
    await contribute(1, 0);
    const published = await run(["coprocessor", "run", "--once", "--home", home, "--json"]);
    expect(published.code, published.stderr).to.equal(0);
    await cli(home, ["network", "finalize", "--round", "1", "--advance-time"]);
    await cli(home, ["network", "fund", "--round", "1", "--amount", "1000000"]);
  });

  after(async () => {
    await network?.stop();
    if (network) rmSync(network.home, { recursive: true, force: true });
  });

  it("one member silent, then down: members 1 and 2, as processes, drop it after the deadline and release; member 1 then goes down and members 2 and 3 settle after its turn; the anchor is what anyone recombines", async () => {
    const committee = committeeToRead(deployment, reader);
    // Member 3 joins the release first and then goes silent (down): the set [1, 3] forms with member 1 and waits
    // for member 3's shares until the committee's share deadline, then members 1 and 2 stop waiting for it.
    const silentMember = chainSigner(reader, roleAccount(memberAccount(3)));
    await mined(reader, committeeFor(silentMember).write.joinRelease([1n]));
    // Each member is a daemon serving what is pending; here each pass is one `--once` run, alternating.
    const failures: string[] = [];
    const reports: MemberReport[] = [];
    let advanced = false;
    // Once the release is anchored, member 1 (the set's lowest: the settlement's first proposer) goes down; members
    // 2 and 3 wait for its turn (SETTLEMENT_TURN_SECONDS of chain time), then member 2 takes over.
    let anchored = false;
    let turnPassed = false;
    for (let pass = 0; pass < 18; pass++) {
      const outcomes: string[] = [];
      for (const k of anchored ? [2, 3] : [1, 2]) {
        const served = await run(["custodian", "run", "--member", String(k), "--once", "--home", home, "--json"]);
        if (served.code !== 0) {
          failures.push(`pass ${pass}, member ${k}: ${served.stderr}`);
          outcomes.push("failed");
          continue;
        }
        const report = served.json as MemberReport;
        reports.push(report);
        outcomes.push(report.rounds["1"] ?? "done");
      }
      const release = await committee.read.releaseOf([1n]);
      if (!advanced && release.submittedCount === 1) {
        // Member 1 published its shares for [1, 3]; nothing moves until the deadline passes (chain time).
        expect(outcomes).to.deep.equal(["waiting", "waiting"]);
        expect(reports.every((r) => r.silent["1"] === undefined)).to.equal(true, "not silent before the deadline");
        await advanceChainTime(reader, Number(await committee.read.SHARE_DEADLINE()) + 1);
        advanced = true;
      }
      if (outcomes.every((o) => o === "settled" || o === "done")) break;
      if (!anchored && (await readRound(deployment, reader, 1n)).releaseHash !== zero) {
        anchored = true;
      } else if (anchored && !turnPassed) {
        // A pass of members 2 and 3 with member 1 down: within member 1's turn nothing is settled.
        const { distributor } = contractsToRead(deployment, reader);
        expect(Number(await distributor.read.settledCount([1n]))).to.equal(0, "settled within member 1's turn");
        await advanceChainTime(reader, SETTLEMENT_TURN_SECONDS + 1);
        turnPassed = true;
      }
    }
    expect(turnPassed).to.equal(true, "member 1 went down after the release and its settlement turn passed");
    expect(advanced).to.equal(true, "the set [1, 3] formed and waited for member 3");
    // The members stopped waiting for member 3 and report it; it is barred from the round's release.
    expect(reports.some((r) => JSON.stringify(r.silent) === JSON.stringify({ "1": [3] }))).to.equal(true);
    const served = reports.filter((r) => r.rounds["1"] !== undefined);
    const last = served.at(-1)!;
    expect(last.silent).to.deep.equal({ "1": [3] }, "every later pass that serves round 1 still reports it");
    expect(last.releasedBy).to.deep.equal({ "1": [1, 2] });
    const release = await committee.read.releaseOf([1n]);
    expect([release.silent, release.attempt]).to.deep.equal([0b1000, 1]);
    if (failures.length > 0)
      process.stderr.write(`member passes that failed (and were resumed):\n${failures.join("\n")}\n`);
    expect(failures.length).to.be.below(3, failures.join("\n"));
    const round = await readRound(deployment, reader, 1n);
    expect(round.releaseHash).to.not.equal(zero);
    expect((await committee.read.decryptingSetOf([1n])).map(Number)).to.deep.equal([1, 2]);
    const { distributor } = contractsToRead(deployment, reader);
    expect(Number(await distributor.read.settlementState([1n]))).to.equal(SettlementState.Completed);
    expect(Number(await distributor.read.settledCount([1n]))).to.equal(3);
    // Settled without member 1: member 2 executed (and, unless member 1 proposed before going down, proposed) it.
    const executed = await reader.getContractEvents({
      address: committeeAddress(deployment),
      abi: custodianCommitteeAbi,
      eventName: "SettlementExecuted",
      args: { roundId: 1n },
      fromBlock: BigInt(deployment.deployedAtBlock),
    });
    expect(executed).to.have.length(1);
    const proposals = await reader.getContractEvents({
      address: committeeAddress(deployment),
      abi: custodianCommitteeAbi,
      eventName: "SettlementProposed",
      args: { roundId: 1n },
      fromBlock: BigInt(deployment.deployedAtBlock),
    });
    const member = (k: number) => roleAccount(memberAccount(k)).address;
    const proposers = proposals.map((p) => p.args.proposer!);
    expect(proposers.every((a) => a === member(1) || a === member(2))).to.equal(true);
    const transaction = await reader.getTransaction({ hash: executed[0].transactionHash });
    expect(transaction.from.toLowerCase()).to.equal(member(2).toLowerCase());

    // The auditor's redo: the same partial blobs give the same record, byte for byte.
    const store = new LocalDirectoryBlobStore(network.ws.blobsDir);
    const inputs = await readRoundReleaseInputs(deployment, reader, store, 1n);
    const shares = await Promise.all([1, 2].map(async (m) => [...(await committee.read.decryptionSharesOf([1n, m]))]));
    const ctx = await CkksContext.create(inputs.config.parameterSet);
    try {
      const { record } = await combineRoundRelease(ctx, store, inputs, await fetchRoundPartials(store, round, shares));
      expect(await keccak256(encodeJsonRecord(record))).to.equal(round.releaseHash);
    } finally {
      ctx.dispose();
    }
    const audit = await run(["audit", "--round", "1", "--home", home, "--json"]);
    const verdict = audit.json as { passed: boolean; checks: { name: string; passed: boolean; detail: string }[] };
    expect(verdict.passed, JSON.stringify(verdict.checks.filter((c) => !c.passed))).to.equal(true);
  });

  it("forged outputs: two honest members recompute and refuse, the dishonest third joins alone, nothing is released", async () => {
    // t = 2 and only one member is dishonest: fewer than t members agree to release, so nothing decrypts, even
    // after the share deadline (no set ever formed: there is no one to drop) and whatever the dishonest one sends.
    await cli(home, ["network", "open-round", "--program", "1"]);
    await contribute(2, 3);
    // The coprocessor publishes round 1's outputs as round 2's (real envelopes, not what round 2's inputs give).
    const coprocessor = chainSigner(reader, roleAccount(ROLE_ACCOUNT.coprocessor));
    const commitments = await readCommitments(reader, deployment, 2n);
    const reasons = publicationReasons(commitments, new Map());
    const first = await readRound(deployment, reader, 1n);
    await mined(
      reader,
      contractsFor(deployment, coprocessor).rounds.write.publishResults([
        2n,
        first.aggregateHash,
        first.scoresHash,
        await inputsHash(includedContributions(commitments, reasons)),
        bytesToHex(reasons),
      ]),
    );
    await cli(home, ["network", "finalize", "--round", "2", "--advance-time"]);
    expect((await readRound(deployment, reader, 2n)).phase).to.equal(RoundPhase.Finalized);

    const fhevm = await FhevmClient.connect(network.chain.rpcUrl);
    const logs: string[] = [];
    const member = (k: number, verify?: MemberRoleOptions["verify"]): MemberRoleOptions => ({
      deployment,
      signer: chainSigner(reader, roleAccount(memberAccount(k))),
      state: StateStore.open(join(home, `in-process-member-${k}.sqlite`)),
      store: new LocalDirectoryBlobStore(network.ws.blobsDir),
      // A member signs its reads: the store serves the round's inputs only to its computing parties.
      storeForUri: (uri) =>
        blobStoreForUri(network.ws, uri, undefined, workspaceRequestSigner(network.ws, roleAccount(memberAccount(k)))),
      fhevm,
      keystorePath: committeeFiles(network.ws).keystore(k),
      passphrase: PASSPHRASE,
      verify,
      log: (line) => logs.push(`member ${k}: ${line}`),
    });
    const members = [member(1, async () => []), member(2), member(3)];
    try {
      expect(await serveRoundAsMember(members[0], 2n)).to.equal("waiting", "the dishonest member joins and waits");
      expect(await serveRoundAsMember(members[1], 2n)).to.equal("refused");
      expect(logs.join("\n")).to.match(/member 2: round 2: refusing to release: .*aggregate-commitment/);
      expect(await serveRoundAsMember(members[2], 2n)).to.equal("refused");
      expect(await serveRoundAsMember(members[0], 2n)).to.equal("waiting");
      const committee = committeeToRead(deployment, reader);
      const release = await committee.read.releaseOf([2n]);
      expect([release.joinedCount, release.submittedCount]).to.deep.equal([1, 0]);
      expect((await readRound(deployment, reader, 2n)).releaseHash).to.equal(zero);
      await advanceChainTime(reader, Number(await committee.read.SHARE_DEADLINE()) + 1);
      expect(await serveRoundAsMember(members[0], 2n)).to.equal("waiting", "still alone past the deadline");
      const dishonest = committeeFor(members[0].signer);
      for (const attempt of [
        () => dishonest.simulate.submitDecryptionShares([2n, [first.aggregateHash, first.scoresHash]]),
        () => dishonest.simulate.approveRelease([2n, first.releaseHash]),
        () => dishonest.simulate.dropSilentMembers([2n]),
      ]) {
        await rejectionOf(attempt(), Error);
      }
      expect((await readRound(deployment, reader, 2n)).releaseHash).to.equal(zero);
    } finally {
      members.forEach((m) => m.state.close());
      fhevm.destroy();
    }
  });

  it("the blob store serves round 1's inputs and scores partials only to signed requests of its readers", async () => {
    const guard = new BlobAccessGuard(new ChainInputReaders(deployment, reader), blobAccessDomain(deployment));
    const server = await startBlobServer(new LocalDirectoryBlobStore(network.ws.blobsDir), { access: guard });
    const as = (account: number) =>
      new HttpBlobStore(server.url, 2 ** 30, blobRequestSigner(roleAccount(account), blobAccessDomain(deployment)));
    try {
      const [input] = (await readCommitments(reader, deployment, 1n)).map((c) => c.ciphertextHash);
      const denied = await rejectionOf(new HttpBlobStore(server.url).get(input), BlobAccessDeniedError);
      expect(denied.status).to.equal(401);
      const outsider = await rejectionOf(as(contributorAccount(0)).get(input), BlobAccessDeniedError);
      expect(outsider.status).to.equal(403, "not even a contributor of the round");
      expect(await as(ROLE_ACCOUNT.coprocessor).has(input)).to.equal(true);
      expect(await as(memberAccount(3)).has(input)).to.equal(true);

      const committee = committeeToRead(deployment, reader);
      const [aggregatePartial, scoresPartial] = await committee.read.decryptionSharesOf([1n, 1]);
      expect(await new HttpBlobStore(server.url).has(aggregatePartial)).to.equal(true, "the aggregate's are public");
      await rejectionOf(new HttpBlobStore(server.url).get(scoresPartial), BlobAccessDeniedError);
      expect(await as(memberAccount(3)).has(scoresPartial)).to.equal(true);
      const round = await readRound(deployment, reader, 1n);
      expect(await new HttpBlobStore(server.url).has(round.releaseHash)).to.equal(true, "release records are public");
    } finally {
      await server.close();
    }
  });
  it("a usage period of a committee program: members 1 and 2 (3 down) release it, seal each artist's total and settle; on forged totals they refuse", async () => {
    // Program 2: usage, custodied by the same committee; artists are contributors 1–4 (accounts 5–8), the operator
    // account 16 (not a member).
    const operatorAccount = 16;
    const operator = roleAccount(operatorAccount).address;
    await cli(home, [
      "network",
      "create-program",
      "--committee",
      "--kind",
      "usage",
      "--min-contributors",
      "1",
      "--artist-accounts",
      "5,6,7,8",
      "--operator",
      operator,
    ]);
    // One operator per period: a crowd of 1 is below the members' default policy, so it is overruled on purpose.
    for (const k of [1, 2, 3]) {
      await cli(home, ["custodian", "accept", "--program", "2", "--member", String(k), "--force"]);
    }
    await cli(home, ["operator", "register", "--account", String(operatorAccount)]);
    const store = new LocalDirectoryBlobStore(network.ws.blobsDir);
    const fhevm = await FhevmClient.connect(network.chain.rpcUrl);
    const logs: string[] = [];
    const member = (k: number): MemberRoleOptions => ({
      deployment,
      signer: chainSigner(reader, roleAccount(memberAccount(k))),
      state: StateStore.open(join(home, `usage-member-${k}.sqlite`)),
      store,
      storeForUri: (uri) =>
        blobStoreForUri(network.ws, uri, undefined, workspaceRequestSigner(network.ws, roleAccount(memberAccount(k)))),
      fhevm,
      keystorePath: committeeFiles(network.ws).keystore(k),
      passphrase: PASSPHRASE,
      log: (line) => logs.push(`member ${k}: ${line}`),
    });
    const members = [member(1), member(2)];
    /** The operator reports `generations` attributions to a new period (round `round`), closed and aggregated. */
    const period = async (generations: number, seed: number, batch: number) => {
      await cli(home, ["network", "open-round", "--program", "2"]);
      const round = await contractsToRead(deployment, reader).rounds.read.roundCount();
      const rows = syntheticAttributions(generations, 4, { seed, unused: [3] });
      const values = new Float64Array(rows.length * 4);
      rows.forEach((row, g) => values.set(row, g * 4));
      const file = join(home, `usage-${round}.npy`);
      writeFileSync(file, serializeNpy(values, [rows.length, 4]));
      await cli(home, [
        "operator",
        "report",
        "--round",
        String(round),
        "--attributions",
        file,
        "--batch",
        String(batch),
        "--reveal",
        "--advance-time",
        "--account",
        String(operatorAccount),
      ]);
      await cli(home, ["network", "close", "--round", String(round), "--advance-time"]);
      return { round, expected: plaintextUsageTotals(rows, 4) };
    };
    try {
      const { round: id, expected } = await period(600, 31, 1000);
      await cli(home, ["network", "fund", "--round", String(id), "--amount", "1000000"]);
      const published = await cli<{ processed: number[] }>(home, ["coprocessor", "run", "--once"]);
      expect(published.processed).to.deep.equal([Number(id)]);
      await cli(home, ["network", "finalize", "--round", String(id), "--advance-time"]);
      let outcomes: string[] = [];
      for (let pass = 0; pass < 8; pass++) {
        outcomes = [];
        for (const m of members) outcomes.push(await serveRoundAsMember(m, id));
        if (outcomes.every((o) => o === "settled")) break;
      }
      expect(outcomes, logs.join("\n")).to.deep.equal(["settled", "settled"]);
      const committee = committeeToRead(deployment, reader);
      expect((await committee.read.decryptingSetOf([id])).map(Number)).to.deep.equal([1, 2]);
      const shareHashes = await Promise.all([1, 2].map(async (m) => await committee.read.decryptionSharesOf([id, m])));
      expect(shareHashes.map((h) => h.length)).to.deep.equal([1, 1], "one output: the totals");
      // Combined, the totals' partials give every artist's total: the store serves them to the committee only.
      const guard = new BlobAccessGuard(new ChainInputReaders(deployment, reader), blobAccessDomain(deployment));
      const server = await startBlobServer(store, { access: guard });
      try {
        const partial = shareHashes[0][0];
        await rejectionOf(new HttpBlobStore(server.url).get(partial), BlobAccessDeniedError);
        const as = (account: number) =>
          new HttpBlobStore(server.url, 2 ** 30, blobRequestSigner(roleAccount(account), blobAccessDomain(deployment)));
        expect((await rejectionOf(as(contributorAccount(1)).get(partial), BlobAccessDeniedError)).status).to.equal(403);
        expect(await as(memberAccount(3)).has(partial)).to.equal(true);
      } finally {
        await server.close();
      }
      // Anyone holding the set's partials (the committee: the store guards them) recombines the anchored record.
      const round = await readRound(deployment, reader, id);
      const combined = await combineUsageRelease(
        deployment,
        reader,
        store,
        id,
        shareHashes.map((h) => h[0]),
      );
      expect(combined.releaseHash).to.equal(round.releaseHash);
      for (const [i, total] of combined.totals.entries()) {
        expect(Math.abs(total - expected[i])).to.be.below(combined.resolution, `artist ${i + 1}'s total`);
      }
      const { distributor, usageTerms } = contractsToRead(deployment, reader);
      expect(Number(await distributor.read.settlementState([id]))).to.equal(SettlementState.Completed);
      expect(Number(await usageTerms!.read.sealedTotalCount([id]))).to.equal(4);
      // Each artist decrypts its own sealed total (the others' are refused by the ACL: test/contracts/committee);
      // its royalty is its share of the pool by the released totals.
      const { shares } = usagePeriodShares(1_000_000n, combined);
      for (const i of [0, 3]) {
        const own = await cli<{ sealed: boolean; units: string }>(home, [
          "contributor",
          "usage",
          "--round",
          String(id),
          "--index",
          String(i + 1),
        ]);
        expect(own.sealed).to.equal(true);
        expect(BigInt(own.units)).to.equal(usageTotalUnits(combined.totals[i], combined.resolution));
        const claim = await cli<{ claimed: string }>(home, [
          "contributor",
          "claim",
          "--round",
          String(id),
          "--index",
          String(i + 1),
        ]);
        expect(BigInt(claim.claimed)).to.equal(shares[i]);
      }
      expect(shares[3]).to.equal(0n, "the never-used artist");

      // Period 4: the coprocessor publishes one batch as "the totals". Each member recomputes and refuses: no share.
      const { round: forgedId } = await period(300, 32, 100);
      const coprocessor = chainSigner(reader, roleAccount(ROLE_ACCOUNT.coprocessor));
      const honest = await computeUsagePeriod(deployment, reader, store, forgedId, undefined);
      const forged = { ...honest.record, totals: honest.record.batches[0].hash };
      await mined(
        reader,
        contractsFor(deployment, coprocessor).rounds.write.publishResults([
          forgedId,
          forged.totals,
          await store.put(encodeUsagePeriodRecord(forged)),
          await inputsHash(honest.period.included),
          bytesToHex(honest.period.reasons),
        ]),
      );
      await cli(home, ["network", "finalize", "--round", String(forgedId), "--advance-time"]);
      for (const m of members) expect(await serveRoundAsMember(m, forgedId)).to.equal("refused");
      expect(logs.join("\n")).to.match(
        new RegExp(`member 2: round ${forgedId}: refusing to release: not-the-recomputed-totals`),
      );
      const release = await committee.read.releaseOf([forgedId]);
      expect([release.joinedCount, release.submittedCount]).to.deep.equal([0, 0]);
    } finally {
      members.forEach((m) => m.state.close());
      fhevm.destroy();
    }
  });
});
