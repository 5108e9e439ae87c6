// A round's inputs as every role derives them from the chain alone: the commitments in commit order (sealed during
// the commit phase, opened by a reveal that names the ciphertext hash and its URI) and the standing publication's
// reason bytes, one per commitment. The coprocessor commits to the included ones (`inputsHash`), the custodian pays
// them (in this order), the auditor checks both.
import { encodeAbiParameters, keccak256 as keccak256Sync } from "viem";
import {
  CommitmentStatus,
  ExclusionReason,
  type CommitmentStatusCode,
  type ExclusionReasonCode,
} from "../chain/constants";
import { InvalidInputError } from "../errors";
import { keccak256 } from "../hashing/keccak";
import { hexToBytes, type Address, type Hex } from "../hex";

/** One commitment of a round: `commitments(round, …)` on-chain, plus the URI of its `ContributionRevealed`. */
export interface RoundCommitment {
  /** Position in commit order. */
  readonly index: number;
  readonly contributor: Address;
  readonly sampleCount: number;
  readonly status: CommitmentStatusCode;
  /** The revealed ciphertext hash; zero while Sealed. */
  readonly ciphertextHash: Hex;
  /** Where the contributor says the blob is (its reveal); empty while Sealed. */
  readonly uri: string;
}

/**
 * The seal a contributor commits during the commit phase: `keccak256(abi.encode(ciphertextHash, contributor))`. It
 * hides the ciphertext until the reveal and binds it to its author, so nobody else can ever open it.
 */
export function sealOf(ciphertextHash: Hex, contributor: Address): Hex {
  return keccak256Sync(encodeAbiParameters([{ type: "bytes32" }, { type: "address" }], [ciphertextHash, contributor]));
}

/**
 * The reason bytes of a publication, one per commitment: the chain's own verdicts for Sealed (Unrevealed) and
 * Duplicate commitments, the coprocessor's `verdicts` (by commitment index; absent = included) for revealed ones.
 */
export function publicationReasons(
  commitments: readonly Pick<RoundCommitment, "index" | "status">[],
  verdicts: ReadonlyMap<number, ExclusionReasonCode>,
): Uint8Array {
  return Uint8Array.from(commitments, (c) => {
    if (c.status === CommitmentStatus.Sealed) return ExclusionReason.Unrevealed;
    if (c.status === CommitmentStatus.Duplicate) return ExclusionReason.Duplicate;
    return verdicts.get(c.index) ?? ExclusionReason.None;
  });
}

/** Parses a publication's `reasons` bytes, checking there is one per commitment. */
export function parseReasons(reasons: Hex, commitCount: number): Uint8Array {
  const bytes = hexToBytes(reasons);
  if (bytes.length !== commitCount) {
    throw new InvalidInputError("A publication must carry one exclusion reason per commitment.", {
      details: `${bytes.length} reasons for ${commitCount} commitments`,
    });
  }
  return bytes;
}

/** The commitments a publication's reason bytes include (reason 0), in commit order. */
export function includedContributions<C extends Pick<RoundCommitment, "index">>(
  commitments: readonly C[],
  reasons: Uint8Array,
): C[] {
  return commitments.filter((c) => reasons[c.index] === ExclusionReason.None);
}

/** The round's `inputsHash`: keccak256 of the included ciphertext hashes concatenated in commit order. */
export function inputsHash(included: readonly Pick<RoundCommitment, "ciphertextHash">[]): Promise<Hex> {
  return keccak256(included.map((c) => hexToBytes(c.ciphertextHash, 32)));
}
