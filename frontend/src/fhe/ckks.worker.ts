/// <reference lib="webworker" />
// Runs node-seal's WASM off the main thread so the page stays responsive while it encrypts.
import initialize from "node-seal";
import sealWasmUrl from "node-seal-wasm?url";
import type { CKKSEncoder, MainModule, PublicKey, SEALContext, SecretKey } from "node-seal";
import { buildEnvelope, EnvelopeKind, parseEnvelope } from "../../../coprocessor/src/ckks/envelope";
import { parsePublicBundle, serializePublicBundle } from "../../../coprocessor/src/ckks/keys";
import type { TensorSpec } from "../../../coprocessor/src/formats/model-update";
import { keccak256 } from "../../../coprocessor/src/hash/keccak";
import { getParameterSet, type CkksParameterSet } from "../../../coprocessor/src/ckks/params";
import { CKKS_PARAMETER_SET } from "./params";
import type { CkksProgress, CkksRequest, CkksResponse, EncryptedUpdate } from "./protocol";

declare const self: DedicatedWorkerGlobalScope;

interface Ckks {
  readonly parameters: CkksParameterSet;
  readonly seal: MainModule;
  readonly context: SEALContext;
  readonly encoder: CKKSEncoder;
}

let sealModule: Promise<MainModule> | undefined;
/** One SEAL context per parameter set: a program's key bundle names its set (fast-v1, or deep-v2 for rounds). */
const contexts = new Map<string, Promise<Ckks>>();

function loadCkks(parameters: CkksParameterSet = CKKS_PARAMETER_SET): Promise<Ckks> {
  const cached = contexts.get(parameters.id);
  if (cached) return cached;
  const loading = (async () => {
    sealModule ??= initialize({ locateFile: () => sealWasmUrl });
    const seal = await sealModule;
    const parms = new seal.EncryptionParameters(seal.SchemeType.ckks);
    parms.setPolyModulusDegree(parameters.polyModulusDegree);
    const moduli = seal.CoeffModulus.Create(parameters.polyModulusDegree, Int32Array.from(parameters.coeffModulusBits));
    parms.setCoeffModulus(moduli);
    const context = new seal.SEALContext(parms, true, seal.SecLevelType.tc128);
    moduli.delete();
    parms.delete();
    if (!context.parametersSet()) throw new Error(`SEAL rejected the CKKS parameters: ${context.toHuman()}`);
    return { parameters, seal, context, encoder: new seal.CKKSEncoder(context) };
  })();
  contexts.set(parameters.id, loading);
  return loading;
}

