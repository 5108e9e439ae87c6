// The network role: deploys the contracts (embedded default), creates a program for a coprocessor/custodian pair
// and the custodian's public bundle, opens rounds (publishing the base model, the validation set and the round
// manifest whose hash goes on-chain), funds pools by wrapping an ERC-20 into the ERC-7984 royalty token, closes and
// finalizes rounds.
import { ValuationMethod } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import { encodeDataset, type Dataset } from "@ciphershare/protocol/records/dataset";
import { encodeJsonRecord } from "@ciphershare/protocol/records/json";
import { encodeModel, type LinearModel } from "@ciphershare/protocol/records/model";
import type { RoundManifest, ScoreRelease } from "@ciphershare/protocol/records/round-manifest";
import { ROUND_PARAMETER_SET_ID, roundConfig } from "@ciphershare/protocol/round/config";
import { latestTimestamp, mined, type ChainSigner } from "../chain/clients";
import { contractsFor } from "../chain/contracts";
import type { FhevmClient } from "../chain/fhevmClient";
import type { BlobStore } from "../storage/blob-store";

export async function createProgram(
  deployment: Deployment,
  network: ChainSigner,
  parties: { coprocessor: Address; custodian: Address; publicBundleHash: Hex },
): Promise<bigint> {
  const { rounds } = contractsFor(deployment, network);
  await mined(
    network.reader,
    rounds.write.createProgram([
      parties.coprocessor,
      parties.custodian,
      parties.publicBundleHash,
      ValuationMethod.ExactShapley,
      deployment.token,
    ]),
  );
  return rounds.read.programCount();
}

/** Publishes the base model, the validation set and the manifest; opens the round with the manifest's hash. */
export async function openRound(
  deployment: Deployment,
  network: ChainSigner,
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
    parameterSet: ROUND_PARAMETER_SET_ID,
    dimension: options.base.dimension,
    classes: options.base.classes,
    ...(options.scoreRelease === "public" ? { scoreRelease: "public" as const } : {}),
  };
  // Refuse here what every role would refuse later: a model that does not fit the round's parameter set.
  roundConfig(manifest, ValuationMethod.ExactShapley);
  const manifestHash = await store.put(encodeJsonRecord(manifest));
  const { rounds } = contractsFor(deployment, network);
  const deadline = (await latestTimestamp(network.reader)) + BigInt(options.commitPeriod);
  await mined(
    network.reader,
    rounds.write.openRound([options.programId, manifestHash, deadline, options.disputeWindow]),
  );
  return { roundId: await rounds.read.roundCount(), manifestHash };
}

/** Mints (test ERC-20 only), wraps into the royalty token, and funds the round's pool with an encrypted amount. */
export async function fundPool(
  deployment: Deployment,
  funder: ChainSigner,
  fhevm: FhevmClient,
  roundId: bigint,
  amount: bigint,
  options: { mint?: boolean } = {},
): Promise<void> {
  const { underlying, token, distributor } = contractsFor(deployment, funder);
  const send = (sent: Promise<Hex>) => mined(funder.reader, sent);
  if (options.mint ?? true) await send(underlying.write.mint([funder.address, amount]));
  await send(underlying.write.approve([deployment.token, amount]));
  await send(token.write.wrap([funder.address, amount]));
  const until = (await latestTimestamp(funder.reader)) + 3600n;
  await send(token.write.setOperator([deployment.distributor, Number(until)]));
  const encrypted = await fhevm.encryptUint64(deployment.distributor, funder.address, [amount]);
  await send(distributor.write.fundPool([roundId, encrypted.handles[0], encrypted.inputProof]));
}

export async function closeRound(deployment: Deployment, caller: ChainSigner, roundId: bigint): Promise<void> {
  await mined(caller.reader, contractsFor(deployment, caller).rounds.write.closeRound([roundId]));
}

export async function finalizeRound(deployment: Deployment, caller: ChainSigner, roundId: bigint): Promise<void> {
  await mined(caller.reader, contractsFor(deployment, caller).rounds.write.finalizeRound([roundId]));
}
