// A round's inputs as every role derives them from the chain's events alone: the commitments in commit order, minus
// the exclusions the coprocessor published. The coprocessor commits to them (`inputsHash`), the custodian pays them
// (in this order), the auditor checks both.
import { keccak256 } from "../hashing/keccak";
import { hexToBytes, sameAddress, type Address, type Hex } from "../hex";

/** One `ContributionCommitted` event. */
export interface CommittedContribution {
  /** Position in commit order: the n-th `ContributionCommitted` of a round is commitment n. */
  readonly index: number;
  readonly contributor: Address;
  readonly ciphertextHash: Hex;
  readonly sampleCount: number;
  readonly uri: string;
}

/** One `ContributionExcluded` event. */
export interface PublishedExclusion {
  readonly contributor: Address;
  readonly reason: number;
}

/** The commitments no exclusion names, in commit order. */
export function includedContributions(
  commitments: readonly CommittedContribution[],
  exclusions: readonly Pick<PublishedExclusion, "contributor">[],
): CommittedContribution[] {
  return commitments.filter((c) => !exclusions.some((e) => sameAddress(e.contributor, c.contributor)));
}

/** The round's `inputsHash`: keccak256 of the included ciphertext hashes concatenated in commit order. */
export function inputsHash(included: readonly Pick<CommittedContribution, "ciphertextHash">[]): Promise<Hex> {
  return keccak256(included.map((c) => hexToBytes(c.ciphertextHash, 32)));
}
