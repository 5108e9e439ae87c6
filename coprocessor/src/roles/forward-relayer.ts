// The network's forwarder relay (issue 11): a fresh payout address holds no ETH, so it spends its royalty-token
// balance by signing an ERC-2771 request (EIP-712, CipherShareForwarder) that this relay submits from the relayer
// account, paying the gas. Only calls of the royalty token that spend the signer's own balance are relayed
// (`confidentialTransfer`, `unwrap`); an unwrap is finalized at once (public decryption of the amount, then
// `finalizeUnwrap`). The relay learns nothing but the fresh address's own requests. `POST /api/relay-forward`.
import type { IncomingMessage, ServerResponse } from "node:http";
import { decodeEventLog, isAddress, isHex, toFunctionSelector, zeroHash } from "viem";
import { royaltyTokenAbi } from "@ciphershare/protocol/chain/abis";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import { mined, type ChainSigner } from "../chain/clients";
import { contractsFor } from "../chain/contracts";
import type { FhevmClient } from "../chain/fhevmClient";
import { ClaimRelayError, FORWARD_RELAY_PATH, type ForwardRequestData } from "./relay-client";
import { RelayLimiter, RelayRefusedError, sendRefusal } from "./relay-limits";

/** The royalty-token functions the relay pays gas for: they only ever spend the signer's own balance. */
export const RELAYED_TOKEN_FUNCTIONS = {
  [toFunctionSelector("confidentialTransfer(address,bytes32,bytes)")]: "confidentialTransfer",
  [toFunctionSelector("unwrap(address,address,bytes32,bytes)")]: "unwrap",
} as const;

/** Most gas a relayed request may ask for (the relayer pays it). */
export const MAX_FORWARD_GAS = 5_000_000n;

/** Parses a signed `ForwardRequestData` for `token`, or throws a `ClaimRelayError` naming the bad field. */
export function parseForwardRequest(body: unknown, token: Address): ForwardRequestData {
  const raw = (body ?? {}) as Record<string, unknown>;
  const address = (field: string): Address => {
    const value = raw[field];
    if (typeof value !== "string" || !isAddress(value)) {
      throw new ClaimRelayError(`\`${field}\` must be an address (0x + 40 hex digits).`, { details: String(value) });
    }
    return value as Address;
  };
  const integer = (field: string): bigint => {
    const value = raw[field];
    if ((typeof value !== "string" && typeof value !== "number") || !/^\d+$/.test(String(value))) {
      throw new ClaimRelayError(`\`${field}\` must be a decimal integer.`, { details: String(value) });
    }
    return BigInt(value);
  };
  const hex = (field: string): Hex => {
    const value = raw[field];
    if (typeof value !== "string" || !isHex(value)) {
      throw new ClaimRelayError(`\`${field}\` must be 0x-prefixed hex.`, { details: String(value) });
    }
    return value;
  };
  const request: ForwardRequestData = {
    from: address("from"),
    to: address("to"),
    value: integer("value"),
    gas: integer("gas"),
    deadline: Number(integer("deadline")),
    data: hex("data"),
    signature: hex("signature"),
  };
  if (request.to.toLowerCase() !== token.toLowerCase()) {
    throw new ClaimRelayError("The relay forwards calls of the royalty token only.", { details: `to ${request.to}` });
  }
  if (request.value !== 0n)
    throw new ClaimRelayError("A relayed request sends no ETH.", { details: `${request.value}` });
  if (request.gas > MAX_FORWARD_GAS) {
    throw new ClaimRelayError(`A relayed request may ask for at most ${MAX_FORWARD_GAS} gas.`, {
      details: `${request.gas}`,
    });
  }
  const selector = request.data.slice(0, 10).toLowerCase() as Hex;
  if (!(selector in RELAYED_TOKEN_FUNCTIONS)) {
    throw new ClaimRelayError("The relay forwards `confidentialTransfer` and `unwrap` of the royalty token only.", {
      details: `selector ${selector}`,
    });
  }
  return request;
}

/**
 * Submits a signed request through the forwarder from `submitter` (simulated first: a bad signature, an expired
 * deadline or the token's refusal is reported before any gas is spent); an unwrap is finalized with the public
 * decryption of its amount. Returns the `execute` transaction and, for an unwrap, the amount paid out in ERC-20.
 */
export async function relayForward(
  deployment: Deployment,
  submitter: ChainSigner,
  fhevm: FhevmClient,
  request: ForwardRequestData,
): Promise<{ hash: Hex; unwrapped?: string }> {
  const { forwarder, token } = contractsFor(deployment, submitter);
  // An address the token never credited has nothing to spend: relaying for it would only burn the relayer's gas.
  const balance = await token.read.confidentialBalanceOf([request.from]);
  if (balance === zeroHash) {
    throw new RelayRefusedError(
      `${request.from} has never held royalty tokens; the relay pays no gas for it.`,
      403,
      undefined,
    );
  }
  const args = [{ ...request, deadline: request.deadline }] as const;
  await forwarder.simulate.execute(args);
  const hash = await forwarder.write.execute(args);
  const receipt = await mined(submitter.reader, hash);
  const requestIds: Hex[] = [];
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== deployment.token.toLowerCase()) continue;
    try {
      const event = decodeEventLog({ abi: royaltyTokenAbi, data: log.data, topics: log.topics });
      if (event.eventName === "UnwrapRequested") requestIds.push(event.args.unwrapRequestId);
    } catch {
      // another event of the token
    }
  }
  if (requestIds.length === 0) return { hash };
  let unwrapped = 0n;
  for (const id of requestIds) {
    const decrypted = await fhevm.publicDecrypt([id]);
    const amount = decrypted.clearValues[id] as bigint;
    await mined(submitter.reader, token.write.finalizeUnwrap([id, amount, decrypted.decryptionProof]));
    unwrapped += amount;
  }
  return { hash, unwrapped: unwrapped.toString() };
}

/**
 * Connect-style middleware for {FORWARD_RELAY_PATH}: `POST` a signed `ForwardRequestData` (numbers as decimals).
 * Malformed requests get 400, requests over the limiter's budget 429 (with `Retry-After`), requests the relay will
 * not pay for 403, the chain's refusals 502.
 */
export function forwardRelayHandler(
  token: Address,
  relay: (request: ForwardRequestData) => Promise<{ hash: Hex; unwrapped?: string }>,
  limiter: RelayLimiter = new RelayLimiter(),
): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    if (new URL(req.url ?? "/", "http://relay").pathname !== FORWARD_RELAY_PATH) return next();
    const send = (status: number, body: unknown) => {
      res.statusCode = status;
      res.setHeader("Content-Type", "application/json");
      res.setHeader("Cache-Control", "no-store");
      res.end(JSON.stringify(body));
    };
    if (req.method !== "POST") return send(405, { error: "POST a signed ForwardRequestData" });
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on("end", () => {
      void (async () => {
        let request: ForwardRequestData;
        try {
          if (body.length > 65_536) throw new ClaimRelayError("Request body too large.", { details: `${body.length}` });
          request = parseForwardRequest(JSON.parse(body), token);
        } catch (error) {
          return send(400, { error: error instanceof Error ? error.message : String(error) });
        }
        try {
          limiter.admit(request.from.toLowerCase(), `from ${request.from}`);
          send(200, await relay(request));
        } catch (error) {
          if (error instanceof RelayRefusedError) return sendRefusal(res, error);
          const { shortMessage, message } = error as { shortMessage?: string; message?: string };
          send(502, { error: shortMessage ?? message ?? String(error) });
        }
      })();
    });
  };
}
