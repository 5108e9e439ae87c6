import { useMemo, useState, type ChangeEvent } from "react";
import { useConnection } from "wagmi";
import { analyticGaussianSigma, submissionBudget } from "@ciphershare/coprocessor/training/privacy";
import { TRAINING_FILE_EXTENSIONS } from "@ciphershare/protocol/training/data-files";
import { Field, ProgressBar, Step } from "../components/ui";
import { CommitSteps } from "../contribute/CommitStep";
import { fetchKeyBundle } from "../contribute/keyBundle";
import { RegisterStep } from "../contribute/RegisterStep";
import { useAppContext } from "../context";
import { encryptTrainingStatistics, type CkksProgress, type TrainingUpload } from "../fhe/ckksClient";
import { formatBytes } from "../format";
import { checkTrainingData, fileBytes, messageOf, type TrainingDataResult } from "../training/trainingData";
import { TrainingRoundStep } from "../training/TrainingRoundStep";
import { useTrainingRound } from "../training/useTrainingRound";

/** A chosen file's bytes, or why it could not be read. */
type FileRead = { readonly file?: { name: string; bytes: Uint8Array }; readonly error?: string };

/**
 * A data provider of an encrypted-data training program (docs/training.md), as `ciphershare provider submit`: rows and
 * labels are read and checked in this page, A = XᵀX and B = XᵀY (optionally with DP noise) are computed and encrypted
 * under the program's verified key in the CKKS worker by the CLI's own code, and the upload is committed with the row
 * count n_k, then revealed and uploaded.
 */
