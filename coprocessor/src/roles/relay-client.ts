// The client side of the network's relays (issue 11), without Node APIs so the web app bundles it: queue an anonymous
// claim (`POST /api/relay-claim`), ask its status, and hand a request signed by a fresh payout address to the
// forwarder relay (`POST /api/relay-forward`). The servers are claim-relayer.ts and forward-relayer.ts.
import { isAddress } from "viem";
import { CipherShareError } from "@ciphershare/protocol/errors";
import type { Address, Hex } from "@ciphershare/protocol/hex";

export class ClaimRelayError extends CipherShareError {
  override name = "ClaimRelayError";
}

/** The claim relay's endpoint path on the app server. */
export const CLAIM_RELAY_PATH = "/api/relay-claim";
/** The forwarder relay's endpoint path on the app server. */
export const FORWARD_RELAY_PATH = "/api/relay-forward";

export type ClaimStatus = "queued" | "claimed" | "failed";

export interface ClaimRequest {
  readonly to: Address;
  readonly rounds: readonly bigint[];
}

/** Parses `{ to, rounds }` (rounds as decimal strings or numbers) or throws a `ClaimRelayError` naming the field. */
export function parseClaimRequest(body: unknown): ClaimRequest {
  const { to, rounds } = (body ?? {}) as { to?: unknown; rounds?: unknown };
  if (typeof to !== "string" || !isAddress(to)) {
    throw new ClaimRelayError("`to` must be the payout address (0x + 40 hex digits).", { details: String(to) });
  }
  if (!Array.isArray(rounds) || rounds.length === 0) {
    throw new ClaimRelayError("`rounds` must be a non-empty list of round ids.", { details: JSON.stringify(rounds) });
  }
  const parsed = rounds.map((round: unknown) => {
    const text = String(round);
    if (!/^[1-9]\d*$/.test(text)) throw new ClaimRelayError("Each round id must be an integer ≥ 1.", { details: text });
    return BigInt(text);
  });
  return { to: to as Address, rounds: parsed };
}

/** Queues a claim at a relay (`baseUrl` + {CLAIM_RELAY_PATH}); returns when the relay will send it. */
export async function requestRelayedClaim(
  baseUrl: string,
  request: ClaimRequest,
): Promise<{ status: ClaimStatus; scheduledAt: number }> {
  const url = new URL(CLAIM_RELAY_PATH, baseUrl);
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ to: request.to, rounds: request.rounds.map(String) }),
  });
  const body = (await response.json().catch(() => ({}))) as {
    status?: ClaimStatus;
    scheduledAt?: number;
    error?: string;
  };
  if (!response.ok || body.status === undefined || body.scheduledAt === undefined) {
    throw new ClaimRelayError(`The relay refused the claim: ${body.error ?? response.statusText}`, {
      details: url.toString(),
    });
  }
  return { status: body.status, scheduledAt: body.scheduledAt };
}

/** The relay's status of the claim for `to` (with the chain's reason when it failed). */
export async function relayedClaimStatus(
  baseUrl: string,
  to: Address,
): Promise<{ status: ClaimStatus | "unknown"; error?: string }> {
  const url = new URL(`${CLAIM_RELAY_PATH}?to=${to}`, baseUrl);
  const body = (await (await fetch(url)).json()) as { status: ClaimStatus | "unknown"; error?: string };
  return { status: body.status, ...(body.error === undefined ? {} : { error: body.error }) };
}

/** A forward request as sent over HTTP: OpenZeppelin's `ForwardRequestData` (no nonce), numbers as decimal strings. */
export interface ForwardRequestData {
  readonly from: Address;
  readonly to: Address;
  readonly value: bigint;
  readonly gas: bigint;
  readonly deadline: number;
  readonly data: Hex;
  readonly signature: Hex;
}

/** Hands a signed forward request to the relay; returns the transaction hash and, for an unwrap, the finalized amount. */
export async function requestRelayedForward(
  baseUrl: string,
  request: ForwardRequestData,
): Promise<{ hash: Hex; unwrapped?: string }> {
  const url = new URL(FORWARD_RELAY_PATH, baseUrl);
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      ...request,
      value: request.value.toString(),
      gas: request.gas.toString(),
      deadline: String(request.deadline),
    }),
  });
  const body = (await response.json().catch(() => ({}))) as { hash?: Hex; unwrapped?: string; error?: string };
  if (!response.ok || body.hash === undefined) {
    throw new ClaimRelayError(`The relay did not submit the signed request: ${body.error ?? response.statusText}`, {
      details: url.toString(),
    });
  }
  return body.unwrapped === undefined ? { hash: body.hash } : { hash: body.hash, unwrapped: body.unwrapped };
}
