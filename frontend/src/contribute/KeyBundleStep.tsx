import { useState } from "react";
import type { Hex } from "viem";
import { useReadContract } from "wagmi";
import { NotWired, Step, NumberInput } from "../components/ui";
import { programRegistryAbi } from "@ciphershare/protocol/chain/abis";
import { programRegistryAddress } from "../contracts/deployment";
import { useAppContext } from "../context";
import { formatBytes } from "../format";
import { fetchKeyBundle } from "./keyBundle";

export interface VerifiedKeyBundle {
  readonly programId: bigint;
  readonly hash: Hex;
  readonly bytes: Uint8Array;
}

/** Step 3 of Contribute: the program's key bundle, fetched and checked against its on-chain hash. */
export function KeyBundleStep({
  index,
  verified,
  onVerified,
}: {
  index: number;
  verified: VerifiedKeyBundle | null;
  onVerified: (bundle: VerifiedKeyBundle | null) => void;
}) {
  const { runtime } = useAppContext();
  const registry = programRegistryAddress(runtime);
  const [programInput, setProgramInput] = useState("1");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const programId = /^\d+$/.test(programInput) ? BigInt(programInput) : undefined;
  const program = useReadContract({
    address: registry,
    abi: programRegistryAbi,
    functionName: "program",
    args: programId === undefined ? undefined : [programId],
    query: { enabled: registry !== undefined && programId !== undefined },
  });
  const onChainHash = program.data?.publicKeyHash;

  if (!registry || !runtime.coprocessorUrl) {
    return (
      <Step index={index} title="Fetch the program's key bundle and check its hash on-chain" state="not-wired">
        <NotWired
          needs={!registry ? "a deployment with the ProgramRegistry (or RoundManager) address" : "a coprocessor URL"}
        />
      </Step>
    );
  }
  const coprocessorUrl = runtime.coprocessorUrl;
  const check = async () => {
    if (!onChainHash || programId === undefined) return;
    setBusy(true);
    setError(null);
    onVerified(null);
    try {
      const bytes = await fetchKeyBundle(coprocessorUrl, onChainHash);
      onVerified({ programId, hash: onChainHash, bytes });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Step
      index={index}
      title="Fetch the program's key bundle and check its hash on-chain"
      state={verified ? "done" : "ready"}
    >
      <NumberInput
        label="Program"
        size={6}
        value={programInput}
        onChange={(text) => {
          setProgramInput(text);
          onVerified(null);
        }}
        testId="program-id"
      />
      {program.isError && (
        <p className="error" role="alert">
          Program {programInput} does not exist on this chain.
        </p>
      )}
      {onChainHash && (
        <p className="muted">
          On-chain key bundle hash: <code data-testid="program-key-hash">{onChainHash}</code>
        </p>
      )}
      <button type="button" onClick={() => void check()} disabled={!onChainHash || busy}>
        {busy ? "Fetching…" : "Fetch and check the key bundle"}
      </button>
      {verified && (
        <p className="ok" data-testid="key-bundle-ok">
          Key bundle of program {verified.programId.toString()} ({formatBytes(verified.bytes.byteLength)}) matches its
          on-chain hash.
        </p>
      )}
      {error && (
        <p className="error" role="alert" data-testid="key-bundle-error">
          {error}
        </p>
      )}
    </Step>
  );
}
