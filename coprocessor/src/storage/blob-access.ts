// Who may read which blob. Outputs, bundles, manifests and release records are public; a contributor's input
// ciphertext — a blob whose hash some round revealed as a contribution — is served only to requests signed (EIP-712)
// by an address allowed to compute on it: the round's program's coprocessor and its custodian committee members
// (or its lone custodian). A signed request names the blob, expires within minutes and carries a nonce the server
// remembers until then, so it cannot be replayed nor reused for another blob.
import { recoverTypedDataAddress, type TypedDataDomain } from "viem";
import { CipherShareError } from "@ciphershare/protocol/errors";
import { bytesToHex, sameAddress, type Address, type Hex } from "@ciphershare/protocol/hex";

/** The server refused a request for a restricted blob: 401 unsigned or malformed, 403 signed by someone else. */
export class BlobAccessDeniedError extends CipherShareError {
  override name = "BlobAccessDeniedError";
  constructor(
    readonly status: 401 | 403,
    shortMessage: string,
    options: { details?: string; cause?: unknown } = {},
  ) {
    super(shortMessage, options);
  }
}

export const BLOB_REQUEST_DOMAIN = { name: "CipherShare blob store", version: "1" } as const;

/** The message a reader signs: this blob, until then, once. */
export const BLOB_REQUEST_TYPES = {
  BlobRequest: [
    { name: "hash", type: "bytes32" },
    { name: "expiresAt", type: "uint64" },
    { name: "nonce", type: "bytes32" },
  ],
} as const;

/** Request headers carrying the signed request. */
export const BLOB_REQUEST_HEADERS = {
  signature: "x-ciphershare-signature",
  expiresAt: "x-ciphershare-expires-at",
  nonce: "x-ciphershare-nonce",
} as const;

/** Upload header: the bytes are restricted to this round's readers (`BlobPutOptions.round`). */
export const BLOB_ROUND_HEADER = "x-ciphershare-round";

/** Longest a signed request may live (seconds): the server refuses anything expiring later. */
export const MAX_REQUEST_LIFETIME = 300;

/** The deployment a signed request is for (EIP-712 domain): chain and hub. */
export interface BlobAccessDomain {
  readonly chainId: number;
  readonly hub: Address;
}

function domainOf(d: BlobAccessDomain): TypedDataDomain {
  return { ...BLOB_REQUEST_DOMAIN, chainId: d.chainId, verifyingContract: d.hub };
}

/** Who may read a blob: `undefined` when it is public, else the allowed addresses. */
export interface BlobReaders {
  readersOf(hash: Hex): Promise<readonly Address[] | undefined>;
}

/**
 * A second way in for a signer who is not a reader (`read-grant.ts`): a grant named by the request, checked for `hash`
 * and `signer`; throws `BlobAccessDeniedError` when it does not open the blob.
 */
export interface GrantCheck {
  check(hash: Hex, signer: Address, grantHash: Hex, now: number): Promise<void>;
}

/** Request header naming the read grant (`read-grant.ts`) a worker's signed read relies on. */
export const BLOB_GRANT_HEADER = "x-ciphershare-grant";

/** What the server asks of every GET/HEAD (`BlobHttpServerOptions.access`). */
export interface BlobAccessCheck {
  check(hash: Hex, headers: Readonly<Record<string, string | string[] | undefined>>): Promise<void>;
}

/**
 * Checks requests for restricted blobs: a valid EIP-712 signature over (hash, expiresAt, nonce) by an allowed reader,
 * not expired, expiring within `MAX_REQUEST_LIFETIME`, with a nonce not seen before.
 */