function post(message: CkksResponse, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

/** Encodes and encrypts `values` in slot-sized chunks under `publicKey`, reporting each chunk. */
function encryptChunks(
  { parameters, seal, context, encoder }: Ckks,
  values: Float64Array,
  publicKey: PublicKey,
  report: (p: CkksProgress) => void,
): Uint8Array[] {
  const slots = parameters.slotCount;
  const total = Math.ceil(values.length / slots);
  const encryptor = new seal.Encryptor(context, publicKey);
  const plain = new seal.Plaintext();
  const cipher = new seal.Ciphertext();
  const ciphertexts: Uint8Array[] = [];
  try {
    for (let i = 0; i < total; i++) {
      // encode zero-pads a short last chunk.
      encoder.encode(values.subarray(i * slots, (i + 1) * slots), parameters.scale, plain);
      encryptor.encrypt(plain, cipher);
      ciphertexts.push(Uint8Array.from(cipher.saveToArray(seal.ComprModeType.none)));
      report({ stage: "encrypting", done: i + 1, total });
    }
  } finally {
    cipher.delete();
    plain.delete();
    encryptor.delete();
  }
  return ciphertexts;
}

/** Parses a program's key bundle and names its parameter set, refusing bytes that are not a bundle. */
function readBundle(bundleBytes: Uint8Array): {
  bundle: ReturnType<typeof parsePublicBundle>;
  parameters: CkksParameterSet;
} {
  let bundle;
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

/** Loads the bundle's public key under the bundle's own parameter set. */
function loadBundlePublicKey({ seal, context, parameters }: Ckks, publicKeyBytes: Uint8Array): PublicKey {
  const key = new seal.PublicKey();
  try {
    key.loadFromArray(context, publicKeyBytes);
  } catch (error) {
    key.delete();
    throw new Error(`The key bundle's public key does not load under ${parameters.id}: ${sealMessage(error)}`);
  }
  return key;
}

/** CipherShareError keeps the reason in shortMessage and the offending value in details. */
function describe(error: unknown): string {
  const { shortMessage, details } = error as { shortMessage?: string; details?: string };
  if (typeof shortMessage === "string") return details ? `${shortMessage} (${details})` : shortMessage;
  return sealMessage(error);
}

async function encrypt(
  id: number,
  values: Float64Array,
  tensors: readonly TensorSpec[],
  publicBundle: Uint8Array,
): Promise<void> {
  const report = (progress: CkksProgress) => post({ id, kind: "progress", progress });
  report({ stage: "loading", done: 0, total: 1 });
  const { bundle, parameters } = readBundle(publicBundle);
  const loaded = await loadCkks(parameters);
  const publicKey = loadBundlePublicKey(loaded, bundle.publicKey);
  try {
    const chunks = encryptChunks(loaded, values, publicKey, report);
    // The same envelope the CLI writes, so the coprocessor reads browser and CLI uploads alike.
    const envelope = await buildEnvelope(
      {
        kind: EnvelopeKind.Contribution,
        parameterSet: parameters,
        publicBundleHash: await keccak256(publicBundle),
        scale: parameters.scale,
        coeffModulusSize: parameters.coeffModulusBits.length - 1,
        ciphertextSize: 2,
        tensors,
      },
      chunks,
    );
    const result: EncryptedUpdate = {
      envelope,
      envelopeHash: await keccak256(envelope),
      ciphertextCount: chunks.length,
      valueCount: values.length,
    };
    report({ stage: "done", done: 1, total: 1 });
    post({ id, kind: "encrypted", result }, [envelope.buffer as ArrayBuffer]);
  } finally {
    publicKey.delete();
  }
}

/** Throwaway secret keys for the self-test, by id; each is deleted after its one decryption. */
const testKeys = new Map<number, SecretKey>();
let nextTestKeyId = 1;

async function generateTestKeys(id: number): Promise<void> {
  post({ id, kind: "progress", progress: { stage: "loading", done: 0, total: 1 } });
  const { seal, context } = await loadCkks();
  post({ id, kind: "progress", progress: { stage: "keys", done: 0, total: 1 } });
  const keygen = new seal.KeyGenerator(context);
  const publicKey = keygen.createPublicKeySerializable();
  // A bundle in the custodian's format, with only what encryption needs (no evaluation keys).
  const bytes = serializePublicBundle({
    parameterSetId: CKKS_PARAMETER_SET.id,
    publicKey: Uint8Array.from(publicKey.saveToArray(seal.ComprModeType.none)),
    relinKeys: new Uint8Array(0),
    galoisKeys: new Uint8Array(0),
    galoisSteps: [],
  });
  const keyId = nextTestKeyId++;
  testKeys.set(keyId, keygen.secretKey());
  publicKey.delete();
  keygen.delete();
  post({ id, kind: "testKeys", keyId, publicBundle: bytes }, [bytes.buffer as ArrayBuffer]);
}

async function decryptWithTestKey(id: number, keyId: number, envelopeBytes: Uint8Array): Promise<void> {
  const secretKey = testKeys.get(keyId);
  if (!secretKey) throw new Error(`No self-test key ${keyId}.`);
  testKeys.delete(keyId);
  const { seal, context, encoder } = await loadCkks();
  const envelope = await parseEnvelope(envelopeBytes, { kind: EnvelopeKind.Contribution });
  const { valueCount, chunkCount: total } = envelope.header;
  const decryptor = new seal.Decryptor(context, secretKey);
  const cipher = new seal.Ciphertext();
  const plain = new seal.Plaintext();
  const values = new Float64Array(valueCount);
  try {
    envelope.chunks.forEach((bytes, chunk) => {
      cipher.loadFromArray(context, bytes);
      decryptor.decrypt(cipher, plain);
      const decoded = encoder.decodeFloat64(plain);
      const slots = CKKS_PARAMETER_SET.slotCount;
      const offset = chunk * slots;
      values.set(decoded.subarray(0, Math.min(slots, valueCount - offset)), offset);
      post({ id, kind: "progress", progress: { stage: "decrypting", done: chunk + 1, total } });
    });
  } finally {
    plain.delete();
    cipher.delete();
    decryptor.delete();
    secretKey.delete();
  }
  post({ id, kind: "decrypted", values }, [values.buffer]);
}

/** SEAL throws WebAssembly.Exception whose message is [type, text]; make it one readable line. */
function sealMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  if (Array.isArray(message)) return message.join(": ");
  return typeof message === "string" ? message : String(error);
}

self.onmessage = (event: MessageEvent<CkksRequest>) => {
  const request = event.data;
  const run =
    request.kind === "encrypt"
      ? encrypt(request.id, request.values, request.tensors, request.publicBundle)
      : request.kind === "generateTestKeys"
        ? generateTestKeys(request.id)
        : decryptWithTestKey(request.id, request.keyId, request.envelope);
  run.catch((error: unknown) => post({ id: request.id, kind: "error", message: sealMessage(error) }));
};
