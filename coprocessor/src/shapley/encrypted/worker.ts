import { parentPort } from "node:worker_threads";
import { ShapleyRuntime, type RuntimeRequest } from "./runtime";
import { describeSealException } from "@ciphershare/protocol/ckks/seal";

/** Worker-thread entry: one SEAL instance per thread, driven by `RuntimeRequest` messages. */
const runtime = new ShapleyRuntime();
let queue: Promise<void> = Promise.resolve();

parentPort?.on("message", (message: { id: number; request: RuntimeRequest }) => {
  queue = queue.then(async () => {
    try {
      const response = await runtime.handle(message.request);
      const transfer = response.type === "ciphertext" ? [response.bytes.buffer as ArrayBuffer] : [];
      parentPort?.postMessage({ id: message.id, response }, transfer);
    } catch (error) {
      const text =
        error instanceof Error && typeof error.message === "string" ? error.message : describeSealException(error);
      parentPort?.postMessage({ id: message.id, error: text });
    }
  });
});
