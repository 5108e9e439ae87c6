import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { EnvelopeKind, envelopeCommitment, parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import {
  generateKeys,
  loadSecretKey,
  serializePublicBundle,
  type KeyGenerationOptions,
  type LoadedSecretKey,
} from "@ciphershare/protocol/ckks/keys";
import { decryptEnvelopeValues } from "@ciphershare/protocol/ckks/update";
import type { TensorSpec } from "@ciphershare/protocol/formats/model-update";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { sameHash, type Hex } from "@ciphershare/protocol/hex";
import { KeystoreError, openKeystore, sealKeystore, type ScryptParameters } from "./keystore";
import { DEFAULT_FLOODING_SIGMA, floodWithNoise, type RandomWords } from "./noise";
import { assertDecryptionAllowed, DecryptionRefusedError, type RoundCommitmentSource } from "./policy";

/** A decrypted round output as released: flooded with noise of standard deviation `floodingSigma`. */
export interface ReleasedOutput {
  readonly roundId: bigint;
  readonly commitment: Hex;
  readonly tensors: readonly TensorSpec[];
  /** The decrypted slots, flooded; the output's values are these times `valueScale`. */
  readonly values: Float64Array;
  /** 2^valueExponent of the envelope: how far the coprocessor scaled the output down to fit the last level. */
  readonly valueScale: number;
  readonly floodingSigma: number;
}

export interface CustodianOptions {
  readonly commitments: RoundCommitmentSource;
  /** Defaults to DEFAULT_FLOODING_SIGMA for the parameter set. */
  readonly floodingSigma?: number;
  /** Randomness for the flooding noise; the platform CSPRNG unless a test fixes it. */
  readonly random?: RandomWords;
}

/** What a new program epoch publishes and stores. */
export interface NewEpochKeys {
  /** Deterministic public-bundle bytes (publish them; their hash goes on-chain). */
  readonly bundleBytes: Uint8Array;
  readonly publicBundleHash: Hex;
  /** Keystore JSON holding the secret key encrypted at rest. */
  readonly keystore: string;
}

/**
 * The key custodian: the only holder of the secret key. It generates an epoch's keys, keeps the secret
 * key sealed in a keystore, and decrypts only ciphertexts whose hash the chain lists as a round's
 * output, adding noise flooding to what it releases.
 */
export class KeyCustodian {
  private constructor(
    private readonly ctx: CkksContext,
    private readonly secret: LoadedSecretKey,
    readonly publicBundleHash: Hex,
    private readonly options: CustodianOptions,
  ) {}

  /** Generates keys for an epoch and seals the secret key with the passphrase. */
  static async generateEpochKeys(
    ctx: CkksContext,
    passphrase: string,
    keyOptions: KeyGenerationOptions = {},
    scrypt?: ScryptParameters,
  ): Promise<NewEpochKeys> {
    const keys = generateKeys(ctx, keyOptions);
    const bundleBytes = serializePublicBundle(keys.bundle);
    const publicBundleHash = await keccak256(bundleBytes);
    try {
      const keystore = await sealKeystore(
        keys.secretKey,
        passphrase,
        { parameterSetId: ctx.parameterSet.id, publicBundleHash },
        scrypt,
      );
      return { bundleBytes, publicBundleHash, keystore };
    } finally {
      keys.secretKey.fill(0);
    }
  }

  /** Opens the keystore; it must be for the context's parameter set. */
  static async open(
    ctx: CkksContext,
    keystore: string,
    passphrase: string,
    options: CustodianOptions,
  ): Promise<KeyCustodian> {
    const { secretKey, metadata } = await openKeystore(keystore, passphrase);
    try {
      if (metadata.parameterSetId !== ctx.parameterSet.id) {
        throw new KeystoreError("The keystore is for another parameter set than the context.", {
          details: `${metadata.parameterSetId}, context ${ctx.parameterSet.id}`,
        });
      }
      return new KeyCustodian(ctx, loadSecretKey(ctx, secretKey), metadata.publicBundleHash, options);
    } finally {
      secretKey.fill(0);
    }
  }

  get floodingSigma(): number {
    return this.options.floodingSigma ?? DEFAULT_FLOODING_SIGMA[this.ctx.parameterSet.id];
  }

  /**
   * Decrypts a round's output envelope if, and only if, its keccak256 is a published output commitment
   * of the round (and not an input), it is an aggregate, and it is under this custodian's bundle.
   */
  async decryptOutput(roundId: bigint, envelopeBytes: Uint8Array): Promise<ReleasedOutput> {
    const commitment = await envelopeCommitment(envelopeBytes);
    await assertDecryptionAllowed(this.options.commitments, roundId, commitment);
    const envelope = await parseEnvelope(envelopeBytes, { parameterSetId: this.ctx.parameterSet.id });
    if (envelope.header.kind !== EnvelopeKind.Aggregate) {
      throw new DecryptionRefusedError("not-an-aggregate", "Refusing to decrypt a contribution envelope.", {
        details: `${commitment} is a ${EnvelopeKind[envelope.header.kind]} envelope`,
      });
    }
    if (!sameHash(envelope.header.publicBundleHash, this.publicBundleHash)) {
      throw new DecryptionRefusedError("wrong-public-bundle", "The output was encrypted under another public bundle.", {
        details: `${envelope.header.publicBundleHash}, custodian holds ${this.publicBundleHash}`,
      });
    }
    const values = decryptEnvelopeValues(this.ctx, envelope, this.secret.decryptor);
    floodWithNoise(values, this.floodingSigma, this.options.random);
    return {
      roundId,
      commitment,
      tensors: envelope.header.tensors,
      values,
      valueScale: 2 ** envelope.header.valueExponent,
      floodingSigma: this.floodingSigma,
    };
  }

  /** Frees the secret key in WASM memory. */
  dispose(): void {
    this.secret.dispose();
  }
}
