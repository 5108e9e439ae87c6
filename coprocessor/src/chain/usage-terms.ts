// A usage program's on-chain terms (contracts/usage/UsageTerms.sol), read and written by the roles: the artists in
// attribution order (the payees), the operator whose report counts, the cap, the minimum generations and the mix.
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { usageTermsHash, usageTotalFromUnits, type UsageTermsConfig } from "@ciphershare/protocol/chain/usage-terms";
import { sameHash, type Address, type Hex } from "@ciphershare/protocol/hex";
import { mined, type ChainReader, type ChainSigner } from "./clients";
import { contractsFor, contractsToRead } from "./contracts";
import { ChainError } from "./errors";
import { viemAccountSigner, type FhevmClient } from "./fhevmClient";

/** The program's usage terms, or undefined for a program without (a federated or training program). */
export async function readUsageTerms(
  deployment: Deployment,
  reader: ChainReader,
  programId: bigint,
): Promise<UsageTermsConfig | undefined> {
  const { usageTerms } = contractsToRead(deployment, reader);
  if (usageTerms === undefined || !(await usageTerms.read.isUsageProgram([programId]))) return undefined;
  const [terms, hash] = await Promise.all([
    usageTerms.read.termsOf([programId]),
    usageTerms.read.termsHashOf([programId]),
  ]);
  const config: UsageTermsConfig = {
    operator: terms.operator as Address,
    minGenerations: terms.minGenerations,
    capMicros: terms.capMicros,
    usageWeightBps: terms.usageWeightBps,
    qualityScoresHash: terms.qualityScoresHash as Hex,
    artists: terms.artists.map((a) => a as Address),
  };
  if (!sameHash(usageTermsHash(config), hash)) {
    throw new ChainError("The usage terms read from the chain do not hash to their recorded hash.", {
      details: `program ${programId}: recorded ${hash}, computed ${usageTermsHash(config)}`,
    });
  }
  return config;
}

/** `setTerms(programId, terms)` as the program's network (before its custodian accepts); returns the terms hash. */
export async function setUsageTerms(
  deployment: Deployment,
  network: ChainSigner,
  programId: bigint,
  terms: UsageTermsConfig,
): Promise<Hex> {
  const { usageTerms } = contractsFor(deployment, network);
  if (usageTerms === undefined) {
    throw new ChainError("This deployment has no UsageTerms contract: redeploy (`network deploy`).");
  }
  await mined(network.reader, usageTerms.write.setTerms([programId, { ...terms, artists: [...terms.artists] }]));
  return usageTermsHash(terms);
}

/** Whether `round`'s program has on-chain usage terms (its periods are served by the usage passes). */
export async function isUsageProgram(
  deployment: Deployment,
  reader: ChainReader,
  round: { readonly programId: bigint },
): Promise<boolean> {
  const { usageTerms } = contractsToRead(deployment, reader);
  return usageTerms !== undefined && (await usageTerms.read.isUsageProgram([round.programId]));
}

/** An artist's own sealed usage total of a period, as it decrypts it. */
export interface OwnUsageTotal {
  /** False until the custodian has sealed this artist's total (then `units` and `total` are 0). */
  readonly sealed: boolean;
  /** The decrypted euint64: the total in millionths (`USAGE_TOTAL_SCALE`). */
  readonly units: bigint;
  /** The total in generations' worth of attribution. */
  readonly total: number;
}

/**
 * The caller's own usage total of period `roundId` (`UsageTerms.usageTotalOf`), user-decrypted with its own key
 * through the fhEVM relayer, as royalties are; the ACL refuses every other account's total.
 */
export async function readOwnUsageTotal(
  deployment: Deployment,
  artist: ChainSigner,
  fhevm: FhevmClient,
  roundId: bigint,
): Promise<OwnUsageTotal> {
  const { usageTerms } = contractsToRead(deployment, artist.reader);
  if (usageTerms === undefined || deployment.usageTerms === undefined) {
    throw new ChainError("This deployment has no UsageTerms contract: redeploy (`network deploy`).");
  }
  const handle = await usageTerms.read.usageTotalOf([roundId, artist.address]);
  if (BigInt(handle) === 0n) return { sealed: false, units: 0n, total: 0 };
  const units = await fhevm.userDecryptUint64(handle, deployment.usageTerms, viemAccountSigner(artist.account));
  return { sealed: true, units, total: usageTotalFromUnits(units) };
}
