import type { CkksContext } from "@ciphershare/protocol/ckks/context";
import { getParameterSet, getParameterSetByNumericId } from "@ciphershare/protocol/ckks/params";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { bytesToHex, hexToBytes, type Hex } from "@ciphershare/protocol/hex";
import { MalformedShareError, SealFormatError } from "./errors";
import { residuesInRange, type RandomFill } from "./modular";
import { modulusChain } from "./modulus-chain";
import { parsePlaintext, sameParmsId, serializePlaintext, type RawPlaintext } from "./seal-format";
import { assertCommitteeShape, shareResidues, type CommitteeShape } from "./shamir";

/**
 * A committee member's Shamir share of an epoch's CKKS secret key. `key` has exactly the layout of a SEAL
 * SecretKey (NTT form over every prime of the key level, scale 1), so the share is what the member's
 * keystore seals in place of a key — and loading it into SEAL as a key decrypts nothing useful.
 */
export interface KeyShare extends CommitteeShape {
  readonly parameterSetId: string;
  /** keccak256 of the public bundle whose secret key this shares. */
  readonly publicBundleHash: Hex;
  /** The member's x-coordinate, 1…n. */
  readonly member: number;
  readonly key: RawPlaintext;
}

/**
 * Container (big-endian header): "CSKS", format version u8 (1), parameter-set number u8, threshold u8,
 * members u8, member u8, 3 reserved zero bytes, 32-byte public-bundle hash, then the share in SEAL's
 * SecretKey layout.
 */
const SHARE_MAGIC = [0x43, 0x53, 0x4b, 0x53]; // "CSKS"
const SHARE_FORMAT_VERSION = 1;
const SHARE_HEADER_BYTES = 44;

/**
 * The dealer's step of the setup ceremony: splits the secret key into `members` shares, any `threshold`
 * of which decrypt. The dealer's copy of the key bytes is zeroed before this returns (and on failure);
 * after handing each share to its member's keystore, the dealer should drop the shares too.
 */
export function dealKeyShares(
  ctx: CkksContext,
  secretKey: Uint8Array,
  shape: CommitteeShape & { readonly publicBundleHash: Hex },
  random?: RandomFill,
): KeyShare[] {
  let parsed: RawPlaintext | undefined;
  try {
    assertCommitteeShape(shape);
    parsed = parseKeyPolynomial(ctx, secretKey, "secret key");
    const { key } = modulusChain(ctx);
    const residues = shareResidues(parsed.data, key.primes, ctx.parameterSet.polyModulusDegree, shape, random);
    const raw = parsed;
    return residues.map((data, index) => ({
      parameterSetId: ctx.parameterSet.id,
      publicBundleHash: shape.publicBundleHash,
      threshold: shape.threshold,
      members: shape.members,
      member: index + 1,
      key: { ...raw, data },
    }));
  } finally {
    parsed?.data.fill(0n);
    secretKey.fill(0);
  }
}

/**
 * The whole key as the single share of a 1-of-1 committee (λ = 1): today's lone custodian decrypts
 * through the same partial-decryption path as a committee. Copies the key; the caller wipes its bytes.
 */
export function soleKeyShare(ctx: CkksContext, secretKey: Uint8Array, publicBundleHash: Hex): KeyShare {
  return {
    parameterSetId: ctx.parameterSet.id,
    publicBundleHash,
    threshold: 1,
    members: 1,
    member: 1,
    key: parseKeyPolynomial(ctx, secretKey, "secret key"),
  };
}

export function serializeKeyShare(share: KeyShare): Uint8Array {
  assertCommitteeShape(share);
  const set = getParameterSet(share.parameterSetId).numericId;
  const body = serializePlaintext(share.key);
  const out = new Uint8Array(SHARE_HEADER_BYTES + body.length);
  out.set(SHARE_MAGIC, 0);
  out[4] = SHARE_FORMAT_VERSION;
  out[5] = set;
  out[6] = share.threshold;
  out[7] = share.members;
  out[8] = share.member;
  out.set(hexToBytes(share.publicBundleHash, 32), 12);
  out.set(body, SHARE_HEADER_BYTES);
  body.fill(0);
  return out;
}

/** Parses and checks a share against the context: header, SEAL layout, key level, residues below their primes. */
export function parseKeyShare(ctx: CkksContext, bytes: Uint8Array): KeyShare {
  const fail = (problem: string, details?: string): never => {
    throw new MalformedShareError(`Malformed key share: ${problem}.`, { details });
  };
  if (bytes.length < SHARE_HEADER_BYTES) fail("too short", `${bytes.length} bytes`);
  if (SHARE_MAGIC.some((byte, i) => bytes[i] !== byte)) fail("bad magic (not a CipherShare key share)");
  if (bytes[4] !== SHARE_FORMAT_VERSION) fail("unsupported format version", `${bytes[4]}`);
  if (bytes[9] !== 0 || bytes[10] !== 0 || bytes[11] !== 0) fail("reserved bytes are not zero");
  const parameterSetId = getParameterSetByNumericId(bytes[5]).id;
  if (parameterSetId !== ctx.parameterSet.id) {
    fail("it is for another parameter set than the context", `${parameterSetId}, context ${ctx.parameterSet.id}`);
  }
  const shape = { threshold: bytes[6], members: bytes[7] };
  try {
    assertCommitteeShape(shape);
  } catch (error) {
    fail("impossible committee shape", (error as Error).message);
  }
  const member = bytes[8];
  if (member < 1 || member > shape.members) fail("member number out of range", `${member} of ${shape.members}`);
  let key: RawPlaintext;
  try {
    key = parseKeyPolynomial(ctx, bytes.subarray(SHARE_HEADER_BYTES), "key share");
  } catch (error) {
    if (!(error instanceof SealFormatError)) throw error;
    return fail("the share polynomial is not a key-level SEAL secret key", error.shortMessage);
  }
  return {
    parameterSetId,
    publicBundleHash: bytesToHex(bytes.subarray(12, 44)),
    ...shape,
    member,
    key,
  };
}

/** keccak256 of the serialized share: the commitment recorded on-chain for each member. */
export function keyShareCommitment(shareBytes: Uint8Array): Promise<Hex> {
  return keccak256(shareBytes);
}

/** A key-level, NTT-form, scale-1 plaintext of this context with every residue below its prime. */
function parseKeyPolynomial(ctx: CkksContext, bytes: Uint8Array, what: string): RawPlaintext {
  const raw = parsePlaintext(bytes, what);
  const { key, polyModulusDegree } = modulusChain(ctx);
  const problem = !sameParmsId(raw.parmsId, key.parmsId)
    ? "its parms_id is not the key level of this parameter set"
    : raw.coeffCount !== key.primes.length * polyModulusDegree
      ? `it has ${raw.coeffCount} coefficients, ${key.primes.length * polyModulusDegree} expected`
      : raw.scale !== 1
        ? `its scale is ${raw.scale}, not 1`
        : !residuesInRange(raw.data, key.primes, polyModulusDegree)
          ? "a residue is not below its prime"
          : undefined;
  if (problem) {
    raw.data.fill(0n);
    throw new SealFormatError(`The ${what} does not fit ${ctx.parameterSet.id}: ${problem}.`);
  }
  return raw;
}
