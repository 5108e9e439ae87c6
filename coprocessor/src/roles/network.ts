// The network role: deploys the contracts (embedded default), creates a program for a coprocessor/custodian pair
// and the custodian's public bundle, opens rounds (publishing the base model, the validation set and the round
// manifest whose hash goes on-chain), funds pools by wrapping an ERC-20 into the ERC-7984 royalty token, closes and
// finalizes rounds.
import type { HDNodeWallet, Wallet } from "ethers";
import { contractsAt, latestTimestamp, rpcProvider, type Deployment } from "../chain/ciphershare";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import type { FhevmClient } from "../chain/fhevmClient";
import { encodeDataset, type Dataset } from "@ciphershare/protocol/records/dataset";
import { encodeModel, type LinearModel } from "@ciphershare/protocol/records/model";
import type { BlobStore } from "../storage/blob-store";
import { ROUND_PARAMETER_SET } from "./computation";
import { encodeJsonRecord } from "@ciphershare/protocol/records/json";
import type { RoundManifest, ScoreRelease } from "@ciphershare/protocol/records/round-manifest";

/** Valuation method id 1: exact Shapley (docs/contracts.md). */
export const EXACT_SHAPLEY = 1;

type Signer = Wallet | HDNodeWallet;

export async function createProgram(
  deployment: Deployment,
  network: Signer,
  parties: { coprocessor: Address; custodian: Address; publicBundleHash: Hex },
): Promise<bigint> {
  const { rounds } = contractsAt(deployment, network);
  await (
    await rounds.getFunction("createProgram")(
      parties.coprocessor,
      parties.custodian,
      parties.publicBundleHash,
      EXACT_SHAPLEY,
      deployment.token,
    )
  ).wait();
  return BigInt(await rounds.getFunction("programCount")());
}

/** Publishes the base model, the validation set and the manifest; opens the round with the manifest's hash. */
export async function openRound(
  deployment: Deployment,
  network: Signer,
  store: BlobStore,
  options: {
    programId: bigint;
    base: LinearModel;
    validation: Dataset;
    commitPeriod: number;
    disputeWindow: number;
    /** Default `"private"`: the release record carries only Σφ. */
    scoreRelease?: ScoreRelease;
  },
): Promise<{ roundId: bigint; manifestHash: Hex }> {
  const manifest: RoundManifest = {
    kind: "ciphershare.round",
    version: 1,
    baseModel: await store.put(encodeModel(options.base)),
    validation: await store.put(encodeDataset(options.validation)),
    parameterSet: ROUND_PARAMETER_SET,
    dimension: options.base.dimension,
    classes: options.base.classes,
    ...(options.scoreRelease === "public" ? { scoreRelease: "public" as const } : {}),
  };
  const manifestHash = await store.put(encodeJsonRecord(manifest));
  const { rounds } = contractsAt(deployment, network);
  const provider = network.provider as ReturnType<typeof rpcProvider>;
  const deadline = (await latestTimestamp(provider)) + BigInt(options.commitPeriod);
  await (
    await rounds.getFunction("openRound")(options.programId, manifestHash, deadline, options.disputeWindow)
  ).wait();
  return { roundId: BigInt(await rounds.getFunction("roundCount")()), manifestHash };
}

/** Mints (test ERC-20 only), wraps into the royalty token, and funds the round's pool with an encrypted amount. */
export async function fundPool(
  deployment: Deployment,
  funder: Signer,
  fhevm: FhevmClient,
  roundId: bigint,
  amount: bigint,
  options: { mint?: boolean } = {},
): Promise<void> {
  const { underlying, token, distributor } = contractsAt(deployment, funder);
  if (options.mint ?? true) await (await underlying.getFunction("mint")(funder.address, amount)).wait();
  await (await underlying.getFunction("approve")(deployment.token, amount)).wait();
  await (await token.getFunction("wrap")(funder.address, amount)).wait();
  const provider = funder.provider as ReturnType<typeof rpcProvider>;
  const until = (await latestTimestamp(provider)) + 3600n;
  await (await token.getFunction("setOperator")(deployment.distributor, until)).wait();
  const encrypted = await fhevm.encryptUint64(deployment.distributor, funder.address, [amount]);
  await (await distributor.getFunction("fundPool")(roundId, encrypted.handles[0], encrypted.inputProof)).wait();
}

export async function closeRound(deployment: Deployment, caller: Signer, roundId: bigint): Promise<void> {
  await (await contractsAt(deployment, caller).rounds.getFunction("closeRound")(roundId)).wait();
}

export async function finalizeRound(deployment: Deployment, caller: Signer, roundId: bigint): Promise<void> {
  await (await contractsAt(deployment, caller).rounds.getFunction("finalizeRound")(roundId)).wait();
}
