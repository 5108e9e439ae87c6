import { useEffect, useMemo, useState } from "react";
import { serializeNpy } from "@ciphershare/protocol/formats/npy";
import { isBytes32Hex } from "@ciphershare/protocol/hex";
import type { Matrix } from "@ciphershare/protocol/linalg/matrix";
import type { Hex } from "viem";
import { Field, ProgressBar, Step } from "../components/ui";
import { useAppContext } from "../context";
import { decryptTrainingModel, type CkksProgress } from "../fhe/ckksClient";
import { formatBytes } from "../format";
import { fetchModel, type FetchedModel } from "../training/modelRecord";
import { messageOf } from "../training/trainingData";
import { TrainingRoundStep } from "../training/TrainingRoundStep";
import { useTrainingRound } from "../training/useTrainingRound";

/**
 * The buyer of a training program, as `ciphershare buyer decrypt-model`: fetches the round's model record and the
 * envelope of Enc_buyer(W), opens its keystore with its passphrase in the CKKS worker and decrypts W there. The keystore,
 * the passphrase and the secret key stay in this tab (no request carries them); W can be saved as float64 .npy.
 */
export function BuyerPage() {
  const { runtime } = useAppContext();
  const [roundInput, setRoundInput] = useState("1");
  const roundId = /^[1-9]\d*$/.test(roundInput) ? BigInt(roundInput) : undefined;
  const training = useTrainingRound(roundId);
  const [recordInput, setRecordInput] = useState("");
  const [model, setModel] = useState<FetchedModel | null>(null);
  const [modelError, setModelError] = useState<string | null>(null);
  const [keystore, setKeystore] = useState<{ name: string; text: string } | null>(null);
  const [passphrase, setPassphrase] = useState("");
  const [w, setW] = useState<Matrix | null>(null);
  const [progress, setProgress] = useState<CkksProgress | null>(null);
  const [decryptError, setDecryptError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const fetchRecord = async () => {
    if (!runtime.coprocessorUrl || !isBytes32Hex(recordInput)) return;
    setModel(null);
    setModelError(null);
    try {
      setModel(await fetchModel(runtime.coprocessorUrl, recordInput as Hex));
    } catch (error) {
      setModelError(messageOf(error));
    }
  };

  const decrypt = async () => {
    if (!training.round || !model || !keystore) return;
    setBusy(true);
    setDecryptError(null);
    setW(null);
    try {
      const { terms, buyerKeyHash } = training.round;
      setW(
        await decryptTrainingModel(
          {
            keystore: keystore.text,
            passphrase,
            envelope: model.envelope,
            shape: { features: terms.features, outputs: terms.outputs },
            buyerKeyHash,
          },
          setProgress,
        ),
      );
      setPassphrase("");
    } catch (error) {
      setDecryptError(messageOf(error));
    } finally {
      setBusy(false);
    }
  };

  const download = useMemo(() => {
    if (!w) return null;
    const bytes = serializeNpy(w.data, [w.rows, w.cols]);
    return { url: URL.createObjectURL(new Blob([bytes as BlobPart], { type: "application/octet-stream" })), bytes };
  }, [w]);
  useEffect(
    () => () => {
      if (download) URL.revokeObjectURL(download.url);
    },
    [download],
  );

  const recordValid = isBytes32Hex(recordInput);
  const canDecrypt = training.round !== null && model !== null && keystore !== null && passphrase.length >= 8 && !busy;
  return (
    <div className="page" data-testid="page-buyer">
      <h1>Buy a trained model</h1>
      <p className="lead">
        The model W of a training round is encrypted under your key only. Decrypt it here with your keystore (from{" "}
        <code>ciphershare buyer keygen</code>): the keystore, its passphrase and your secret key stay in this tab.
      </p>
      <ol className="steps">
        <TrainingRoundStep index={1} roundInput={roundInput} onRoundInput={setRoundInput} state={training} />
        <Step
          index={2}
          title="Fetch the round's model record"
          state={model ? "done" : recordValid ? "ready" : "blocked"}
        >
          <label className="picker">
            Model record hash{" "}
            <input
              type="text"
              size={70}
              value={recordInput}
              onChange={(e) => {
                setRecordInput(e.target.value.trim());
                setModel(null);
              }}
              placeholder="0x…"
              data-testid="model-record-hash"
            />
          </label>
          <button type="button" disabled={!recordValid || !runtime.coprocessorUrl} onClick={() => void fetchRecord()}>
            Fetch and check
          </button>
          <p className="muted">
            The coprocessor publishes it with <code>ciphershare training unmask</code> (its workspace&apos;s{" "}
            <code>training-model-round-N.json</code>); nothing on-chain names it yet.
          </p>
          {model && (
            <p className="ok" data-testid="model-envelope-ok">
              Enc(W): envelope <code>{model.envelopeHash}</code> ({formatBytes(model.envelope.length)}), matching its
              hash.
            </p>
          )}
          {modelError && (
            <p className="error" role="alert" data-testid="model-record-error">
              {modelError}
            </p>
          )}
        </Step>
        <Step index={3} title="Decrypt W with your keystore" state={w ? "done" : canDecrypt ? "ready" : "blocked"}>
          <label className="picker">
            Keystore{" "}
            <input
              type="file"
              accept=".json,application/json"
              data-testid="buyer-keystore-file"
              aria-label="Buyer keystore"
              onChange={(event) => {
                const file = event.target.files?.[0];
                setKeystore(null);
                if (file) void file.text().then((text) => setKeystore({ name: file.name, text }));
              }}
            />
          </label>
          <label className="picker">
            Passphrase{" "}
            <input
              type="password"
              autoComplete="off"
              value={passphrase}
              onChange={(e) => setPassphrase(e.target.value)}
              data-testid="buyer-passphrase"
            />
          </label>
          <button type="button" className="primary" disabled={!canDecrypt} onClick={() => void decrypt()}>
            {busy ? "Decrypting…" : "Decrypt W"}
          </button>
          {training.round && (
            <p className="muted">
              The program&apos;s buyer key: <code>{training.round.buyerKeyHash}</code>; a keystore of another key is
              refused.
            </p>
          )}
          {busy && progress && (
            <ProgressBar
              value={progress.total > 0 ? progress.done / progress.total : 0}
              label={`${progress.stage} ${progress.done}/${progress.total}`}
            />
          )}
          {decryptError && (
            <p className="error" role="alert" data-testid="buyer-decrypt-error">
              {decryptError}
            </p>
          )}
        </Step>
        <Step index={4} title="Your model" state={w ? "done" : "blocked"}>
          {w && download ? (
            <div data-testid="buyer-model">
              <Field label="W" testId="buyer-model-shape">
                {w.rows} × {w.cols}
              </Field>
              <Field label="First row" testId="buyer-model-first-row">
                {Array.from(w.data.subarray(0, Math.min(w.cols, 6)), (v) => v.toPrecision(6)).join(", ")}
                {w.cols > 6 ? ", …" : ""}
              </Field>
              <a
                className="button"
                href={download.url}
                download={`w-round-${roundInput}.npy`}
                data-testid="buyer-model-download"
              >
                Download W as .npy ({formatBytes(download.bytes.length)})
              </a>
            </div>
          ) : (
            <p className="muted">Decrypt W first.</p>
          )}
        </Step>
      </ol>
    </div>
  );
}
