// The contributor role: register (directly or gaslessly through a relayer), produce a model (local training on its
// own data, or an imported .npy/.safetensors/.json file), verify the program's public bundle against the chain,
// encrypt, upload, commit; later read, claim and decrypt its own royalty.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HDNodeWallet, Wallet } from "ethers";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { envelopeCommitment } from "@ciphershare/protocol/ckks/envelope";
import {
  loadPublicBundle,
  parsePublicBundle,
  serializePublicBundle,
  type LoadedPublicBundle,
} from "@ciphershare/protocol/ckks/keys";
import { encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import {
  contractsAt,
  latestTimestamp,
  readProgram,
  readRound,
  RoundPhase,
  rpcProvider,
  type Deployment,
} from "../chain/ciphershare";
import type { FhevmClient } from "../chain/fhevmClient";
import { InvalidInputError, CipherShareError } from "@ciphershare/protocol/errors";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { type Hex } from "@ciphershare/protocol/hex";
import type { ModelUpdate } from "@ciphershare/protocol/formats/model-update";
import { decodeModel, type LinearModel } from "@ciphershare/protocol/records/model";
import type { BlobStore } from "../storage/blob-store";
import { modelTensors, ROUND_PARAMETER_SET } from "./computation";
import { decodeRoundManifest, type RoundManifest } from "@ciphershare/protocol/records/round-manifest";

type Signer = Wallet | HDNodeWallet;

export class ContributorError extends CipherShareError {
  override name = "ContributorError";
}

export async function registerContributor(
  deployment: Deployment,
  contributor: Signer,
  options: { metadataUri?: string; relayer?: Signer } = {},
): Promise<"registered" | "already-registered"> {
  const { rounds } = contractsAt(deployment, contributor);
  if (await rounds.getFunction("isRegistered")(contributor.address)) return "already-registered";
  const uri = options.metadataUri ?? "";
  if (options.relayer === undefined) {
    await (await rounds.getFunction("register")(uri)).wait();
    return "registered";
  }
  const provider = contributor.provider as ReturnType<typeof rpcProvider>;
  const deadline = (await latestTimestamp(provider)) + 600n;
  const nonce = BigInt(await rounds.getFunction("nonces")(contributor.address));
  const signature = await contributor.signTypedData(
    {
      name: "CipherShare ContributorRegistry",
      version: "1",
      chainId: deployment.chainId,
      verifyingContract: deployment.rounds,
    },
    {
      Register: [
        { name: "contributor", type: "address" },
        { name: "metadataURI", type: "string" },
        { name: "nonce", type: "uint256" },
        { name: "deadline", type: "uint256" },
      ],
    },
    { contributor: contributor.address, metadataURI: uri, nonce, deadline },
  );
  const relayed = contractsAt(deployment, options.relayer).rounds;
  await (await relayed.getFunction("registerWithSignature")(contributor.address, uri, deadline, signature)).wait();
  return "registered";
}

export interface RoundContext {
  readonly manifest: RoundManifest;
  readonly base: LinearModel;
  readonly publicBundleHash: Hex;
}

/** Reads the open round, its manifest and base model, each verified against the hash the chain holds. */
export async function readRoundContext(
  deployment: Deployment,
  reader: Signer,
  store: BlobStore,
  roundId: bigint,
): Promise<RoundContext> {
  const { rounds } = contractsAt(deployment, reader);
  const round = await readRound(rounds, roundId);
  if (round.phase !== RoundPhase.Open) {
    throw new ContributorError("The round is not open for contributions.", {
      details: `round ${roundId}, phase ${round.phase}`,
    });
  }
  const program = await readProgram(rounds, round.programId);
  const manifest = decodeRoundManifest(await store.get(round.baseModelHash));
  return { manifest, base: decodeModel(await store.get(manifest.baseModel)), publicBundleHash: program.publicKeyHash };
}

/**
 * The program's public bundle, verified: its keccak256 must equal the program's on-chain `publicKeyHash` before
 * anything is encrypted under it. The bundle is large (Galois keys for the coprocessor); the contributor downloads
 * and hashes it once per epoch and caches only the public and relinearization keys, keyed by the verified hash.
 */
export async function verifiedBundle(
  ctx: CkksContext,
  store: BlobStore,
  expectedHash: Hex,
  cacheDir: string,
): Promise<LoadedPublicBundle> {
  const cached = join(cacheDir, `bundle-${expectedHash.slice(2, 18)}.bin`);
  let encryptionPart: Uint8Array;
  if (existsSync(cached)) {
    encryptionPart = new Uint8Array(readFileSync(cached));
  } else {
    const bytes = await store.get(expectedHash);
    const hash = await keccak256(bytes);
    if (hash !== expectedHash.toLowerCase()) {
      throw new ContributorError("The public bundle does not match the program's on-chain hash; refusing to encrypt.", {
        details: `got ${hash}, chain has ${expectedHash}`,
      });
    }
    const bundle = parsePublicBundle(bytes);
    encryptionPart = serializePublicBundle({ ...bundle, galoisKeys: new Uint8Array(), galoisSteps: [] });
    writeFileSync(cached, encryptionPart);
  }
  const loaded = await loadPublicBundle(ctx, encryptionPart);
  // The envelope names the full bundle (what the chain pins), not the cached encryption-only part.
  return { ...loaded, hash: expectedHash.toLowerCase() as Hex };
}

export interface SubmittedContribution {
  readonly ciphertextHash: Hex;
  readonly sampleCount: number;
  readonly bytes: number;
}

/** Encrypts the model under the verified bundle, uploads the envelope and commits its hash on-chain. */
export async function submitContribution(
  deployment: Deployment,
  contributor: Signer,
  store: BlobStore,
  options: { roundId: bigint; update: ModelUpdate; sampleCount: number; storeUri: string; cacheDir: string },
): Promise<SubmittedContribution> {
  const context = await readRoundContext(deployment, contributor, store, options.roundId);
  const expected = context.manifest.dimension * context.manifest.classes;
  if (options.update.values.length !== expected) {
    throw new InvalidInputError("The model update does not have the round's model shape.", {
      details: `${options.update.values.length} values, expected ${context.manifest.dimension}×${context.manifest.classes}`,
    });
  }
  const ctx = await CkksContext.create(ROUND_PARAMETER_SET);
  try {
    const bundle = await verifiedBundle(ctx, store, context.publicBundleHash, options.cacheDir);
    try {
      const envelope = await encryptModelUpdate(ctx, bundle, {
        tensors: modelTensors(context.manifest.dimension, context.manifest.classes),
        values: options.update.values,
      });
      const hash = await store.put(envelope);
      if (hash !== (await envelopeCommitment(envelope)))
        throw new ContributorError("The blob store stored other bytes.");
      const { rounds } = contractsAt(deployment, contributor);
      await (
        await rounds.getFunction("commitContribution")(options.roundId, hash, options.sampleCount, options.storeUri)
      ).wait();
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
  contributor: Signer,
  fhevm: FhevmClient,
  roundId: bigint,
): Promise<bigint> {
  const { distributor } = contractsAt(deployment, contributor);
  const handle = (await distributor.getFunction("owedOf")(roundId, contributor.address)) as Hex;
  return fhevm.userDecryptUint64(handle, deployment.distributor, contributor);
}

export async function claimRoyalty(deployment: Deployment, contributor: Signer, roundId: bigint): Promise<void> {
  const { distributor } = contractsAt(deployment, contributor);
  if (!(await distributor.getFunction("isSettled")(roundId, contributor.address))) {
    throw new ContributorError("Nothing to claim yet: the custodian has not settled this round for you.", {
      details: `round ${roundId}, ${contributor.address}`,
    });
  }
  if (await distributor.getFunction("isClaimed")(roundId, contributor.address)) return;
  await (await distributor.getFunction("claim")(roundId)).wait();
}

/** The contributor's confidential token balance, decrypted with its own key. */
export async function tokenBalance(deployment: Deployment, contributor: Signer, fhevm: FhevmClient): Promise<bigint> {
  const { token } = contractsAt(deployment, contributor);
  const handle = (await token.getFunction("confidentialBalanceOf")(contributor.address)) as Hex;
  return fhevm.userDecryptUint64(handle, deployment.token, contributor);
}
