import type { CkksProgress, CkksRequest, CkksResponse, EncryptedUpdate, SelfTestResult } from "./protocol";

export type { CkksProgress, EncryptedUpdate, SelfTestResult } from "./protocol";

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
 * `publicKeyBytes` is the serialized SEAL public key from the program's key bundle (its hash is
 * checked against the chain before this is called).
 */
export async function encryptUpdate(
  values: Float64Array,
  publicKeyBytes: Uint8Array,
  onProgress?: (progress: CkksProgress) => void,
): Promise<EncryptedUpdate> {
  // Copies, so the caller keeps its arrays usable after the transfer.
  const copy = Float64Array.from(values);
  const key = Uint8Array.from(publicKeyBytes);
  const response = await worker().request((id) => ({ id, kind: "encrypt", values: copy, publicKey: key }), onProgress, [
    copy.buffer,
    key.buffer,
  ]);
  if (response.kind !== "encrypted") throw new Error(`Unexpected worker response ${response.kind}.`);
  return response.result;
}

/** Encrypts and decrypts a vector under a throwaway key, proving the WASM works in this browser. */
export async function runCkksSelfTest(
  valueCount: number,
  onProgress?: (progress: CkksProgress) => void,
): Promise<SelfTestResult> {
  const response = await worker().request((id) => ({ id, kind: "selfTest", valueCount }), onProgress);
  if (response.kind !== "selfTested") throw new Error(`Unexpected worker response ${response.kind}.`);
  return response.result;
}
