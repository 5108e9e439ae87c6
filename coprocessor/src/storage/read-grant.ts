// Job-scoped read grants: how a queue worker reads a round's input blobs without the coprocessor's key. The
// coordinator (the program's coprocessor) signs an EIP-712 `ReadGrant(worker, round, blobs, expiresAt)` naming the
// worker's own address, the round, the blobs the job needs and an expiry, and stores it as a public blob; the worker
// signs its reads (`BlobRequest`) with its own key and names the grant (header `x-ciphershare-grant`). The guard serves
// a restricted blob to such a request only when the grant is signed by the coprocessor of the blob's round, names that
// round, lists the blob, names the request's signer and has not expired (`blob-access.ts`).
import { recoverTypedDataAddress, type LocalAccount, type TypedDataDomain } from "viem";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { sameAddress, sameHash, type Address, type Hex } from "@ciphershare/protocol/hex";
import { encodeJsonRecord, parseJsonRecord } from "@ciphershare/protocol/records/json";
import { BLOB_REQUEST_DOMAIN, BlobAccessDeniedError, type BlobAccessDomain, type GrantCheck } from "./blob-access";

export { BLOB_GRANT_HEADER } from "./blob-access";

/** Longest a grant may live (seconds): the guard refuses anything expiring later. */
export const MAX_GRANT_LIFETIME = 6 * 3600;

/** A grant's lifetime by default (seconds): long enough for one fan-out of a large round's jobs. */
export const DEFAULT_GRANT_LIFETIME = 3600;

/** Most blobs one grant lists (a valuation job names every model and projection of the round). */
export const MAX_GRANT_BLOBS = 4096;

export const READ_GRANT_TYPES = {
  ReadGrant: [
    { name: "worker", type: "address" },
    { name: "round", type: "uint256" },
    { name: "blobs", type: "bytes32[]" },
    { name: "expiresAt", type: "uint64" },
  ],
} as const;

export interface ReadGrant {
  readonly worker: Address;
  readonly round: bigint;
  readonly blobs: readonly Hex[];
  readonly expiresAt: number;
}

export interface SignedReadGrant extends ReadGrant {
  readonly signature: Hex;
}

const KIND = "ciphershare.read-grant";

function domainOf(d: BlobAccessDomain): TypedDataDomain {
  return { ...BLOB_REQUEST_DOMAIN, chainId: d.chainId, verifyingContract: d.hub };
}

function message(grant: ReadGrant) {
  return { worker: grant.worker, round: grant.round, blobs: [...grant.blobs], expiresAt: BigInt(grant.expiresAt) };
}

/** The coordinator's signature over `grant` (EIP-712, the blob store's domain). */
export async function signReadGrant(
  account: Pick<LocalAccount, "signTypedData">,
  domain: BlobAccessDomain,
  grant: ReadGrant,
): Promise<SignedReadGrant> {
  const signature = await account.signTypedData({
    domain: domainOf(domain),
    types: READ_GRANT_TYPES,
    primaryType: "ReadGrant",
    message: message(grant),
  });
  return { ...grant, signature };
}

/** Who signed `grant` (throws on a malformed signature). */
export async function readGrantSigner(domain: BlobAccessDomain, grant: SignedReadGrant): Promise<Address> {
  return (await recoverTypedDataAddress({
    domain: domainOf(domain),
    types: READ_GRANT_TYPES,
    primaryType: "ReadGrant",
    message: message(grant),
    signature: grant.signature,
  })) as Address;
}

