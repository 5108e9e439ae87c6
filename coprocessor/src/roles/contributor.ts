// The contributor role: register (directly or gaslessly through a relayer), produce a model (local training on its
// own data, or an imported .npy/.safetensors/.json file), verify the program's public bundle against the chain,
// encrypt, and commit only a seal of the envelope's hash with the program's deposit during the commit phase (the
// envelope stays on this machine); during the reveal phase reveal the hash and the store's URI, then upload. Later:
// withdraw the deposit, read, claim and decrypt its own royalty.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CommitmentStatus, ROUND_PHASE_NAMES, RoundPhase } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { registrationTypedData } from "@ciphershare/protocol/chain/registration";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { KeyBundleHashMismatchError, readEncryptionBundle } from "@ciphershare/protocol/ckks/bundle-fetch";
import { envelopeCommitment } from "@ciphershare/protocol/ckks/envelope";
import { loadEncryptionKey, parsePublicBundle, type EncryptionKey } from "@ciphershare/protocol/ckks/keys";
import { encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import { CipherShareError } from "@ciphershare/protocol/errors";
import type { ModelUpdate } from "@ciphershare/protocol/formats/model-update";
import { isBytes32Hex, sameHash, type Hex } from "@ciphershare/protocol/hex";
import { decodeModel, type LinearModel } from "@ciphershare/protocol/records/model";
import { decodeRoundManifest } from "@ciphershare/protocol/records/round-manifest";
import { roundConfig, toRoundLayout, type RoundConfig } from "@ciphershare/protocol/round/config";
import { withProjection } from "@ciphershare/protocol/round/contribution";
import { matrix } from "@ciphershare/protocol/linalg/matrix";
import { decodeProjectionFactor } from "@ciphershare/protocol/records/projection-factor";
import { projectModel } from "../shapley/encrypted/consistency";
import { sealOf } from "@ciphershare/protocol/round/inputs";
import { latestTimestamp, mined, type ChainSigner } from "../chain/clients";
import { contractsFor, readProgram, readRound } from "../chain/contracts";
import { viemAccountSigner, type FhevmClient } from "../chain/fhevmClient";
import { BlobIntegrityError, type BlobStore } from "../storage/blob-store";
import { storeReader } from "../storage/key-bundle";

export class ContributorError extends CipherShareError {
  override name = "ContributorError";
}

export async function registerContributor(
  deployment: Deployment,
  contributor: ChainSigner,
  options: { metadataUri?: string; relayer?: ChainSigner } = {},
): Promise<"registered" | "already-registered"> {
  const { rounds } = contractsFor(deployment, contributor);
  if (await rounds.read.isRegistered([contributor.address])) return "already-registered";
  const uri = options.metadataUri ?? "";
  if (options.relayer === undefined) {
    await mined(contributor.reader, rounds.write.register([uri]));
    return "registered";
  }
  const deadline = (await latestTimestamp(contributor.reader)) + 600n;
  const signature = await contributor.account.signTypedData(
    registrationTypedData({
      chainId: deployment.chainId,
      registry: deployment.rounds,
      contributor: contributor.address,
      metadataURI: uri,
      nonce: await rounds.read.nonces([contributor.address]),
      deadline,
    }),
  );
  const relayed = contractsFor(deployment, options.relayer).rounds;
  await mined(
    options.relayer.reader,
    relayed.write.registerWithSignature([contributor.address, uri, deadline, signature]),
  );
  return "registered";
}

export interface RoundContext {
  readonly config: RoundConfig;
  readonly base: LinearModel;
  readonly publicBundleHash: Hex;
}

/** Reads the open round, its manifest and base model, each verified against the hash the chain holds. */
export async function readRoundContext(
  deployment: Deployment,
  reader: ChainSigner["reader"],
  store: BlobStore,
  roundId: bigint,
): Promise<RoundContext> {
  const round = await readRound(deployment, reader, roundId);
  if (round.phase !== RoundPhase.Open) {
    throw new ContributorError("The round is not open for contributions (its commit phase is over).", {
      details: `round ${roundId}, phase ${ROUND_PHASE_NAMES[round.phase]}`,
    });
  }
  const program = await readProgram(deployment, reader, round.programId);
  const config = roundConfig(decodeRoundManifest(await store.get(round.manifestHash)), program.valuationMethod);
  return { config, base: decodeModel(await store.get(config.baseModel)), publicBundleHash: program.publicKeyHash };
}

/**
 * The program's encryption key, verified: the manifest's keccak256 must equal the program's on-chain `publicKeyHash`
 * and the encryption bundle's the hash the manifest names, before anything is encrypted under it. Only the encryption
 * bundle (the public key, under 1 MB) is downloaded, never the coprocessor's evaluation keys; it is cached under the
 * verified hash.
 */
export async function verifiedBundle(
  ctx: CkksContext,
  store: BlobStore,
  expectedHash: Hex,
  cacheDir: string,
): Promise<EncryptionKey> {
  const cached = join(cacheDir, `bundle-${expectedHash.slice(2, 18)}.bin`);
  let encryptionPart: Uint8Array;
  if (existsSync(cached)) {
    encryptionPart = new Uint8Array(readFileSync(cached));
  } else {
    try {
      encryptionPart = (await readEncryptionBundle(storeReader(store), expectedHash)).bytes;
    } catch (error) {
      if (!(error instanceof KeyBundleHashMismatchError || error instanceof BlobIntegrityError)) throw error;
      throw new ContributorError("The public bundle does not match the program's on-chain hash; refusing to encrypt.", {
        details: error.details,
        cause: error,
      });
    }
    writeFileSync(cached, encryptionPart);
  }
  // The envelope names the bundle's manifest (what the chain pins), not the cached encryption part.
  return loadEncryptionKey(ctx, parsePublicBundle(encryptionPart), expectedHash.toLowerCase() as Hex);
}

export interface SubmittedContribution {
  readonly ciphertextHash: Hex;
  /** What went on-chain: `keccak256(abi.encode(ciphertextHash, contributor))`. */
  readonly seal: Hex;
  readonly sampleCount: number;
  readonly bytes: number;
  /** Wei sent with the commitment (the program's deposit). */
  readonly deposit: bigint;
}

/** A committed, not yet revealed contribution kept on the contributor's machine until the reveal phase. */
interface PendingContribution {
  readonly round: string;
  readonly ciphertextHash: Hex;
  readonly sampleCount: number;
}

function pendingPaths(localDir: string, roundId: bigint) {
  return { envelope: join(localDir, `round-${roundId}.envelope`), record: join(localDir, `round-${roundId}.json`) };
}

/**
 * Encrypts the update under the verified bundle and commits only the seal of its hash, with the round's deposit,
 * during the commit phase; the envelope stays in `localDir` until the reveal (uploading it now would let anyone
 * commit a copy). The update is taken in the round's layout (`toRoundLayout`): a file's single d×c tensor is the
 * round's model whatever its name. When the round published its validation factor R (and `projection` is not false),
 * the envelope also carries z = R·w (layout 2), computed here in plaintext from the R the manifest pins, so the
 * coprocessor checks z instead of computing it; `projection: false` submits the model alone.
 */
export async function submitContribution(
  deployment: Deployment,
  contributor: ChainSigner,
  store: BlobStore,
  options: {
    roundId: bigint;
    update: ModelUpdate;
    sampleCount: number;
    localDir: string;
    cacheDir: string;
    /** Default true: include the projection R·w when the round published R. */
    projection?: boolean;
  },
): Promise<SubmittedContribution & { readonly projection: boolean }> {
  const context = await readRoundContext(deployment, contributor.reader, store, options.roundId);
  let update = toRoundLayout(options.update, context.config);
  const { config } = context;
  const projection = options.projection !== false && config.projectionFactor !== undefined;
  if (projection) {
    // store.get checks the bytes against the hash the chain-pinned manifest names.
    const r = decodeProjectionFactor(await store.get(config.projectionFactor!), config.dimension);
    const z = projectModel(r, matrix(config.dimension, config.classes, update.values));
    update = withProjection(update, z.data, config);
  }
  const ctx = await CkksContext.create(config.parameterSet);
  try {
    const bundle = await verifiedBundle(ctx, store, context.publicBundleHash, options.cacheDir);
    try {
      const envelope = await encryptModelUpdate(ctx, bundle, update);
      return { ...(await keepAndCommit(deployment, contributor, { ...options, bytes: envelope })), projection };
    } finally {
      bundle.dispose();
    }
  } finally {
    ctx.dispose();
  }
}

/**
 * Keeps `bytes` in `localDir` until the reveal and commits the seal of their keccak256 with `sampleCount` and the
 * round's deposit: the commit step of a contribution envelope, or of a model operator's usage report
 * (roles/operator.ts). `revealContribution` later reveals and uploads the kept bytes.
 */
export async function keepAndCommit(
  deployment: Deployment,
  contributor: ChainSigner,
  options: { roundId: bigint; bytes: Uint8Array; sampleCount: number; localDir: string },
): Promise<SubmittedContribution> {
  const hash = await envelopeCommitment(options.bytes);
  const paths = pendingPaths(options.localDir, options.roundId);
  writeAtomically(paths.envelope, options.bytes);
  const pending: PendingContribution = {
    round: options.roundId.toString(),
    ciphertextHash: hash,
    sampleCount: options.sampleCount,
  };
  writeAtomically(paths.record, new TextEncoder().encode(`${JSON.stringify(pending)}\n`));
  const seal = sealOf(hash, contributor.address);
  const { rounds } = contractsFor(deployment, contributor);
  const deposit = (await readRound(deployment, contributor.reader, options.roundId)).commitDeposit;
  await mined(
    contributor.reader,
    rounds.write.commitContribution([options.roundId, seal, BigInt(options.sampleCount)], { value: deposit }),
  );
  return { ciphertextHash: hash, seal, sampleCount: options.sampleCount, bytes: options.bytes.length, deposit };
}

function writeAtomically(path: string, bytes: Uint8Array): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, bytes);
  renameSync(temporary, path);
}

