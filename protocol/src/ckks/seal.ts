import type { MainModule } from "node-seal" with { "resolution-mode": "import" };
import { CipherShareError } from "../errors";
import { CkksError } from "./errors";

export type {
  Ciphertext,
  CKKSEncoder,
  Decryptor,
  Encryptor,
  Evaluator,
  GaloisKeys,
  Plaintext,
  PublicKey,
  RelinKeys,
  SEALContext,
  SecretKey,
} from "node-seal" with { "resolution-mode": "import" };

/** The node-seal module: SEAL compiled to WASM, with embind classes. */
export type Seal = MainModule;

/** The slice of the WebAssembly global this module uses (the project's `lib` has no DOM/WASM types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmGlobal {
  instantiate: (...args: unknown[]) => Promise<unknown>;
  Memory: abstract new (...args: never[]) => WasmMemory;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmGlobal }).WebAssembly;

interface LoadedSeal {
  seal: Seal;
  memory: WasmMemory | undefined;
}

let loading: Promise<LoadedSeal> | undefined;

/** Where node-seal finds its `.wasm`: next to its own module by default; a bundled web worker names its asset URL. */
export interface SealLocator {
  locateFile?: (path: string) => string;
}

/**
 * Loads node-seal once per process or worker (instantiating the 2 MB WASM costs ~100 ms and every SEAL object is
 * tied to the instance that created it, so there must be exactly one). The locator of the first call wins.
 */
export async function loadSeal(locator: SealLocator = {}): Promise<Seal> {
  return (await loadOnce(locator)).seal;
}

/**
 * Bytes of linear memory the SEAL WASM instance has reserved. The heap grows when live objects need
 * room and never shrinks, so a leak of undeleted temporaries shows up here as growth over repeated
 * operations.
 */
export async function sealHeapBytes(): Promise<number> {
  const { memory } = await loadOnce();
  if (!memory) throw new CkksError("The SEAL WASM memory could not be located, so the heap cannot be measured.");
  return memory.buffer.byteLength;
}

function loadOnce(locator: SealLocator = {}): Promise<LoadedSeal> {
  loading ??= instantiate(locator).catch((error: unknown) => {
    loading = undefined;
    throw new CkksError("node-seal could not be loaded; it needs Node 22 or later (run through npx/npm).", {
      details: `runtime: Node ${globalThis.process?.versions?.node ?? "absent (browser)"}`,
      cause: error,
    });
  });
  return loading;
}

async function instantiate(locator: SealLocator): Promise<LoadedSeal> {
  // node-seal does not expose its WASM memory, yet the memory test needs the heap size. Emscripten
  // instantiates through WebAssembly.instantiate in Node; wrap it for the duration of this one load to
  // see the instance's exports, then restore it.
  let memory: WasmMemory | undefined;
  const original = wasm.instantiate;
  wasm.instantiate = async (...args: unknown[]) => {
    const result = await original.apply(wasm, args);
    const source = result as { instance?: { exports: object }; exports?: object };
    const exports = source.instance?.exports ?? source.exports ?? {};
    memory ??= Object.values(exports).find((value): value is WasmMemory => value instanceof wasm.Memory);
    return result;
  };
  try {
    const { default: initialize } = await import("node-seal");
    const seal = await initialize(locator.locateFile ? { locateFile: locator.locateFile } : undefined);
    return { seal, memory };
  } finally {
    wasm.instantiate = original;
  }
}

/**
 * Runs a SEAL call and turns its failure into a `CkksError` naming the operation. SEAL throws
 * `WebAssembly.Exception`s whose `message` is an array `[type, text]` (e.g. `["std::invalid_argument",
 * "scale out of bounds"]`), which otherwise prints as an opaque object.
 */
export function sealCall<T>(operation: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw toCkksError(operation, error);
  }
}

/** Converts anything SEAL (or embind) threw into a `CkksError`; CipherShare errors pass through. */
export function toCkksError(operation: string, error: unknown): CipherShareError {
  if (error instanceof CipherShareError) return error;
  return new CkksError(`SEAL failed to ${operation}.`, { details: describeSealException(error), cause: error });
}

/** The `type: text` of a SEAL exception, or the message of any other error. */
export function describeSealException(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  if (Array.isArray(message) && message.length === 2) return `${String(message[0])}: ${String(message[1])}`;
  if (typeof message === "string") return message;
  return String(error);
}

/** Deletes every handle given, ignoring the ones already deleted or absent. */
export function deleteAll(...handles: ({ delete(): void; isDeleted(): boolean } | undefined | null)[]): void {
  for (const handle of handles) if (handle && !handle.isDeleted()) handle.delete();
}
