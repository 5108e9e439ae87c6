import { useState } from "react";
import { CkksSelfTest } from "../components/CkksSelfTest";
import { ProgressBar, Step } from "../components/ui";
import { encryptUpdate, type CkksProgress, type EncryptedUpdate } from "../fhe/ckksClient";
import { formatBytes } from "../format";
import type { ModelUpdate } from "@ciphershare/protocol/formats/model-update";
import type { VerifiedKeyBundle } from "./KeyBundleStep";
import { asRoundModel } from "./updateFile";

/** Step 4 of Contribute: encrypt the chosen update under the checked key bundle, in the page's worker. */
export function EncryptStep({
  index,
  update,
  bundle,
  encrypted,
  onEncrypted,
}: {
  index: number;
  update: ModelUpdate | null;
  bundle: VerifiedKeyBundle | null;
  encrypted: EncryptedUpdate | null;
  onEncrypted: (encrypted: EncryptedUpdate | null) => void;
}) {
  const [progress, setProgress] = useState<CkksProgress | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ready = update !== null && bundle !== null;
  const running = progress !== null && progress.stage !== "done" && error === null;

  const encrypt = async () => {
    if (!update || !bundle) return;
    setError(null);
    onEncrypted(null);
    setProgress({ stage: "loading", done: 0, total: 1 });
    try {
      onEncrypted(await encryptUpdate(asRoundModel(update), bundle.bytes, setProgress, bundle.hash));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <Step index={index} title="Encrypt in this browser" state={encrypted ? "done" : ready ? "ready" : "blocked"}>
      {!ready && (
        <p className="muted">Choose an update (step 2) and check the program&apos;s key bundle (step 3) first.</p>
      )}
      <button type="button" className="primary" disabled={!ready || running} onClick={() => void encrypt()}>
        Encrypt my update
      </button>
      {running && progress && (
        <ProgressBar
          value={progress.total ? progress.done / progress.total : 0}
          label={`Encrypting (${progress.stage})`}
        />
      )}
      {encrypted && bundle && (
        <p className="ok" data-testid="encrypted-ok">
          Encrypted {encrypted.valueCount.toLocaleString("en-US")} values into {encrypted.ciphertextCount} ciphertext
          {encrypted.ciphertextCount === 1 ? "" : "s"} under program {bundle.programId.toString()}&apos;s key: envelope{" "}
          {formatBytes(encrypted.envelope.byteLength)}, hash <code>{encrypted.envelopeHash}</code>.
        </p>
      )}
      {error && (
        <p className="error" role="alert" data-testid="encrypt-error">
          {error}
        </p>
      )}
      <details>
        <summary className="muted">Check that encryption works in this browser</summary>
        <CkksSelfTest />
      </details>
    </Step>
  );
}
