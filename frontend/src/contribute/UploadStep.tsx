import { useState } from "react";
import type { Hex } from "viem";
import { NotWired, Step } from "../components/ui";
import { useAppContext } from "../context";
import type { EncryptedUpdate } from "../fhe/ckksClient";
import { uploadEnvelope } from "./upload";

/** Step 5 of Contribute: upload the encrypted envelope (ciphertext only) to the coprocessor. */
export function UploadStep({
  index,
  encrypted,
  uploaded,
  onUploaded,
}: {
  index: number;
  encrypted: EncryptedUpdate | null;
  uploaded: Hex | null;
  onUploaded: (hash: Hex | null) => void;
}) {
  const { runtime } = useAppContext();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!runtime.coprocessorUrl) {
    return (
      <Step index={index} title="Upload the ciphertexts" state="not-wired">
        <NotWired needs="a coprocessor URL" />
      </Step>
    );
  }
  const coprocessorUrl = runtime.coprocessorUrl;
  const upload = async () => {
    if (!encrypted) return;
    setBusy(true);
    setError(null);
    try {
      onUploaded(await uploadEnvelope(coprocessorUrl, encrypted.envelope, encrypted.envelopeHash));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const current = uploaded !== null && encrypted !== null && uploaded === encrypted.envelopeHash;
  return (
    <Step index={index} title="Upload the ciphertexts" state={current ? "done" : encrypted ? "ready" : "blocked"}>
      <p className="muted">Only the encrypted envelope leaves this page.</p>
      <button type="button" disabled={!encrypted || busy} onClick={() => void upload()}>
        {busy ? "Uploading…" : "Upload to the coprocessor"}
      </button>
      {current && (
        <p className="ok" data-testid="uploaded-ok">
          Uploaded; the coprocessor stores it as <code>{uploaded}</code>.
        </p>
      )}
      {error && (
        <p className="error" role="alert" data-testid="upload-error">
          {error}
        </p>
      )}
    </Step>
  );
}
