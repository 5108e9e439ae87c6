import type { ModelUpdate } from "@ciphershare/protocol/formats/model-update";
import type { Hex } from "@ciphershare/protocol/hex";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import type {
  CkksProgress,
  CkksRequest,
  CkksResponse,
  EncryptedUpdate,
  SelfTestResult,
  TrainingUpload,
} from "./protocol";

export type { CkksProgress, EncryptedUpdate, SelfTestResult, TrainingUpload } from "./protocol";

type Pending = {
  resolve: (response: CkksResponse) => void;
  reject: (error: Error) => void;
  onProgress?: (progress: CkksProgress) => void;
};

/** One worker per page: the WASM module and CKKS context load once and are reused. */
class CkksWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor() {
    this.worker = new Worker(new URL("./ckks.worker.ts", import.meta.url), { type: "module", name: "ckks" });
    this.worker.onmessage = (event: MessageEvent<CkksResponse>) => this.receive(event.data);
    this.worker.onerror = (event) => {
      const error = new Error(`The encryption worker failed: ${event.message || "could not load"}`);
      for (const pending of this.pending.values()) pending.reject(error);
      this.pending.clear();
    };
  }

  private receive(response: CkksResponse): void {
    const pending = this.pending.get(response.id);
    if (!pending) return;
    if (response.kind === "progress") {
      pending.onProgress?.(response.progress);
      return;
    }
    this.pending.delete(response.id);
    if (response.kind === "error") pending.reject(new Error(response.message));
    else pending.resolve(response);
  }

  request(
    build: (id: number) => CkksRequest,
    onProgress: ((progress: CkksProgress) => void) | undefined,
    transfer: Transferable[] = [],
  ): Promise<CkksResponse> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage(build(id), transfer);
    });
  }
}

let shared: CkksWorker | undefined;
const worker = () => (shared ??= new CkksWorker());

/**
 * Encrypts a model update in the browser under the program's CKKS public key. The plaintext goes
 * only to this page's own worker; what comes back is ciphertext, one per CKKS_SLOTS values.
 *
 * `publicBundleBytes` is the program's encryption bundle as the custodian serialized it (`serializePublicBundle`,
 * fetched and checked by `fetchKeyBundle`); `bundleHash` is the program's on-chain key hash the envelope names
 * (without it, the bytes' own keccak256: the self-test's throwaway bundle).
 */
export async function encryptUpdate(
  update: ModelUpdate,
  publicBundleBytes: Uint8Array,
  onProgress?: (progress: CkksProgress) => void,
  bundleHash?: Hex,
): Promise<EncryptedUpdate> {
  checkUpdateValues(update.values);
  // Copies, so the caller keeps its arrays usable after the transfer.
  const copy = Float64Array.from(update.values);
  const tensors = update.tensors;
  const bundle = Uint8Array.from(publicBundleBytes);
  const response = await worker().request(
    (id) => ({ id, kind: "encrypt", values: copy, tensors, publicBundle: bundle, bundleHash }),
    onProgress,
    [copy.buffer, bundle.buffer],
  );
  if (response.kind !== "encrypted") throw new Error(`Unexpected worker response ${response.kind}.`);
  return response.result;
}

/**
 * Proves the WASM path works in this browser through the same `encryptUpdate` a contribution uses:
 * a throwaway key pair is made in the worker, the vector is encrypted under a key bundle in the
 * custodian's format, then decrypted there and compared here.
 */
export async function runCkksSelfTest(
  valueCount: number,
  onProgress?: (progress: CkksProgress) => void,
): Promise<SelfTestResult> {
  const started = performance.now();
  const keys = await worker().request((id) => ({ id, kind: "generateTestKeys" }), onProgress);
  if (keys.kind !== "testKeys") throw new Error(`Unexpected worker response ${keys.kind}.`);
  onProgress?.({ stage: "keys", done: 1, total: 1 });

  const values = selfTestVector(valueCount);
  const encryptStarted = performance.now();
  const update = await encryptUpdate(
    { tensors: [{ name: "self-test", shape: [valueCount] }], values },
    keys.publicBundle,
    (progress) => {
      if (progress.stage !== "done") onProgress?.(progress);
    },
  );
  const encryptMs = performance.now() - encryptStarted;

  const decrypted = await worker().request(
    (id) => ({ id, kind: "decryptWithTestKey", keyId: keys.keyId, envelope: update.envelope }),
    onProgress,
  );
  if (decrypted.kind !== "decrypted") throw new Error(`Unexpected worker response ${decrypted.kind}.`);
  onProgress?.({ stage: "done", done: 1, total: 1 });
  return {
    valueCount,
    ciphertextCount: update.ciphertextCount,
    ciphertextBytes: update.envelope.byteLength,
    maxAbsoluteError: maxAbsoluteDifference(values, decrypted.values),
    encryptMs,
    totalMs: performance.now() - started,
  };
}

/** Deterministic values of mixed sign and magnitude up to 7, like a model update's deltas. */
export function selfTestVector(length: number): Float64Array {
  return Float64Array.from({ length }, (_, i) => Math.sin(i) * (1 + (i % 7)));
}

export function maxAbsoluteDifference(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) throw new Error(`Lengths differ: ${a.length} and ${b.length}.`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/**
 * CKKS encodes any float without complaint, so a NaN or an infinity would silently become noise in
 * the aggregate: refuse them here, naming the first offending position.
 */
export function checkUpdateValues(values: Float64Array): void {
  if (values.length === 0) throw new RangeError("The model update has no values to encrypt.");
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad !== -1) {
    throw new RangeError(`The model update has a non-finite value (${values[bad]}) at position ${bad}.`);
  }
}

/**
 * A training provider's upload, made in the worker by the CLI's own code path (`submissionStatistics`, then
 * `providerUpload`) under the program's verified encryption bundle. X and Y are copied to the worker; nothing leaves the
 * page.
 */
export async function encryptTrainingStatistics(
  request: Omit<Extract<CkksRequest, { kind: "trainingUpload" }>, "id" | "kind">,
  onProgress?: (progress: CkksProgress) => void,
): Promise<TrainingUpload> {
  const x = { ...request.x, data: Float64Array.from(request.x.data) };
  const y = { ...request.y, data: Float64Array.from(request.y.data) };
  const publicBundle = Uint8Array.from(request.publicBundle);
  const response = await worker().request(
    (id) => ({ ...request, id, kind: "trainingUpload", x, y, publicBundle }),
    onProgress,
    [x.data.buffer, y.data.buffer, publicBundle.buffer],
  );
  if (response.kind !== "trainingUploaded") throw new Error(`Unexpected worker response ${response.kind}.`);
  return response.result;
}

/**
 * The buyer's model W, decrypted in the worker: the keystore text and the passphrase go to this page's own worker
 * only, which opens the keystore, decrypts the envelope of Enc_buyer(W) and returns W.
 */
export async function decryptTrainingModel(
  request: Omit<Extract<CkksRequest, { kind: "decryptModel" }>, "id" | "kind">,
  onProgress?: (progress: CkksProgress) => void,
): Promise<Matrix> {
  const envelope = Uint8Array.from(request.envelope);
  const response = await worker().request((id) => ({ ...request, id, kind: "decryptModel", envelope }), onProgress, [
    envelope.buffer,
  ]);
  if (response.kind !== "model") throw new Error(`Unexpected worker response ${response.kind}.`);
  return response.model;
}