export class BlobAccessGuard implements BlobAccessCheck {
  /** Nonces seen, with their expiry: kept until then, so a replay within the lifetime is refused. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly readers: BlobReaders,
    private readonly domain: BlobAccessDomain,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
    /** Job-scoped read grants (queue workers); none: only readers themselves. */
    private readonly grants?: GrantCheck,
  ) {}

  async check(hash: Hex, headers: Readonly<Record<string, string | string[] | undefined>>): Promise<void> {
    const allowed = await this.readers.readersOf(hash);
    if (allowed === undefined) return;
    const header = (name: string) => {
      const value = headers[name];
      return typeof value === "string" ? value : undefined;
    };
    const signature = header(BLOB_REQUEST_HEADERS.signature);
    const expiresText = header(BLOB_REQUEST_HEADERS.expiresAt);
    const nonce = header(BLOB_REQUEST_HEADERS.nonce);
    if (signature === undefined || expiresText === undefined || nonce === undefined) {
      throw new BlobAccessDeniedError(
        401,
        "This blob is a contribution: only its round's computing parties may read it.",
        {
          details: `sign the request (${Object.values(BLOB_REQUEST_HEADERS).join(", ")})`,
        },
      );
    }
    if (
      !/^[0-9]{1,12}$/.test(expiresText) ||
      !/^0x[0-9a-fA-F]{64}$/.test(nonce) ||
      !/^0x[0-9a-fA-F]+$/.test(signature)
    ) {
      throw new BlobAccessDeniedError(401, "Malformed signed request.", { details: "expiry, nonce or signature" });
    }
    const expiresAt = Number(expiresText);
    const now = this.now();
    if (expiresAt <= now) {
      throw new BlobAccessDeniedError(401, "The signed request has expired.", { details: `${expiresAt} ≤ ${now}` });
    }
    if (expiresAt > now + MAX_REQUEST_LIFETIME) {
      throw new BlobAccessDeniedError(401, "The signed request lives too long.", {
        details: `expires ${expiresAt - now} s from now, at most ${MAX_REQUEST_LIFETIME}`,
      });
    }
    let signer: Address;
    try {
      signer = (await recoverTypedDataAddress({
        domain: domainOf(this.domain),
        types: BLOB_REQUEST_TYPES,
        primaryType: "BlobRequest",
        message: { hash, expiresAt: BigInt(expiresAt), nonce: nonce as Hex },
        signature: signature as Hex,
      })) as Address;
    } catch (error) {
      throw new BlobAccessDeniedError(401, "The request's signature is invalid.", { cause: error });
    }
    if (!allowed.some((reader) => sameAddress(reader, signer))) {
      const grant = header(BLOB_GRANT_HEADER);
      if (grant === undefined || this.grants === undefined) {
        throw new BlobAccessDeniedError(403, "The signer may not read this contribution.", {
          details: `${signer} is not the round's coprocessor or a custodian`,
        });
      }
      if (!/^0x[0-9a-fA-F]{64}$/.test(grant)) {
        throw new BlobAccessDeniedError(401, "Malformed signed request.", { details: "grant" });
      }
      await this.grants.check(hash, signer, grant.toLowerCase() as Hex, now);
    }
    this.forgetExpired(now);
    const key = nonce.toLowerCase();
    if (this.seen.has(key)) throw new BlobAccessDeniedError(401, "This signed request was used already (replay).");
    this.seen.set(key, expiresAt);
  }

  private forgetExpired(now: number): void {
    for (const [nonce, expiresAt] of this.seen) if (expiresAt <= now) this.seen.delete(nonce);
  }
}

/** An account that signs typed data (a viem local account). */
export interface TypedDataAccount {
  readonly address: Address;
  signTypedData(parameters: {
    domain: TypedDataDomain;
    types: typeof BLOB_REQUEST_TYPES;
    primaryType: "BlobRequest";
    message: { hash: Hex; expiresAt: bigint; nonce: Hex };
  }): Promise<Hex>;
}

/** Signed-request headers for one read of `hash` by `account` (fresh nonce, `lifetime` seconds). */
export function blobRequestSigner(
  account: TypedDataAccount,
  domain: BlobAccessDomain,
  lifetime = 60,
): (hash: Hex) => Promise<Record<string, string>> {
  return async (hash) => {
    const expiresAt = Math.floor(Date.now() / 1000) + lifetime;
    const nonce = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
    const signature = await account.signTypedData({
      domain: domainOf(domain),
      types: BLOB_REQUEST_TYPES,
      primaryType: "BlobRequest",
      message: { hash, expiresAt: BigInt(expiresAt), nonce },
    });
    return {
      [BLOB_REQUEST_HEADERS.signature]: signature,
      [BLOB_REQUEST_HEADERS.expiresAt]: String(expiresAt),
      [BLOB_REQUEST_HEADERS.nonce]: nonce,
    };
  };
}
