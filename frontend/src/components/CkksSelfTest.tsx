import { useState } from "react";
import { runCkksSelfTest, type CkksProgress, type SelfTestResult } from "../fhe/ckksClient";
import { CKKS_PARAMETER_SET } from "../fhe/params";
import { ProgressBar } from "./ui";

const SELF_TEST_VALUES = 10_000;

const STAGE_LABELS: Record<CkksProgress["stage"], string> = {
  loading: "Loading SEAL (WASM)",
  keys: "Generating a throwaway key",
  encrypting: "Encrypting",
  decrypting: "Decrypting to check",
  done: "Done",
};

/** Runs node-seal in this browser's worker: encrypt, decrypt, compare. Proves the WASM path works here. */
export function CkksSelfTest() {
  const [progress, setProgress] = useState<CkksProgress | null>(null);
  const [result, setResult] = useState<SelfTestResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const running = progress !== null && progress.stage !== "done" && result === null && error === null;

  const run = () => {
    setResult(null);
    setError(null);
    setProgress({ stage: "loading", done: 0, total: 1 });
    runCkksSelfTest(SELF_TEST_VALUES, setProgress).then(setResult, (e: unknown) =>
      setError(e instanceof Error ? e.message : String(e)),
    );
  };

  return (
    <div className="selftest" data-testid="ckks-selftest">
      <p>
        CKKS {CKKS_PARAMETER_SET.id}: N={CKKS_PARAMETER_SET.polyModulusDegree}, moduli [
        {CKKS_PARAMETER_SET.coeffModulusBits.join(", ")}], scale 2^{CKKS_PARAMETER_SET.scaleBits}, in a Web Worker so
        this page stays responsive.
      </p>
      <button type="button" onClick={run} disabled={running} data-testid="ckks-selftest-run">
        {running ? "Running…" : "Run in-browser CKKS self-test"}
      </button>
      {progress && !result && !error && (
        <ProgressBar value={progress.total ? progress.done / progress.total : 0} label={STAGE_LABELS[progress.stage]} />
      )}
      {result && (
        <p className="ok" data-testid="ckks-selftest-result" data-max-error={result.maxAbsoluteError}>
          Encrypted {result.valueCount.toLocaleString("en-US")} values into {result.ciphertextCount} ciphertexts (
          {(result.ciphertextBytes / 1024 / 1024).toFixed(2)} MiB) in {Math.round(result.encryptMs)} ms; decrypted back
          with max error {result.maxAbsoluteError.toExponential(2)}.
        </p>
      )}
      {error && (
        <p className="error" role="alert" data-testid="ckks-selftest-error">
          In-browser encryption failed: {error}
        </p>
      )}
    </div>
  );
}
