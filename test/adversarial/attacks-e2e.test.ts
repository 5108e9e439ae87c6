// The attacks of issue 9 against the roles as separate processes (`ciphershare coprocessor run`, `custodian run`,
// `audit`) on one real local chain and blob store, in one shared scenario:
//   - poisoned round: an older round of another program whose manifest is missing, and in the honest round a
//     contribution whose URI names a server that never answers — the coprocessor records the failure with its reason
//     and publishes the honest round anyway; `--programs` keeps a role to the programs it is configured for;
//   - decryption oracle: the round's own coprocessor publishes, as the round's aggregate, a victim's input with its
//     header changed to "aggregate" — the custodian recomputes the outputs from the committed inputs, files a
//     challenge during the dispute window and decrypts nothing;
//   - upheld challenge: the network upholds it, the honest coprocessor publishes anew, the custodian recomputes that
//     publication, decrypts only after finalization, anchors, settles; the auditor passes on the standing publication;
//   - stolen contribution: a thief who got the victim's ciphertext hash during the commit phase seals it as its own —
//     Duplicate, never included, never paid; the program's named input auditor re-runs everything, an unnamed one
//     checks the hashes and the release math and reports the input checks as restricted;
//   - malformed input ciphertext (issue 10): a contributor submits a ciphertext whose second component carries + K
//     (its effect on released outputs is linear in the secret key: a key-recovery path); the round runs with it, and
//     the attacker, as an outsider, gets none of the other contributors' input blobs to use a recovered key on: the
//     store refuses unsigned, foreign-signed, expired and replayed requests.
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { rmSync } from "node:fs";
import { encodeFunctionData, keccak256 as viemKeccak, toHex } from "viem";
import { roundManagerAbi } from "@ciphershare/protocol/chain/abis";
import { CommitmentStatus, ExclusionReason, RoundPhase } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { EnvelopeKind, parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import { checksum128Sync, initChecksum } from "@ciphershare/protocol/hashing/checksum";
import { getParameterSet } from "@ciphershare/protocol/ckks/params";
import { bytesToHex, hexToBytes, sameAddress, type Hex } from "@ciphershare/protocol/hex";
import { decodeReleaseRecord } from "@ciphershare/protocol/records/release-record";
import { inputsHash, publicationReasons, sealOf } from "@ciphershare/protocol/round/inputs";
import { ROUND_PARAMETER_SET_ID } from "@ciphershare/protocol/round/config";
import { chainReader, chainSigner, mined, roleAccount, type ChainReader } from "@ciphershare/coprocessor/chain/clients";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import { modelTensors } from "@ciphershare/protocol/round/config";
import {
  keepAndCommit,
  readRoundContext,
  revealContribution,
  verifiedBundle,
} from "@ciphershare/coprocessor/roles/contributor";
import { blobAccessDomain, workspaceRequestSigner } from "@ciphershare/coprocessor/roles/input-requests";
import { BlobAccessDeniedError, blobRequestSigner } from "@ciphershare/coprocessor/storage/blob-access";
import { HttpBlobStore } from "@ciphershare/coprocessor/storage/http-client";
import { levelOf, modulusChain } from "@ciphershare/coprocessor/threshold/modulus-chain";
import { parseCiphertext, serializeCiphertext } from "@ciphershare/coprocessor/threshold/seal-format";
import { rejectionOf } from "../support/rejection";
import { contractsFor, readRound } from "@ciphershare/coprocessor/chain/contracts";
import { readCommitments, readReasons, readReleaseAnchor } from "@ciphershare/coprocessor/chain/events";
import { verificationOf } from "@ciphershare/coprocessor/roles/custodian-verification";
import { WorkIsolation } from "@ciphershare/coprocessor/roles/isolation";
import {
  contributorAccount,
  openBlobStore,
  readDeployment,
  ROLE_ACCOUNT,
  storeUri,
} from "@ciphershare/coprocessor/roles/workspace";
import { StateStore } from "@ciphershare/coprocessor/state/store";
import { advanceChainPast } from "@ciphershare/coprocessor/chain/clients";
import { cli, startTestNetwork, type TestNetwork } from "../e2e/processes";

interface CoprocessorResult {
  processed: number[];
  failed: { round: number; publication: number; reason: string }[];
}
interface CustodianResult {
  settled: number[];
  challenged: number[];
  refused: number[];
  failed: { round: number; reason: string }[];
}
interface AuditResult {
  passed: boolean;
  checks: { name: string; passed: boolean; detail: string; restricted?: boolean }[];
}

/** The development account program 1 names as its input auditor (`network create-program --auditors`). */
const AUDITOR = 15;
/** The contributor who submits a malformed ciphertext (c1 + K) in round 3. */
const ATTACKER = 5;

describe("attacks end to end (roles as processes)", function () {
  const POISONED = 1n; // program 2, manifest missing
  const HONEST = 2n; // program 1
  let network: TestNetwork;
  let home: string;
  let deployment: Deployment;
  let reader: ChainReader;
  let silent: Server;
  let silentUrl: string;
  const address = (account: number) => roleAccount(account).address;
  const contributor = (i: number) => chainSigner(reader, roleAccount(contributorAccount(i)));
  const victimHash: { value?: Hex } = {};
  const HOSTILE_HASH = `0x${"4d".repeat(32)}` as Hex;
  const coprocessorRun = (...extra: string[]) =>
    cli<CoprocessorResult>(home, [
      "coprocessor",
      "run",
      "--once",
      "--fetch-timeout",
      "1500",
      "--retry-delay",
      "0",
      ...extra,
    ]);

  before(async function () {
    // A contributor-chosen blob store that accepts connections and never answers.
    silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;

    network = await startTestNetwork("ciphershare-attacks-");
    home = network.home;
    await cli(home, ["network", "deploy"]);
    deployment = readDeployment(network.ws);
    reader = chainReader(network.chain.rpcUrl, network.chain.chainId);
    await cli(home, ["custodian", "keygen"]);
    await cli(home, ["network", "create-program", "--auditors", address(AUDITOR)]);
    await cli(home, ["custodian", "accept", "--program", "1"]);
    await cli(home, ["network", "create-program"]);
    await cli(home, ["custodian", "accept", "--program", "2"]);
    await Promise.all(
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) => cli(home, ["contributor", "register", "--index", String(i)])),
    );

    // Round 1 (program 2) names a manifest nobody ever stored; three junk reveals let it close.
    const network_ = chainSigner(reader, roleAccount(ROLE_ACCOUNT.network));
    const now = (await reader.getBlock()).timestamp;
    await mined(
      reader,
      contractsFor(deployment, network_).rounds.write.openRound([2n, `0x${"3e".repeat(32)}`, now + 3000n, 1800, 600]),
    );
    // Round 2 (program 1): the honest round.
    await cli(home, ["network", "open-round", "--program", "1"]);
    const junk: [number, Hex][] = [5, 6, 7].map((i) => [i, viemKeccak(toHex(`junk ${i}`))]);
    for (const [i, hash] of junk) {
      await mined(
        reader,
        contractsFor(deployment, contributor(i)).rounds.write.commitContribution([
          POISONED,
          sealOf(hash, contributor(i).address),
          10n,
        ]),
      );
    }
    for (const i of [0, 1, 2]) {
      const submitted = await cli<{ ciphertextHash: Hex }>(home, [
        "contributor",
        "submit",
        "--index",
        String(i),
        "--round",
        String(HONEST),
        "--clients",
        "3",
      ]);
      if (i === 0) victimHash.value = submitted.ciphertextHash;
    }
    // The thief learned the victim's hash during the commit phase (a leak) and seals it as its own; contributor 4
    // commits a hash whose blob lives on the silent server.
    for (const [i, hash] of [
      [3, victimHash.value!],
      [4, HOSTILE_HASH],
    ] as const) {
      await mined(
        reader,
        contractsFor(deployment, contributor(i)).rounds.write.commitContribution([
          HONEST,
          sealOf(hash, contributor(i).address),
          500n,
        ]),
      );
    }
    await advanceChainPast(reader, (await readRound(deployment, reader, HONEST)).commitDeadline);
    for (const i of [0, 1, 2])
      await cli(home, ["contributor", "reveal", "--index", String(i), "--round", String(HONEST)]);
    await mined(
      reader,
      contractsFor(deployment, contributor(3)).rounds.write.revealContribution([HONEST, victimHash.value!, "local:"]),
    );
    await mined(
      reader,
      contractsFor(deployment, contributor(4)).rounds.write.revealContribution([HONEST, HOSTILE_HASH, silentUrl]),
    );
    for (const [i, hash] of junk) {
      await mined(
        reader,
        contractsFor(deployment, contributor(i)).rounds.write.revealContribution([POISONED, hash, "local:"]),
      );
    }
    await cli(home, ["network", "close", "--round", String(HONEST), "--advance-time"]);
    await cli(home, ["network", "close", "--round", String(POISONED), "--advance-time"]);
    for (const id of [POISONED, HONEST])
      expect((await readRound(deployment, reader, id)).phase).to.equal(RoundPhase.Closed);
  });

  after(async () => {
    silent?.closeAllConnections();
    await new Promise((resolve) => silent?.close(resolve));
    await network?.stop();
    if (network) rmSync(network.home, { recursive: true, force: true });
  });

  describe("poisoned round", () => {
    it("a role configured for one program serves only that program's rounds", async () => {
      const result = await coprocessorRun("--programs", "2");
      expect(result.processed).to.deep.equal([]);
      expect(result.failed.map((f) => f.round)).to.deep.equal([Number(POISONED)]);
      expect((await readRound(deployment, reader, HONEST)).phase).to.equal(RoundPhase.Closed, "program 1 untouched");
    });
  });

  describe("decryption oracle", () => {
    it("the round's own coprocessor publishes a victim's input relabelled as the aggregate: the custodian recomputes, challenges and decrypts nothing", async () => {
      // The coprocessor may read the round's inputs: it signs its requests.
      const store = openBlobStore(
        network.ws,
        workspaceRequestSigner(network.ws, roleAccount(ROLE_ACCOUNT.coprocessor)),
      );
      // The victim's envelope with its header relabelled "aggregate" at the output scale, checksum re-stamped: a
      // well-formed aggregate envelope under a new hash, whose decryption would be the victim's model update.
      const forged = Uint8Array.from(await store.get(victimHash.value!));
      const view = new DataView(forged.buffer);
      view.setUint8(5, EnvelopeKind.Aggregate);
      view.setFloat64(12, 2 ** getParameterSet(ROUND_PARAMETER_SET_ID).outputScaleBits);
      forged.fill(0, 52, 68);
      await initChecksum();
      forged.set(hexToBytes(checksum128Sync([forged]), 16), 52);
      expect((await parseEnvelope(forged, { kind: EnvelopeKind.Aggregate })).header.kind).to.equal(
        EnvelopeKind.Aggregate,
      );
      const forgedHash = await store.put(forged);
      const commitments = await readCommitments(reader, deployment, HONEST);
      const hostile = commitments.find((c) => c.ciphertextHash === HOSTILE_HASH)!;
      const reasons = publicationReasons(commitments, new Map([[hostile.index, ExclusionReason.BlobMissing]]));
      const included = commitments.filter((c) => reasons[c.index] === ExclusionReason.None);
      const coprocessor = chainSigner(reader, roleAccount(ROLE_ACCOUNT.coprocessor));
      await mined(
        reader,
        coprocessor.wallet.sendTransaction({
          to: deployment.rounds,
          data: encodeFunctionData({
            abi: roundManagerAbi,
            functionName: "publishResults",
            args: [HONEST, forgedHash, forgedHash, await inputsHash(included), bytesToHex(reasons)],
          }),
        }),
      );
      expect((await readRound(deployment, reader, HONEST)).phase).to.equal(RoundPhase.ResultsPublished);

      const result = await cli<CustodianResult>(home, ["custodian", "run", "--once"]);
      expect(result.challenged).to.deep.equal([Number(HONEST)]);
      const round = await readRound(deployment, reader, HONEST);
      expect(round.phase).to.equal(RoundPhase.Challenged);
      expect(sameAddress(round.challenger, address(ROLE_ACCOUNT.custodian))).to.equal(true);
      expect(await readReleaseAnchor(reader, deployment, HONEST)).to.equal(undefined);
      const state = StateStore.open(network.ws.custodianDb);
      try {
        const verdict = verificationOf(state, Number(HONEST), 1);
        expect(verdict).to.deep.include({ matches: false, publication: 1 });
        expect(verdict?.detail).to.match(/^aggregate: published/);
        expect(state.scoresOf(Number(HONEST))).to.equal(undefined, "nothing was decrypted");
        expect(state.getStep(Number(HONEST), "release")).to.equal(undefined);
      } finally {
        state.close();
      }
      // Running again changes nothing: the challenged publication is never served.
      expect((await cli<CustodianResult>(home, ["custodian", "run", "--once"])).challenged).to.deep.equal([]);
    });
  });

  describe("upheld challenge and poisoned round", () => {
    it("after the challenge is upheld the coprocessor publishes anew, while the poisoned round fails with its reason", async () => {
      await cli(home, ["network", "resolve-challenge", "--round", String(HONEST), "--upheld"]);
      const result = await coprocessorRun();
      expect(result.processed).to.deep.equal([Number(HONEST)]);
      expect(result.failed).to.have.length(1);
      expect(result.failed[0]).to.include({ round: Number(POISONED), publication: 1 });
      expect(result.failed[0].reason).to.match(/No blob with this hash/);
      const state = StateStore.open(network.ws.coprocessorDb);
      try {
        expect(new WorkIsolation(state, "coprocessor").failureOf("round:1:publication:1")?.reason).to.match(/No blob/);
      } finally {
        state.close();
      }
      const round = await readRound(deployment, reader, HONEST);
      expect(round).to.deep.include({ phase: RoundPhase.ResultsPublished, publication: 2 });
      const commitments = await readCommitments(reader, deployment, HONEST);
      const reasons = await readReasons(reader, deployment, HONEST, 2, commitments.length);
      const reasonOf = (i: number) =>
        reasons[commitments.find((c) => sameAddress(c.contributor, contributor(i).address))!.index];
      expect([0, 1, 2, 3, 4].map(reasonOf)).to.deep.equal([
        ExclusionReason.None,
        ExclusionReason.None,
        ExclusionReason.None,
        ExclusionReason.Duplicate,
        ExclusionReason.BlobMissing,
      ]);
    });

    it("the custodian recomputes the new publication, decrypts only once it is final, anchors and settles", async () => {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
      const verified = await cli<CustodianResult>(home, ["custodian", "run", "--once"]);
      expect(verified).to.deep.include({ settled: [], challenged: [], refused: [] });
      let state = StateStore.open(network.ws.custodianDb);
      try {
        expect(verificationOf(state, Number(HONEST), 2)).to.deep.include({ matches: true, publication: 2 });
        expect(state.scoresOf(Number(HONEST))).to.equal(undefined, "not final yet: nothing decrypted");
      } finally {
        state.close();
      }
      await cli(home, ["network", "fund", "--round", String(HONEST), "--amount", "1000"]);
      await cli(home, ["network", "finalize", "--round", String(HONEST), "--advance-time"]);
      const served = await cli<CustodianResult>(home, ["custodian", "run", "--once"]);
      expect(served.settled).to.deep.equal([Number(HONEST)]);
      state = StateStore.open(network.ws.custodianDb);
      try {
        expect(state.scoresOf(Number(HONEST))).to.have.length(3);
      } finally {
        state.close();
      }
    });
  });

  describe("stolen contribution", () => {
    it("the thief's copy is a Duplicate: the release names only the three honest contributors and the audit passes", async () => {
      const anchor = await readReleaseAnchor(reader, deployment, HONEST);
      expect(anchor?.publication).to.equal(2);
      const record = decodeReleaseRecord(await openBlobStore(network.ws).get(anchor!.releaseHash));
      expect(record.contributors.map((a) => a.toLowerCase())).to.have.members(
        [0, 1, 2].map((i) => contributor(i).address.toLowerCase()),
      );
      const commitments = await readCommitments(reader, deployment, HONEST);
      expect(commitments.find((c) => sameAddress(c.contributor, contributor(3).address))?.status).to.equal(
        CommitmentStatus.Duplicate,
      );
      // The program's named input auditor re-runs everything from the committed inputs.
      const audit = await cli<AuditResult>(home, ["audit", "--round", String(HONEST), "--account", String(AUDITOR)]);
      const failing = audit.checks.filter((c) => !c.passed || c.restricted);
      expect(failing, JSON.stringify(failing)).to.deep.equal([]);
      const exclusions = audit.checks.find((c) => c.name === "exclusions")!;
      expect(exclusions.detail).to.match(/duplicate of round 2 #0/);
      expect(exclusions.detail).to.match(/blob-missing/);
      for (const name of ["release-after-finalization", "release-from-recomputed"]) {
        expect(audit.checks.find((c) => c.name === name)?.passed, name).to.equal(true);
      }
    });

    it("an unnamed auditor is refused the inputs: it checks the hashes and the release math, the input checks are restricted", async () => {
      const audit = await cli<AuditResult>(home, ["audit", "--round", String(HONEST)]);
      expect(audit.passed).to.equal(true);
      const restricted = audit.checks.filter((c) => c.restricted).map((c) => c.name);
      expect(restricted).to.have.members([
        "input-blobs",
        "aggregate-commitment",
        "scores-commitment",
        "release-from-recomputed",
      ]);
      const verified = audit.checks.filter((c) => !c.restricted).map((c) => c.name);
      expect(verified).to.include.members([
        "inputs-hash",
        "exclusions",
        "release-found",
        "release-after-finalization",
        "shapley-efficiency",
        "score-release",
        "shares-sum-to-pool",
      ]);
      expect(audit.checks.find((c) => c.name === "input-blobs")?.detail).to.match(/not re-verified/);
    });
  });

  describe("malformed input ciphertext (c1 + K)", function () {
    // A whole round (three contributions, FedAvg and encrypted Shapley) on a machine other jobs share.
    this.timeout(1_800_000);
    const ROUND = 3n;
    const attacker = () => contributor(ATTACKER);

    it("the attacker's malformed ciphertext goes through a real round: well-formed bytes, included, published", async () => {
      await cli(home, ["network", "open-round", "--program", "1"]);
      expect((await readRound(deployment, reader, ROUND)).programId).to.equal(1n);
      for (const i of [0, 1]) {
        await cli(home, ["contributor", "submit", "--index", String(i), "--round", String(ROUND), "--clients", "3"]);
      }
      // The attacker encrypts an update honestly, then adds K to every residue of each ciphertext's second
      // component (c1 + K in NTT form): the bytes stay a well-formed SEAL ciphertext of the round's shape.
      const store = openBlobStore(network.ws);
      const localDir = network.ws.contributorDir(attacker().address);
      const context = await readRoundContext(deployment, reader, store, ROUND);
      const ctx = await CkksContext.create(context.config.parameterSet);
      let forged: Uint8Array;
      try {
        const bundle = await verifiedBundle(ctx, store, context.publicBundleHash, localDir);
        try {
          const { dimension, classes } = context.config;
          const honest = await encryptModelUpdate(ctx, bundle, {
            tensors: modelTensors(dimension, classes),
            values: new Float64Array(dimension * classes).fill(0.01),
          });
          forged = Uint8Array.from(honest);
          const { chunks } = await parseEnvelope(forged, { kind: EnvelopeKind.Contribution });
          const K = 1_000_003n;
          for (const chunk of chunks) {
            const raw = parseCiphertext(chunk);
            const { primes } = levelOf(modulusChain(ctx), raw.parmsId);
            const n = raw.polyModulusDegree;
            const c1 = raw.coeffModulusSize * n;
            primes.forEach((q, j) => {
              for (let i = 0; i < n; i++) raw.data[c1 + j * n + i] = (raw.data[c1 + j * n + i] + K) % q;
            });
            chunk.set(serializeCiphertext(raw));
          }
          forged.fill(0, 52, 68);
          await initChecksum();
          forged.set(hexToBytes(checksum128Sync([forged]), 16), 52);
          expect(forged).to.not.deep.equal(honest);
        } finally {
          bundle.dispose();
        }
      } finally {
        ctx.dispose();
      }
      const committed = await keepAndCommit(deployment, attacker(), {
        roundId: ROUND,
        bytes: forged,
        sampleCount: 1000,
        localDir,
      });
      await cli(home, ["contributor", "reveal", "--index", "0", "--round", String(ROUND), "--advance-time"]);
      await cli(home, ["contributor", "reveal", "--index", "1", "--round", String(ROUND)]);
      await revealContribution(deployment, attacker(), store, {
        roundId: ROUND,
        storeUri: storeUri(network.ws),
        localDir,
      });
      await cli(home, ["network", "close", "--round", String(ROUND), "--advance-time"]);
      expect((await coprocessorRun()).processed).to.include(Number(ROUND));
      const round = await readRound(deployment, reader, ROUND);
      expect(round.phase).to.equal(RoundPhase.ResultsPublished);
      const commitments = await readCommitments(reader, deployment, ROUND);
      const reasons = await readReasons(reader, deployment, ROUND, round.publication, commitments.length);
      const mine = commitments.find((c) => sameAddress(c.contributor, attacker().address))!;
      expect(mine.ciphertextHash).to.equal(committed.ciphertextHash);
      expect(Array.from(reasons)).to.deep.equal(
        commitments.map(() => ExclusionReason.None),
        "a c1 + K ciphertext cannot be told from an honest one: it is included",
      );
    });

    it("the attacker, as an outsider, gets none of the other contributors' inputs: unsigned, foreign-signed, expired and replayed requests are refused", async () => {
      const commitments = await readCommitments(reader, deployment, ROUND);
      const others = commitments.filter((c) => !sameAddress(c.contributor, attacker().address));
      expect(others).to.have.length(2);
      const domain = blobAccessDomain(deployment);
      const url = network.blobs.url;
      const as = (account: number, lifetime?: number) =>
        new HttpBlobStore(url, 2 ** 30, blobRequestSigner(roleAccount(account), domain, lifetime));
      for (const { ciphertextHash } of others) {
        const unsigned = await rejectionOf(new HttpBlobStore(url).get(ciphertextHash), BlobAccessDeniedError);
        expect(unsigned.status).to.equal(401);
        const foreign = await rejectionOf(as(contributorAccount(ATTACKER)).get(ciphertextHash), BlobAccessDeniedError);
        expect(foreign.status).to.equal(403, "a contributor of the round is an outsider to the other inputs");
        const expired = await rejectionOf(as(ROLE_ACCOUNT.coprocessor, -1).get(ciphertextHash), BlobAccessDeniedError);
        expect(expired.details).to.contain("expired");
        // A request the coprocessor signed, captured and replayed (or reused for another blob), is refused.
        const headers = await blobRequestSigner(roleAccount(ROLE_ACCOUNT.coprocessor), domain)(ciphertextHash);
        expect((await fetch(`${url}/blobs/${ciphertextHash}`, { headers })).status).to.equal(200);
        const replay = await fetch(`${url}/blobs/${ciphertextHash}`, { headers });
        expect(replay.status).to.equal(401);
        expect(await replay.text()).to.contain("replay");
        // Those who compute on it (the coprocessor, the custodian) and the named auditor read it.
        for (const reader_ of [ROLE_ACCOUNT.coprocessor, ROLE_ACCOUNT.custodian, AUDITOR]) {
          expect((await as(reader_).get(ciphertextHash)).length).to.be.greaterThan(0);
        }
      }
      // The round's outputs stay public.
      const round = await readRound(deployment, reader, ROUND);
      expect(await new HttpBlobStore(url).has(round.aggregateHash)).to.equal(true);
      expect(await new HttpBlobStore(url).has(round.scoresHash)).to.equal(true);
    });
  });
});