/**
 * Waits until round `roundId` is in its reveal phase (the commit deadline passed), polling the chain; refuses a
 * round whose reveal phase is over or that never opened. The phase is the contract's (chain time, not this clock).
 */
export async function waitForRevealPhase(
  deployment: Deployment,
  reader: ChainSigner["reader"],
  roundId: bigint,
  options: { pollMs?: number; timeoutMs?: number } = {},
): Promise<void> {
  const started = Date.now();
  for (;;) {
    const round = await readRound(deployment, reader, roundId);
    if (round.phase === RoundPhase.Reveal) return;
    if (round.phase !== RoundPhase.Open) {
      throw new ContributorError("The round is not in its reveal phase.", {
        details: `round ${roundId}, phase ${ROUND_PHASE_NAMES[round.phase]}`,
      });
    }
    if (options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs) {
      throw new ContributorError("Timed out waiting for the round's reveal phase.", {
        details: `round ${roundId}: commit deadline ${round.commitDeadline}`,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
  }
}

export interface RevealedContribution {
  readonly ciphertextHash: Hex;
  readonly uri: string;
  /** False when this contribution was already revealed (a repeated call only makes sure the blob is uploaded). */
  readonly revealed: boolean;
  /** True when the chain judged the hash a Duplicate (revealed before, in this or an earlier round). */
  readonly duplicate: boolean;
}

/**
 * Reveals the kept contribution of round `roundId` (its hash and the store's URI) during the reveal phase, then
 * uploads the envelope and checks the store kept these bytes. Safe to repeat: an already revealed contribution is
 * only uploaded.
 */
export async function revealContribution(
  deployment: Deployment,
  contributor: ChainSigner,
  store: BlobStore,
  options: { roundId: bigint; storeUri: string; localDir: string },
): Promise<RevealedContribution> {
  const paths = pendingPaths(options.localDir, options.roundId);
  if (!existsSync(paths.record) || !existsSync(paths.envelope)) {
    throw new ContributorError("No contribution of this round is kept here: submit one first.", {
      details: `round ${options.roundId}, ${paths.record}`,
    });
  }
  const pending = JSON.parse(readFileSync(paths.record, "utf8")) as PendingContribution;
  const envelope = new Uint8Array(readFileSync(paths.envelope));
  const hash = await envelopeCommitment(envelope);
  if (!isBytes32Hex(pending.ciphertextHash) || !sameHash(hash, pending.ciphertextHash)) {
    throw new ContributorError("The kept envelope does not hash to the committed contribution.", {
      details: `${paths.envelope}: ${hash}, committed ${pending.ciphertextHash}`,
    });
  }
  const { rounds } = contractsFor(deployment, contributor);
  const alreadyRevealed = !sameHash(await rounds.read.commitmentOf([options.roundId, contributor.address]), ZERO_HASH);
  if (!alreadyRevealed) {
    const round = await readRound(deployment, contributor.reader, options.roundId);
    if (round.phase !== RoundPhase.Reveal) {
      throw new ContributorError("The round is not in its reveal phase.", {
        details: `round ${options.roundId}, phase ${ROUND_PHASE_NAMES[round.phase]}`,
      });
    }
    await mined(contributor.reader, rounds.write.revealContribution([options.roundId, hash, options.storeUri]));
  }
  const stored = await store.put(envelope, { round: options.roundId });
  if (!sameHash(stored, hash)) throw new ContributorError("The blob store stored other bytes.", { details: stored });
  const index = await rounds.read.commitmentIndexOf([options.roundId, contributor.address]);
  const { status } = await rounds.read.commitmentAt([options.roundId, index]);
  return {
    ciphertextHash: hash,
    uri: options.storeUri,
    revealed: !alreadyRevealed,
    duplicate: status === CommitmentStatus.Duplicate,
  };
}

const ZERO_HASH: Hex = `0x${"0".repeat(64)}`;

/**
 * Takes the commit deposit back from a concluded round when it is refundable (included by the final publication,
 * or revealed and not a duplicate in a round cancelled before any judgement); returns the wei refunded, or why not.
 */
export async function withdrawDeposit(
  deployment: Deployment,
  contributor: ChainSigner,
  roundId: bigint,
): Promise<{ refunded: bigint; reason?: string }> {
  const { rounds } = contractsFor(deployment, contributor);
  const round = await readRound(deployment, contributor.reader, roundId);
  if (round.phase !== RoundPhase.Finalized && round.phase !== RoundPhase.Cancelled) {
    return { refunded: 0n, reason: `the round is not concluded (phase ${ROUND_PHASE_NAMES[round.phase]})` };
  }
  if (round.commitDeposit === 0n) return { refunded: 0n, reason: "the round takes no deposit" };
  if (!(await rounds.read.isDepositRefundable([roundId, contributor.address]))) {
    return { refunded: 0n, reason: "not refundable: not committed, already withdrawn, or forfeited (excluded)" };
  }
  await mined(contributor.reader, rounds.write.withdrawDeposit([roundId]));
  return { refunded: round.commitDeposit };
}

/** The contributor's owed royalty for a round, decrypted with its own key (nobody else can). */
export async function owedRoyalty(
  deployment: Deployment,
  contributor: ChainSigner,
  fhevm: FhevmClient,
  roundId: bigint,
): Promise<bigint> {
  const { distributor } = contractsFor(deployment, contributor);
  const handle = await distributor.read.owedOf([roundId, contributor.address]);
  return fhevm.userDecryptUint64(handle, deployment.distributor, viemAccountSigner(contributor.account));
}

export async function claimRoyalty(deployment: Deployment, contributor: ChainSigner, roundId: bigint): Promise<void> {
  const { distributor } = contractsFor(deployment, contributor);
  if (!(await distributor.read.isSettled([roundId, contributor.address]))) {
    throw new ContributorError("Nothing to claim yet: the custodian has not settled this round for you.", {
      details: `round ${roundId}, ${contributor.address}`,
    });
  }
  if (await distributor.read.isClaimed([roundId, contributor.address])) return;
  await mined(contributor.reader, distributor.write.claim([roundId]));
}

/** The contributor's confidential token balance, decrypted with its own key. */
export async function tokenBalance(
  deployment: Deployment,
  contributor: ChainSigner,
  fhevm: FhevmClient,
): Promise<bigint> {
  const { token } = contractsFor(deployment, contributor);
  const handle = await token.read.confidentialBalanceOf([contributor.address]);
  return fhevm.userDecryptUint64(handle, deployment.token, viemAccountSigner(contributor.account));
}
