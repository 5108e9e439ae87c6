/// <reference lib="webworker" />
// Runs node-seal's WASM off the main thread so the page stays responsive while it encrypts. The CKKS code is the
// protocol package's (the coprocessor's own): the same context, key loading and envelope the CLI writes.
import sealWasmUrl from "node-seal-wasm?url";
import { CkksContext } from "@ciphershare/protocol/ckks/context";
import { EnvelopeKind, parseEnvelope } from "@ciphershare/protocol/ckks/envelope";
import {
  generateKeys,
  loadEncryptionKey,
  loadSecretKey,
  parsePublicBundle,
  serializePublicBundle,
  type PublicBundle,
} from "@ciphershare/protocol/ckks/keys";
import { getParameterSet, type CkksParameterSet } from "@ciphershare/protocol/ckks/params";
import { describeSealException } from "@ciphershare/protocol/ckks/seal";
import { decryptEnvelopeValues, encryptModelUpdate } from "@ciphershare/protocol/ckks/update";
import type { TensorSpec } from "@ciphershare/protocol/formats/model-update";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import type { Hex } from "@ciphershare/protocol/hex";
import { CKKS_PARAMETER_SET } from "./params";
import type { CkksProgress, CkksRequest, CkksResponse, EncryptedUpdate } from "./protocol";
import { decryptModelWithKeystore, makeTrainingUpload } from "./training";

declare const self: DedicatedWorkerGlobalScope;

/** One context per parameter set: a program's key bundle names its set. */
const contexts = new Map<string, Promise<CkksContext>>();

function contextFor(parameters: CkksParameterSet): Promise<CkksContext> {
  let context = contexts.get(parameters.id);
  if (!context) {
    // Bundled, node-seal cannot find its .wasm next to itself: the worker hands over the asset's URL.
    context = CkksContext.create(parameters, { locateFile: () => sealWasmUrl });
    contexts.set(parameters.id, context);
  }
  return context;
}