export function ProvidePage() {
  const connection = useConnection();
  const { runtime } = useAppContext();
  const [roundInput, setRoundInput] = useState("1");
  const roundId = /^[1-9]\d*$/.test(roundInput) ? BigInt(roundInput) : undefined;
  const training = useTrainingRound(roundId);
  const shape = training.round
    ? { features: training.round.terms.features, outputs: training.round.terms.outputs }
    : null;
  const [rowsFile, setRowsFile] = useState<FileRead | null>(null);
  const [labelsFile, setLabelsFile] = useState<FileRead | null>(null);
  const [epsilonInput, setEpsilonInput] = useState("");
  const [upload, setUpload] = useState<TrainingUpload | null>(null);
  const [progress, setProgress] = useState<CkksProgress | null>(null);
  const [encryptError, setEncryptError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const features = shape?.features;
  const outputs = shape?.outputs;
  // Checked again whenever a file or the program's d × c changes; the bytes were read when the file was chosen.
  const data: TrainingDataResult | null = useMemo(() => {
    if (rowsFile?.error) return { ok: false, message: rowsFile.error };
    if (labelsFile?.error) return { ok: false, message: labelsFile.error };
    if (!rowsFile?.file || !labelsFile?.file || features === undefined || outputs === undefined) return null;
    return checkTrainingData(rowsFile.file, labelsFile.file, { features, outputs });
  }, [rowsFile, labelsFile, features, outputs]);

  const ownEpsilon = epsilonInput === "" ? undefined : Number(epsilonInput);
  const epsilonError =
    ownEpsilon !== undefined && !(Number.isFinite(ownEpsilon) && ownEpsilon > 0 && ownEpsilon <= 50)
      ? `ε must be a number in (0, 50]: "${epsilonInput}".`
      : null;
  const termsEpsilon = training.round?.terms.dpEpsilon ?? null;
  const epsilons = [termsEpsilon, ownEpsilon].filter((e): e is number => typeof e === "number" && e > 0);
  const effectiveEpsilon = epsilonError || epsilons.length === 0 ? undefined : Math.min(...epsilons);
  let accounting: { sensitivity: number; sigma: number; delta: number; clipNorm: number } | null = null;
  if (effectiveEpsilon !== undefined && effectiveEpsilon <= 50) {
    const budget = submissionBudget(effectiveEpsilon);
    const sensitivity = 2 * budget.clipNorm ** 2;
    accounting = { ...budget, sensitivity, sigma: analyticGaussianSigma(effectiveEpsilon, budget.delta, sensitivity) };
  }

  const encrypt = async () => {
    if (!training.round || !shape || !data?.ok || !runtime.coprocessorUrl || epsilonError) return;
    setBusy(true);
    setEncryptError(null);
    setUpload(null);
    try {
      setProgress({ stage: "loading", done: 0, total: 1 });
      const bundle = await fetchKeyBundle(runtime.coprocessorUrl, training.round.publicKeyHash);
      setUpload(
        await encryptTrainingStatistics(
          {
            x: data.x,
            y: data.y,
            shape,
            epsilon: { terms: termsEpsilon, provider: ownEpsilon },
            ...(training.round.terms.valuation === undefined ? {} : { lambda: training.round.terms.lambda }),
            publicBundle: bundle,
            bundleHash: training.round.publicKeyHash,
          },
          setProgress,
        ),
      );
    } catch (error) {
      setEncryptError(messageOf(error));
    } finally {
      setBusy(false);
    }
  };

  const onFile = (set: (file: FileRead | null) => void) => (event: ChangeEvent<HTMLInputElement>) => {
    const chosen = event.target.files?.[0];
    set(null);
    setUpload(null);
    if (chosen) {
      fileBytes(chosen).then(
        (file) => set({ file }),
        (error: unknown) => set({ error: `${chosen.name}: ${messageOf(error)}` }),
      );
    }
  };
  const canEncrypt = training.round !== null && data?.ok === true && !epsilonError && !busy;
  const encrypted = upload
    ? {
        envelope: upload.bytes,
        envelopeHash: upload.hash,
        ciphertextCount: upload.ciphertextCount,
        valueCount: shape ? shape.features * (shape.features + shape.outputs) : 0,
      }
    : null;

  return (
    <div className="page" data-testid="page-provide">
      <h1>Provide training data</h1>
      <p className="lead">
        Your rows never leave this page: it computes their statistics XᵀX and XᵀY, encrypts them under the
        program&apos;s key in a worker, and commits them with your row count. Only the buyer of the program gets the
        trained model.
      </p>
      {!connection.isConnected && <p className="hint">Connect a wallet first (Connect page).</p>}
      <ol className="steps">
        <RegisterStep index={1} />
        <TrainingRoundStep
          index={2}
          roundInput={roundInput}
          onRoundInput={(text) => {
            // Another round may be another program (another key, another d × c): encrypt again.
            setRoundInput(text);
            setUpload(null);
          }}
          state={training}
        />
        <Step index={3} title="Choose your rows and labels" state={data?.ok ? "done" : shape ? "ready" : "blocked"}>
          <label className="picker">
            Rows X [n, d]{" "}
            <input
              type="file"
              accept={TRAINING_FILE_EXTENSIONS.join(",")}
              onChange={onFile(setRowsFile)}
              data-testid="training-rows-file"
              aria-label="Rows file"
            />
          </label>
          <label className="picker">
            Labels Y [n, c] or class labels [n]{" "}
            <input
              type="file"
              accept={TRAINING_FILE_EXTENSIONS.join(",")}
              onChange={onFile(setLabelsFile)}
              data-testid="training-labels-file"
              aria-label="Labels file"
            />
          </label>
          {data?.ok && shape && (
            <p className="ok" data-testid="training-data-ok">
              {data.rows.toLocaleString("en-US")} rows of {shape.features} features and {shape.outputs} outputs: every
              value finite.
            </p>
          )}
          {data && !data.ok && (
            <p className="error" role="alert" data-testid="training-data-error">
              {data.message}
            </p>
          )}
          <p className="muted">
            .npy (float32/float64) or .csv (no header). The files are read in this page; their values are never sent
            anywhere.
          </p>
        </Step>
        <Step index={4} title="Differential privacy (optional)" state={epsilonError ? "blocked" : "ready"}>
          <label className="picker">
            Your ε{" "}
            <input
              type="text"
              size={6}
              value={epsilonInput}
              onChange={(e) => setEpsilonInput(e.target.value.trim())}
              data-testid="training-epsilon"
              placeholder="none"
            />
          </label>
          {epsilonError && (
            <p className="error" role="alert">
              {epsilonError}
            </p>
          )}
          {accounting ? (
            <div data-testid="training-dp-accounting">
              <Field label="ε used">
                {effectiveEpsilon}{" "}
                {termsEpsilon !== null ? `(the terms ask ε = ${termsEpsilon}; the smaller wins)` : ""}
              </Field>
              <Field label="δ, adjacency">{accounting.delta}, replace-one (the row count is public)</Field>
              <Field label="Rows clipped to">‖(x, y)‖ ≤ {accounting.clipNorm}</Field>
              <Field label="Sensitivity 2C²">{accounting.sensitivity}</Field>
              <Field label="Gaussian noise σ" testId="training-dp-sigma">
                {accounting.sigma.toPrecision(4)} on each entry of XᵀX (upper triangle) and XᵀY
              </Field>
            </div>
          ) : (
            <p className="muted">No DP: the exact statistics are encrypted.</p>
          )}
        </Step>
        <Step
          index={5}
          title="Compute and encrypt [XᵀX | XᵀY] under the program key"
          state={upload ? "done" : canEncrypt ? "ready" : "blocked"}
        >
          <button type="button" className="primary" disabled={!canEncrypt} onClick={() => void encrypt()}>
            {busy ? "Encrypting…" : "Fetch the program key, compute and encrypt"}
          </button>
          {busy && progress && (
            <ProgressBar
              value={progress.total > 0 ? progress.done / progress.total : 0}
              label={`${progress.stage} ${progress.done}/${progress.total}`}
            />
          )}
          {upload && (
            <div data-testid="training-upload-ok">
              <p className="ok">
                Encrypted the statistics of {upload.rows.toLocaleString("en-US")} rows:{" "}
                {formatBytes(upload.bytes.length)} in {upload.ciphertextCount} ciphertext
                {upload.ciphertextCount === 1 ? "" : "s"}.
              </p>
              <Field label="Upload hash" testId="training-upload-hash">
                <code>{upload.hash}</code>
              </Field>
              {upload.privacy && <p data-testid="training-dp-description">{upload.privacy.description}</p>}
            </div>
          )}
          {encryptError && (
            <p className="error" role="alert" data-testid="training-encrypt-error">
              {encryptError}
            </p>
          )}
        </Step>
        <CommitSteps
          index={6}
          encrypted={encrypted}
          fixed={{ round: roundInput, samples: upload ? BigInt(upload.rows) : undefined }}
        />
      </ol>
    </div>
  );
}
