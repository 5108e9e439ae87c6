import { CipherShareError } from "@ciphershare/protocol/errors";
import { sameHash, type Hex } from "@ciphershare/protocol/hex";

/**
 * Where the custodian learns which ciphertexts a round published. The chain is the source of truth
 * (the end-to-end round plugs a contract reader in); tests use `InMemoryRoundCommitments`.
 */
export interface RoundCommitmentSource {
  /** keccak256 of the envelopes the coprocessor published as the round's outputs. */
  outputCommitments(roundId: bigint): Promise<readonly Hex[]>;
  /** keccak256 of the contributors' input envelopes for the round. */
  inputCommitments(roundId: bigint): Promise<readonly Hex[]>;
}

/** An in-memory `RoundCommitmentSource` (tests, demos). */
export class InMemoryRoundCommitments implements RoundCommitmentSource {
  private readonly outputs = new Map<bigint, Hex[]>();
  private readonly inputs = new Map<bigint, Hex[]>();

  publishOutput(roundId: bigint, commitment: Hex): void {
    this.outputs.set(roundId, [...(this.outputs.get(roundId) ?? []), commitment]);
  }

  publishInput(roundId: bigint, commitment: Hex): void {
    this.inputs.set(roundId, [...(this.inputs.get(roundId) ?? []), commitment]);
  }

  async outputCommitments(roundId: bigint): Promise<readonly Hex[]> {
    return this.outputs.get(roundId) ?? [];
  }

  async inputCommitments(roundId: bigint): Promise<readonly Hex[]> {
    return this.inputs.get(roundId) ?? [];
  }
}

export type RefusalReason = "input-commitment" | "unknown-commitment" | "not-an-aggregate" | "wrong-public-bundle";

/** The custodian declined to decrypt: the ciphertext is not a published output of the round. */
export class DecryptionRefusedError extends CipherShareError {
  override name = "DecryptionRefusedError";
  constructor(
    readonly reason: RefusalReason,
    shortMessage: string,
    options: { details?: string; cause?: unknown } = {},
  ) {
    super(shortMessage, options);
  }
}

/**
 * The custodian's rule, checked before any SEAL work: decrypt only a ciphertext whose keccak256 is a
 * published output commitment of the round, and never one that is (also) a contributor's input.
 */
export async function assertDecryptionAllowed(
  source: RoundCommitmentSource,
  roundId: bigint,
  commitment: Hex,
): Promise<void> {
  const [inputs, outputs] = await Promise.all([source.inputCommitments(roundId), source.outputCommitments(roundId)]);
  if (inputs.some((input) => sameHash(input, commitment))) {
    throw new DecryptionRefusedError("input-commitment", "Refusing to decrypt a contributor's input.", {
      details: `${commitment} is an input commitment of round ${roundId}`,
    });
  }
  if (!outputs.some((output) => sameHash(output, commitment))) {
    throw new DecryptionRefusedError(
      "unknown-commitment",
      "Refusing to decrypt: not a published output of the round.",
      {
        details: `${commitment} is not among the ${outputs.length} output commitments of round ${roundId}`,
      },
    );
  }
}