function post(message: CkksResponse, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

/** Parses a program's key bundle and names its parameter set, refusing bytes that are not a bundle. */
function readBundle(bundleBytes: Uint8Array): { bundle: PublicBundle; parameters: CkksParameterSet } {
  let bundle: PublicBundle;
  try {
    bundle = parsePublicBundle(bundleBytes);
  } catch (error) {
    throw new Error(`This is not a CipherShare key bundle: ${describe(error)}`);
  }
  try {
    return { bundle, parameters: getParameterSet(bundle.parameterSetId) };
  } catch (error) {
    throw new Error(`The key bundle is for an unknown CKKS parameter set: ${describe(error)}`);
  }
}

/** CipherShareError keeps the reason in shortMessage and the offending value in details. */
function describe(error: unknown): string {
  const { shortMessage, details } = error as { shortMessage?: string; details?: string };
  if (typeof shortMessage === "string") return details ? `${shortMessage} (${details})` : shortMessage;
  return describeSealException(error);
}

async function encrypt(
  id: number,
  values: Float64Array,
  tensors: readonly TensorSpec[],
  publicBundle: Uint8Array,
  bundleHash: Hex | undefined,
): Promise<void> {
  const report = (progress: CkksProgress) => post({ id, kind: "progress", progress });
  report({ stage: "loading", done: 0, total: 1 });
  const { bundle, parameters } = readBundle(publicBundle);
  const ctx = await contextFor(parameters);
  let key;
  try {
    key = loadEncryptionKey(ctx, bundle, bundleHash ?? (await keccak256(publicBundle)));
  } catch (error) {
    throw new Error(`The key bundle's public key does not load under ${parameters.id}: ${describe(error)}`);
  }
  try {
    // The same envelope the CLI writes, so the coprocessor reads browser and CLI uploads alike.
    const envelope = await encryptModelUpdate(ctx, key, { tensors, values }, (done, total) =>
      report({ stage: "encrypting", done, total }),
    );
    const result: EncryptedUpdate = {
      envelope,
      envelopeHash: await keccak256(envelope),
      ciphertextCount: Math.ceil(values.length / ctx.slotCount),
      valueCount: values.length,
    };
    report({ stage: "done", done: 1, total: 1 });
    post({ id, kind: "encrypted", result }, [envelope.buffer as ArrayBuffer]);
  } finally {
    key.dispose();
  }
}

/** A training provider's upload, by the CLI's own code path (`makeTrainingUpload`), under the program's bundle. */
async function trainingUpload(id: number, request: Extract<CkksRequest, { kind: "trainingUpload" }>): Promise<void> {
  const report = (progress: CkksProgress) => post({ id, kind: "progress", progress });
  report({ stage: "loading", done: 0, total: 1 });
  const { bundle, parameters } = readBundle(request.publicBundle);
  const ctx = await contextFor(parameters);
  let key;
  try {
    key = loadEncryptionKey(ctx, bundle, request.bundleHash);
  } catch (error) {
    throw new Error(`The key bundle's public key does not load under ${parameters.id}: ${describe(error)}`);
  }
  try {
    report({ stage: "encrypting", done: 0, total: 1 });
    const result = await makeTrainingUpload(ctx, key.encryptor, request);
    report({ stage: "done", done: 1, total: 1 });
    post({ id, kind: "trainingUploaded", result }, [result.bytes.buffer as ArrayBuffer]);
  } finally {
    key.dispose();
  }
}

/** The buyer's W: the keystore is opened here, the secret key used once and zeroed; only W leaves the worker. */
async function decryptModel(id: number, request: Extract<CkksRequest, { kind: "decryptModel" }>): Promise<void> {
  post({ id, kind: "progress", progress: { stage: "decrypting", done: 0, total: 1 } });
  const model = await decryptModelWithKeystore(contextFor, request);
  post({ id, kind: "progress", progress: { stage: "done", done: 1, total: 1 } });
  post({ id, kind: "model", model }, [model.data.buffer as ArrayBuffer]);
}

/** Throwaway secret keys for the self-test, by id; each is used for one decryption and forgotten. */
const testKeys = new Map<number, Uint8Array>();
let nextTestKeyId = 1;

async function generateTestKeys(id: number): Promise<void> {
  post({ id, kind: "progress", progress: { stage: "loading", done: 0, total: 1 } });
  const ctx = await contextFor(CKKS_PARAMETER_SET);
  post({ id, kind: "progress", progress: { stage: "keys", done: 0, total: 1 } });
  const keys = generateKeys(ctx);
  // A bundle in the custodian's format, with only what encryption needs (no evaluation keys).
  const bytes = serializePublicBundle({ ...keys.bundle, relinKeys: new Uint8Array(0) });
  const keyId = nextTestKeyId++;
  testKeys.set(keyId, keys.secretKey);
  post({ id, kind: "testKeys", keyId, publicBundle: bytes }, [bytes.buffer as ArrayBuffer]);
}

async function decryptWithTestKey(id: number, keyId: number, envelopeBytes: Uint8Array): Promise<void> {
  const secretKeyBytes = testKeys.get(keyId);
  if (!secretKeyBytes) throw new Error(`No self-test key ${keyId}.`);
  testKeys.delete(keyId);
  const ctx = await contextFor(CKKS_PARAMETER_SET);
  const envelope = await parseEnvelope(envelopeBytes, { kind: EnvelopeKind.Contribution });
  const secret = loadSecretKey(ctx, secretKeyBytes);
  secretKeyBytes.fill(0);
  try {
    post({ id, kind: "progress", progress: { stage: "decrypting", done: 0, total: envelope.header.chunkCount } });
    const values = decryptEnvelopeValues(ctx, envelope, secret.decryptor);
    post({
      id,
      kind: "progress",
      progress: { stage: "decrypting", done: envelope.header.chunkCount, total: envelope.header.chunkCount },
    });
    post({ id, kind: "decrypted", values }, [values.buffer as ArrayBuffer]);
  } finally {
    secret.dispose();
  }
}

self.onmessage = (event: MessageEvent<CkksRequest>) => {
  const request = event.data;
  const run =
    request.kind === "encrypt"
      ? encrypt(request.id, request.values, request.tensors, request.publicBundle, request.bundleHash)
      : request.kind === "trainingUpload"
        ? trainingUpload(request.id, request)
        : request.kind === "decryptModel"
          ? decryptModel(request.id, request)
          : request.kind === "generateTestKeys"
            ? generateTestKeys(request.id)
            : decryptWithTestKey(request.id, request.keyId, request.envelope);
  run.catch((error: unknown) => post({ id: request.id, kind: "error", message: describeError(error) }));
};

/** One readable line for the page: our errors' short message (details), other errors' message, SEAL's `[type, text]` exceptions joined. */
function describeError(error: unknown): string {
  if (typeof (error as { shortMessage?: unknown })?.shortMessage === "string") return describe(error);
  return error instanceof Error && typeof error.message === "string" ? error.message : describeSealException(error);
}
