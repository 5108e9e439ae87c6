import { CipherShareError } from "@ciphershare/protocol/errors";

/** A JSON-RPC endpoint did not answer, or answered with an error object. */
export class JsonRpcError extends CipherShareError {
  override name = "JsonRpcError";
}

/**
 * One JSON-RPC 2.0 call over HTTP with `fetch` (Node 18+ and browsers), without the polling and network
 * detection of a full provider: for readiness probes and one-off metadata reads.
 */
export async function jsonRpcRequest(
  rpcUrl: string,
  method: string,
  params: readonly unknown[],
  timeoutMs = 30_000,
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new JsonRpcError(`Could not reach the JSON-RPC endpoint for ${method}.`, { details: rpcUrl, cause: error });
  }
  const body = (await response.json()) as { result?: unknown; error?: { message?: string } };
  if (body.error !== undefined && body.error !== null) {
    throw new JsonRpcError(`JSON-RPC ${method} failed.`, {
      details: `${rpcUrl}: ${body.error.message ?? JSON.stringify(body.error)}`,
    });
  }
  return body.result;
}
