import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { EnvelopeKind, envelopeCommitment, parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import {
  generateKeys,
  publicBundleParts,
  serializePublicBundle,
  type KeyGenerationOptions,
  type PublishedBundleParts,
} from "@ciphershare/protocol/ckks/keys";
import type { TensorSpec } from "@ciphershare/protocol/formats/model-update";
import { sameHash, type Hex } from "@ciphershare/protocol/hex";
import { combinePartialDecryptions } from "../threshold/combine";
import { ThresholdError } from "../threshold/errors";
import { DEFAULT_FLOODING_POLICY, releasedNoiseStd, smudgingSigma, type FloodingPolicy } from "../threshold/flooding";
import {
  dealKeyShares,
  keyShareCommitment,
  parseKeyShare,
  serializeKeyShare,
  soleKeyShare,
  type KeyShare,
} from "../threshold/key-share";
import type { RandomFill } from "../threshold/modular";
import type { NoiseBound } from "../threshold/noise-bound";
import { partialDecryptEnvelope, type PartialDecryption } from "../threshold/partial-decryption";
import type { OutputRelease } from "../threshold/release-bounds";
import type { CommitteeShape } from "../threshold/shamir";
import {
  KeystoreError,
  openKeystore,
  openShareKeystore,
  sealKeystore,
  sealShareKeystore,
  type ScryptParameters,
} from "./keystore";
import { assertDecryptionAllowed, DecryptionRefusedError, type RoundCommitmentSource } from "./policy";

/** A decrypted round output as released, flooded in the ring before decoding. */
export interface ReleasedOutput {
  readonly roundId: bigint;
  readonly commitment: Hex;
  readonly tensors: readonly TensorSpec[];
  /** The decrypted slots, flooded; the output's values are these times `valueScale`. */
  readonly values: Float64Array;
  /** 2^valueExponent of the envelope: how far the coprocessor scaled the output down to fit the last level. */
  readonly valueScale: number;
  /** Standard deviation the flooding adds to each released slot value (before `valueScale`). */
  readonly floodingSigma: number;
  /** The smudging σ per coefficient (ring units) and the error bound it was sized from. */
  readonly smudgingSigma: number;
  readonly errorBound: NoiseBound;
}

export interface CustodianOptions {
  readonly commitments: RoundCommitmentSource;
  /** s and τ of the flooding rule; DEFAULT_FLOODING_POLICY (30 bits over 2^10 decryptions) unless set. */
  readonly flooding?: FloodingPolicy;
  /** Randomness for the smudging noise; the platform CSPRNG unless a test fixes it. */
  readonly random?: RandomFill;
}

/** What a new program epoch publishes and stores. */
export interface NewEpochKeys {
  /** The whole public bundle's deterministic bytes (`serializePublicBundle`: what the computation loads). */
  readonly bundleBytes: Uint8Array;
  /** What to publish: the manifest (its hash goes on-chain), the encryption and the evaluation bundles. */
  readonly parts: PublishedBundleParts;
  readonly publicBundleHash: Hex;
  /** Keystore JSON holding the secret key encrypted at rest. */
  readonly keystore: string;
}

/** What a committee setup ceremony publishes and hands out. */
export interface CommitteeEpochKeys {
  readonly bundleBytes: Uint8Array;
  readonly parts: PublishedBundleParts;
  readonly publicBundleHash: Hex;
  /** Member i's sealed share keystore at index i − 1, each under that member's passphrase. */
  readonly keystores: readonly string[];
  /** keccak256 of each member's serialized share: the commitments to record on-chain. */
  readonly shareCommitments: readonly Hex[];
}

/**
 * A key custodian: one member of a t-of-n decryption committee, holding its Shamir share of the epoch's
 * secret key. Today's lone custodian is the 1-of-1 committee: its share is the whole key (λ = 1) and it
 * decrypts through exactly the same path — partial decryption with ring-domain smudging noise, then the
 * deterministic combination — so its releases are flooded by the book too. It decrypts (or contributes a
 * partial decryption to) only ciphertexts whose hash the chain lists as a round's output.
 */
export class KeyCustodian {
  private disposed = false;
  /**
   * Partial decryptions already made, by envelope commitment and decrypting set: asked again, the custodian
   * returns the same bytes, so repeated requests cannot be averaged to thin out its noise.
   */
  private readonly made = new Map<string, PartialDecryption>();

  private constructor(
    private readonly ctx: CkksContext,
    private readonly share: KeyShare,
    readonly publicBundleHash: Hex,
    private readonly options: CustodianOptions,
  ) {}

  /** Generates keys for an epoch and seals the secret key with the passphrase (a 1-of-1 committee). */
  static async generateEpochKeys(
    ctx: CkksContext,
    passphrase: string,
    keyOptions: KeyGenerationOptions = {},
    scrypt?: ScryptParameters,
  ): Promise<NewEpochKeys> {
    const keys = generateKeys(ctx, keyOptions);
    const bundleBytes = serializePublicBundle(keys.bundle);
    const parts = await publicBundleParts(keys.bundle);
    const publicBundleHash = parts.hash;
    try {
      const keystore = await sealKeystore(
        keys.secretKey,
        passphrase,
        { parameterSetId: ctx.parameterSet.id, publicBundleHash },
        scrypt,
      );
      return { bundleBytes, parts, publicBundleHash, keystore };
    } finally {
      keys.secretKey.fill(0);
    }
  }

  /**
   * The dealer's setup ceremony for a t-of-n committee: generates the epoch's keys, splits the secret key
   * into one Shamir share per member, seals each share under that member's passphrase and wipes the key
   * and the shares. The dealer sees the whole key while this runs (docs/privacy.md).
   */
  static async dealCommitteeKeys(
    ctx: CkksContext,
    passphrases: readonly string[],
    threshold: number,
    keyOptions: KeyGenerationOptions = {},
    scrypt?: ScryptParameters,
  ): Promise<CommitteeEpochKeys> {
    const keys = generateKeys(ctx, keyOptions);
    const bundleBytes = serializePublicBundle(keys.bundle);
    const parts = await publicBundleParts(keys.bundle);
    const publicBundleHash = parts.hash;
    const shape: CommitteeShape = { threshold, members: passphrases.length };
    const shares = dealKeyShares(ctx, keys.secretKey, { ...shape, publicBundleHash });
    const keystores: string[] = [];
    const shareCommitments: Hex[] = [];
    try {
      for (const share of shares) {
        const bytes = serializeKeyShare(share);
        try {
          const shareCommitment = await keyShareCommitment(bytes);
          shareCommitments.push(shareCommitment);
          keystores.push(
            await sealShareKeystore(
              bytes,
              passphrases[share.member - 1],
              {
                parameterSetId: ctx.parameterSet.id,
                publicBundleHash,
                ...shape,
                member: share.member,
                shareCommitment,
              },
              scrypt,
            ),
          );
        } finally {
          bytes.fill(0);
        }
      }
      return { bundleBytes, parts, publicBundleHash, keystores, shareCommitments };
    } finally {
      for (const share of shares) share.key.data.fill(0n);
    }
  }

  /** Opens a secret-key keystore (the 1-of-1 custodian); it must be for the context's parameter set. */
  static async open(
    ctx: CkksContext,
    keystore: string,
    passphrase: string,
    options: CustodianOptions,
  ): Promise<KeyCustodian> {
    const { secretKey, metadata } = await openKeystore(keystore, passphrase);
    try {
      assertSameSet(ctx, metadata.parameterSetId);
      return new KeyCustodian(
        ctx,
        soleKeyShare(ctx, secretKey, metadata.publicBundleHash),
        metadata.publicBundleHash,
        options,
      );
    } finally {
      secretKey.fill(0);
    }
  }

  /** Opens a committee member's share keystore; the share must match the commitment sealed with it. */
  static async openMember(
    ctx: CkksContext,
    keystore: string,
    passphrase: string,
    options: CustodianOptions,
  ): Promise<KeyCustodian> {
    const { share: bytes, metadata } = await openShareKeystore(keystore, passphrase);
    try {
      assertSameSet(ctx, metadata.parameterSetId);
      if (!sameHash(await keyShareCommitment(bytes), metadata.shareCommitment)) {
        throw new KeystoreError("The key share does not match the commitment sealed with it.");
      }
      const share = parseKeyShare(ctx, bytes);
      return new KeyCustodian(ctx, share, metadata.publicBundleHash, options);
    } finally {
      bytes.fill(0);
    }
  }

  /** This custodian's place in its committee (1-of-1 for a lone custodian). */
  get committee(): CommitteeShape & { readonly member: number } {
    const { threshold, members, member } = this.share;
    return { threshold, members, member };
  }

  /**
   * Decrypts a round's output envelope if, and only if, its keccak256 is a published output commitment
   * of the round (and not an input), it is an aggregate, and it is under this custodian's bundle. Only a
   * 1-of-1 custodian decrypts alone; values outside `release.maxAbs` are refused, not released.
   */
  async decryptOutput(roundId: bigint, envelopeBytes: Uint8Array, release: OutputRelease): Promise<ReleasedOutput> {
    if (this.share.threshold !== 1) {
      throw new ThresholdError("A committee member cannot decrypt alone: publish a partial decryption instead.", {
        details: `member ${this.share.member}, ${this.share.threshold}-of-${this.share.members}`,
      });
    }
    const partial = await this.partialDecryptOutput(roundId, envelopeBytes, release.errorBound, [this.share.member]);
    const sigma = partial.sigma;
    const { scale, valueExponent } = (await parseEnvelope(envelopeBytes)).header;
    const floodingSigma = releasedNoiseStd(sigma, 1, this.ctx.parameterSet.polyModulusDegree, scale);
    // The flooding itself may push an honest value a few σ past the bound.
    const combined = await combinePartialDecryptions(this.ctx, envelopeBytes, [partial], {
      maxAbs: release.maxAbs + 8 * floodingSigma,
    });
    return {
      roundId,
      commitment: partial.envelopeCommitment,
      tensors: combined.tensors,
      values: combined.values,
      valueScale: 2 ** valueExponent,
      floodingSigma,
      smudgingSigma: sigma,
      errorBound: release.errorBound,
    };
  }

  /**
   * This member's partial decryption of a published output for an agreed decrypting set, after the same
   * policy checks as `decryptOutput`. The smudging σ follows from the output's error bound and the flooding
   * policy, so any one honest member's noise floods the release on its own.
   */
  async partialDecryptOutput(
    roundId: bigint,
    envelopeBytes: Uint8Array,
    errorBound: NoiseBound,
    decryptingSet: readonly number[],
  ): Promise<PartialDecryption> {
    if (this.disposed) throw new ThresholdError("This custodian was disposed: its key share is wiped.");
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
    const sigma = smudgingSigma(errorBound.l2, this.options.flooding ?? DEFAULT_FLOODING_POLICY);
    const key = `${commitment.toLowerCase()}:${[...decryptingSet].sort((a, b) => a - b).join(",")}`;
    const known = this.made.get(key);
    if (known) {
      if (known.sigma !== sigma) {
        throw new ThresholdError("This output was already decrypted under another error bound.", {
          details: `σ = 2^${Math.log2(known.sigma).toFixed(1)} then, 2^${Math.log2(sigma).toFixed(1)} now`,
        });
      }
      return known;
    }
    const partial = await partialDecryptEnvelope(this.ctx, envelopeBytes, {
      share: this.share,
      decryptingSet,
      sigma,
      random: this.options.random,
    });
    this.made.set(key, partial);
    return partial;
  }

  /** Wipes the key share held in memory. */
  dispose(): void {
    this.disposed = true;
    this.share.key.data.fill(0n);
    this.made.clear();
  }
}

function assertSameSet(ctx: CkksContext, parameterSetId: string): void {
  if (parameterSetId !== ctx.parameterSet.id) {
    throw new KeystoreError("The keystore is for another parameter set than the context.", {
      details: `${parameterSetId}, context ${ctx.parameterSet.id}`,
    });
  }
}
