import type { Hex } from "viem";

export class UploadError extends Error {
  override readonly name = "UploadError";
}

/**
 * Uploads an encrypted envelope to the coprocessor's content-addressed blob store (`POST /blobs`) and
 * checks that the store filed it under the hash the page computed, the one that will be committed.
 */
export async function uploadEnvelope(
  coprocessorUrl: string,
  envelope: Uint8Array,
  envelopeHash: Hex,
  fetchFn: typeof fetch = (...args) => fetch(...args),
): Promise<Hex> {
  let response: Response;
  try {
    response = await fetchFn(`${coprocessorUrl}/blobs`, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body: envelope as BlobPart,
    });
  } catch {
    throw new UploadError(`The coprocessor at ${coprocessorUrl} is not answering; is it running?`);
  }
  if (response.status === 413) {
    throw new UploadError(`The coprocessor refused the upload as too large (${envelope.byteLength} bytes).`);
  }
  if (!response.ok) throw new UploadError(`The coprocessor answered HTTP ${response.status} to the upload.`);
  const { hash } = (await response.json()) as { hash?: string };
  if (hash?.toLowerCase() !== envelopeHash.toLowerCase()) {
    throw new UploadError(`The coprocessor stored the upload as ${String(hash)}, not ${envelopeHash}; do not commit.`);
  }
  return envelopeHash;
}
