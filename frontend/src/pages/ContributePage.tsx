import { useState, type ChangeEvent } from "react";
import { useConnection } from "wagmi";
import { Step } from "../components/ui";
import { CommitSteps } from "../contribute/CommitStep";
import { EncryptStep } from "../contribute/EncryptStep";
import { KeyBundleStep, type VerifiedKeyBundle } from "../contribute/KeyBundleStep";
import { RegisterStep } from "../contribute/RegisterStep";
import type { EncryptedUpdate } from "../fhe/ckksClient";
import { readUpdateFile, UPDATE_FILE_EXTENSIONS, type UpdateFileResult } from "../contribute/updateFile";
import { formatBytes } from "../format";

export function ContributePage() {
  const connection = useConnection();
  const [file, setFile] = useState<File | null>(null);
  const [result, setResult] = useState<UpdateFileResult | null>(null);
  const [bundle, setBundle] = useState<VerifiedKeyBundle | null>(null);
  const [encrypted, setEncrypted] = useState<EncryptedUpdate | null>(null);

  const onFile = (event: ChangeEvent<HTMLInputElement>) => {
    const chosen = event.target.files?.[0] ?? null;
    setFile(chosen);
    setResult(null);
    setEncrypted(null);
    if (chosen) {
      readUpdateFile(chosen).then(
        (read) => setResult(read),
        (error: unknown) => setResult({ ok: false, message: `${chosen.name}: ${String(error)}` }),
      );
    }
  };

  return (
    <div className="page" data-testid="page-contribute">
      <h1>Contribute</h1>
      <p className="lead">
        Your model update is encrypted in this page. While the round is open only a seal of its hash goes on-chain; once
        the commit phase is over you reveal the hash and upload the encrypted envelope. The plaintext never leaves the
        page.
      </p>
      {!connection.isConnected && <p className="hint">Connect a wallet first (Connect page).</p>}
      <ol className="steps">
        <RegisterStep index={1} />
        <Step index={2} title="Choose your model update" state={result?.ok ? "done" : "ready"}>
          <input
            type="file"
            accept={UPDATE_FILE_EXTENSIONS.join(",")}
            onChange={onFile}
            data-testid="update-file"
            aria-label="Model update file"
          />
          {file && result?.ok && (
            <p className="ok" data-testid="update-file-ok">
              {file.name} — {formatBytes(file.size)}: {result.summary.valueCount.toLocaleString("en-US")} values in{" "}
              {result.summary.tensors.map((t) => `${t.name} [${t.shape.join("×")}]`).join(", ")} →{" "}
              {result.summary.ciphertextCount} ciphertext{result.summary.ciphertextCount === 1 ? "" : "s"}
            </p>
          )}
          {result && !result.ok && (
            <p className="error" role="alert" data-testid="update-file-error">
              {result.message}
            </p>
          )}
          <p className="muted">The file is read here, in this page; its values are never sent anywhere unencrypted.</p>
        </Step>
        <KeyBundleStep index={3} verified={bundle} onVerified={setBundle} />
        <EncryptStep
          index={4}
          update={result?.ok ? result.update : null}
          bundle={bundle}
          encrypted={encrypted}
          onEncrypted={setEncrypted}
        />
        <CommitSteps index={5} encrypted={encrypted} />
      </ol>
    </div>
  );
}
