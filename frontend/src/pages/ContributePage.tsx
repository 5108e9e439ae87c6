import { useState, type ChangeEvent } from "react";
import { useConnection } from "wagmi";
import { CkksSelfTest } from "../components/CkksSelfTest";
import { Step, NotWired } from "../components/ui";
import { checkUpdateFile, UPDATE_FILE_EXTENSIONS, type UpdateFileCheck } from "../contribute/updateFile";
import { useAppContext } from "../context";
import { formatBytes } from "../format";

export function ContributePage() {
  const { runtime } = useAppContext();
  const connection = useConnection();
  const [file, setFile] = useState<File | null>(null);
  const [check, setCheck] = useState<UpdateFileCheck | null>(null);

  const onFile = (event: ChangeEvent<HTMLInputElement>) => {
    const chosen = event.target.files?.[0] ?? null;
    setFile(chosen);
    setCheck(chosen ? checkUpdateFile(chosen) : null);
  };

  return (
    <div className="page" data-testid="page-contribute">
      <h1>Contribute</h1>
      <p className="lead">
        Your model update is encrypted in this page before it is uploaded; only its hash goes on-chain. The plaintext
        never leaves the page.
      </p>
      {!connection.isConnected && <p className="hint">Connect a wallet first (Connect page).</p>}
      <ol className="steps">
        <Step index={1} title="Register as a contributor" state="not-wired">
          <p>Register with a transaction, or sign a gasless registration (EIP-712) that a relayer submits.</p>
          <NotWired needs="the contributor registry contract's ABI and address" />
        </Step>
        <Step index={2} title="Choose your model update" state={check?.ok ? "done" : "ready"}>
          <input
            type="file"
            accept={UPDATE_FILE_EXTENSIONS.join(",")}
            onChange={onFile}
            data-testid="update-file"
            aria-label="Model update file"
          />
          {file && check?.ok && (
            <p className="ok" data-testid="update-file-ok">
              {file.name} — {formatBytes(file.size)}, {check.format}
            </p>
          )}
          {check && !check.ok && (
            <p className="error" role="alert" data-testid="update-file-error">
              {check.message}
            </p>
          )}
          <p className="muted">Reading the tensor values waits for the shared update-format readers.</p>
        </Step>
        <Step index={3} title="Fetch the program's public key bundle and check its hash on-chain" state="not-wired">
          <p>Coprocessor: {runtime.coprocessorUrl ? <code>{runtime.coprocessorUrl}</code> : <em>not configured</em>}</p>
          <NotWired needs="the coprocessor's key-bundle endpoint and the program contract's ABI" />
        </Step>
        <Step index={4} title="Encrypt in this browser" state="ready">
          <CkksSelfTest />
        </Step>
        <Step index={5} title="Upload the ciphertexts" state="not-wired">
          <NotWired needs="the coprocessor's upload endpoint" />
        </Step>
        <Step index={6} title="Commit the hash on-chain" state="not-wired">
          <NotWired needs="the round contract's ABI and address" />
        </Step>
        <Step index={7} title="Round status" state="not-wired">
          <NotWired needs="the round contract's events" />
        </Step>
      </ol>
    </div>
  );
}