/** A grant as the public blob the worker names. */
export function encodeReadGrant(grant: SignedReadGrant): Uint8Array {
  return encodeJsonRecord({
    kind: KIND,
    version: 1,
    worker: grant.worker,
    round: `${grant.round}`,
    blobs: grant.blobs,
    expiresAt: grant.expiresAt,
    signature: grant.signature,
  });
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const HASH = /^0x[0-9a-f]{64}$/;

/** Parses a grant blob strictly; `InvalidInputError` naming the field otherwise. */
export function decodeReadGrant(bytes: Uint8Array): SignedReadGrant {
  const value = parseJsonRecord(bytes, "read grant") as Record<string, unknown>;
  const bad = (field: string) => new InvalidInputError("Malformed read grant.", { details: field });
  if (typeof value !== "object" || value === null || value.kind !== KIND || value.version !== 1) throw bad("kind");
  const { worker, round, blobs, expiresAt, signature } = value;
  if (typeof worker !== "string" || !ADDRESS.test(worker)) throw bad("worker");
  if (typeof round !== "string" || !/^[1-9][0-9]{0,39}$/.test(round)) throw bad("round");
  if (
    !Array.isArray(blobs) ||
    blobs.length === 0 ||
    blobs.length > MAX_GRANT_BLOBS ||
    !blobs.every((b) => typeof b === "string" && HASH.test(b))
  ) {
    throw bad("blobs");
  }
  if (typeof expiresAt !== "number" || !Number.isSafeInteger(expiresAt) || expiresAt < 0) throw bad("expiresAt");
  if (typeof signature !== "string" || !/^0x[0-9a-fA-F]+$/.test(signature)) throw bad("signature");
  return {
    worker: worker as Address,
    round: BigInt(round),
    blobs: blobs as Hex[],
    expiresAt,
    signature: signature as Hex,
  };
}

/** Who may grant reads of a blob: the round it belongs to and that round's coprocessor (`input-access.ts`). */
export interface GrantAuthority {
  grantersOf(hash: Hex): Promise<{ readonly round: bigint; readonly granters: readonly Address[] } | undefined>;
}

/**
 * The guard's grant check (`BlobAccessGuard`'s `grants`): the grant named by `grantHash` must be in the store, signed by
 * a granter of `hash`'s round, for that round, list `hash`, name `signer` (who signed the request) and be in date.
 */
export class ReadGrantVerifier implements GrantCheck {
  constructor(
    private readonly authority: GrantAuthority,
    private readonly domain: BlobAccessDomain,
    private readonly load: (grantHash: Hex) => Promise<Uint8Array | undefined>,
  ) {}

  async check(hash: Hex, signer: Address, grantHash: Hex, now: number): Promise<void> {
    const refuse = (shortMessage: string, details: string) => {
      throw new BlobAccessDeniedError(403, shortMessage, { details });
    };
    const bytes = await this.load(grantHash);
    if (bytes === undefined) return refuse("The read grant is not in the store.", grantHash);
    let grant: SignedReadGrant;
    let granter: Address;
    try {
      grant = decodeReadGrant(bytes);
      granter = await readGrantSigner(this.domain, grant);
    } catch (error) {
      throw new BlobAccessDeniedError(403, "The read grant is malformed or its signature invalid.", {
        details: grantHash,
        cause: error,
      });
    }
    if (grant.expiresAt <= now) return refuse("The read grant has expired.", `${grant.expiresAt} ≤ ${now}`);
    if (grant.expiresAt > now + MAX_GRANT_LIFETIME) {
      return refuse("The read grant lives too long.", `expires ${grant.expiresAt - now} s from now`);
    }
    if (!sameAddress(grant.worker, signer)) {
      return refuse("The read grant names another worker.", `grant for ${grant.worker}, request by ${signer}`);
    }
    if (!grant.blobs.some((b) => sameHash(b, hash))) return refuse("The read grant does not list this blob.", hash);
    const authority = await this.authority.grantersOf(hash);
    if (authority === undefined || authority.round !== grant.round) {
      return refuse(
        "The read grant is for another round.",
        `grant round ${grant.round}, blob round ${authority?.round}`,
      );
    }
    if (!authority.granters.some((g) => sameAddress(g, granter))) {
      return refuse("The read grant is not signed by the round's coprocessor.", `signed by ${granter}`);
    }
  }
}
