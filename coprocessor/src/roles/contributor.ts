// The contributor role: register (directly or gaslessly through a relayer), produce a model (local training on its
// own data, or an imported .npy/.safetensors/.json file), verify the program's public bundle against the chain,
// encrypt, upload, commit; later read, claim and decrypt its own royalty.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RoundPhase } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { registrationTypedData } from "@ciphershare/protocol/chain/registration";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { envelopeCommitment } from "@ciphershare/protocol/ckks/envelope";
import {
  loadEncryptionKey,
  parsePublicBundle,
  serializePublicBundle,
  type EncryptionKey,
} from "@ciphershare/protocol/ckks/keys";
import { encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import { CipherShareError } from "@ciphershare/protocol/errors";
import type { ModelUpdate } from "@ciphershare/protocol/formats/model-update";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { sameHash, type Hex } from "@ciphershare/protocol/hex";
import { decodeModel, type LinearModel } from "@ciphershare/protocol/records/model";
import { decodeRoundManifest } from "@ciphershare/protocol/records/round-manifest";
import { roundConfig, toRoundLayout, type RoundConfig } from "@ciphershare/protocol/round/config";
import { latestTimestamp, mined, type ChainSigner } from "../chain/clients";
import { contractsFor, readProgram, readRound } from "../chain/contracts";
import { viemAccountSigner, type FhevmClient } from "../chain/fhevmClient";
import type { BlobStore } from "../storage/blob-store";

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
    throw new ContributorError("The round is not open for contributions.", {
      details: `round ${roundId}, phase ${round.phase}`,
    });
  }
  const program = await readProgram(deployment, reader, round.programId);
  const config = roundConfig(decodeRoundManifest(await store.get(round.manifestHash)), program.valuationMethod);
  return { config, base: decodeModel(await store.get(config.baseModel)), publicBundleHash: program.publicKeyHash };
}

/**
 * The program's public bundle, verified: its keccak256 must equal the program's on-chain `publicKeyHash` before
 * anything is encrypted under it. The bundle is large (Galois keys for the coprocessor); the contributor downloads
 * and hashes it once per epoch and caches only its public key, keyed by the verified hash.
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
    const bytes = await store.get(expectedHash);
    const hash = await keccak256(bytes);
    if (!sameHash(hash, expectedHash)) {
      throw new ContributorError("The public bundle does not match the program's on-chain hash; refusing to encrypt.", {
        details: `got ${hash}, chain has ${expectedHash}`,
      });
    }
    const bundle = parsePublicBundle(bytes);
    const empty = new Uint8Array();
    encryptionPart = serializePublicBundle({ ...bundle, relinKeys: empty, galoisKeys: empty, galoisSteps: [] });
    writeFileSync(cached, encryptionPart);
  }
  // The envelope names the full bundle (what the chain pins), not the cached encryption-only part.
  return loadEncryptionKey(ctx, parsePublicBundle(encryptionPart), expectedHash.toLowerCase() as Hex);
}

export interface SubmittedContribution {
  readonly ciphertextHash: Hex;
  readonly sampleCount: number;
  readonly bytes: number;
}

/**
 * Encrypts the update under the verified bundle, uploads the envelope and commits its hash on-chain. The update is
 * taken in the round's layout (`toRoundLayout`): a file's single d×c tensor is the round's model whatever its name.
 */
export async function submitContribution(
  deployment: Deployment,
  contributor: ChainSigner,
  store: BlobStore,
  options: { roundId: bigint; update: ModelUpdate; sampleCount: number; storeUri: string; cacheDir: string },
): Promise<SubmittedContribution> {
  const context = await readRoundContext(deployment, contributor.reader, store, options.roundId);
  const update = toRoundLayout(options.update, context.config);
  const ctx = await CkksContext.create(context.config.parameterSet);
  try {
    const bundle = await verifiedBundle(ctx, store, context.publicBundleHash, options.cacheDir);
    try {
      const envelope = await encryptModelUpdate(ctx, bundle, update);
      const hash = await store.put(envelope);
      if (hash !== (await envelopeCommitment(envelope)))
        throw new ContributorError("The blob store stored other bytes.");
      const { rounds } = contractsFor(deployment, contributor);
      await mined(
        contributor.reader,
        rounds.write.commitContribution([options.roundId, hash, BigInt(options.sampleCount), options.storeUri]),
      );
      return { ciphertextHash: hash, sampleCount: options.sampleCount, bytes: envelope.length };
    } finally {
      bundle.dispose();
    }
  } finally {
    ctx.dispose();
  }
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
