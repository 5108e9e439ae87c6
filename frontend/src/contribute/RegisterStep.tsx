import { useState } from "react";
import { useConnection, useReadContract } from "wagmi";
import { useContractTransaction } from "../chain/useContractTransaction";
import { TransactionStatus } from "../components/TransactionStatus";
import { NotWired, Step } from "../components/ui";
import { cipherShareErrorsAbi, contributorRegistryAbi } from "../contracts/abis";
import { contributorRegistryAddress } from "../contracts/deployment";
import { useAppContext } from "../context";

const HINTS = {
  ContributorAlreadyRegistered: "This account is registered already: go on to the next step.",
  RegistrationSignatureExpired: "Sign a new registration; the old one expired.",
};

/** Step 1 of Contribute: register the connected account, or show that it is registered. */
export function RegisterStep({ index }: { index: number }) {
  const { runtime } = useAppContext();
  const connection = useConnection();
  const registry = contributorRegistryAddress(runtime);
  const account = connection.address;
  const registered = useReadContract({
    address: registry,
    abi: contributorRegistryAbi,
    functionName: "isRegistered",
    args: account ? [account] : undefined,
    query: { enabled: registry !== undefined && account !== undefined },
  });
  const tx = useContractTransaction(cipherShareErrorsAbi, HINTS);
  const [metadataURI, setMetadataURI] = useState("");

  if (!registry) {
    return (
      <Step index={index} title="Register as a contributor" state="not-wired">
        <NotWired needs="a deployment with the ContributorRegistry (or RoundManager) address" />
      </Step>
    );
  }
  const isRegistered = registered.data === true;
  const state = isRegistered ? "done" : account ? "ready" : "blocked";
  const register = async () => {
    const receipt = await tx.run({
      address: registry,
      abi: contributorRegistryAbi,
      functionName: "register",
      args: [metadataURI],
    });
    if (receipt) await registered.refetch();
  };

  return (
    <Step index={index} title="Register as a contributor" state={state}>
      {!account ? (
        <p className="muted">Connect a wallet to register.</p>
      ) : isRegistered ? (
        <p className="ok" data-testid="registered">
          {account} is registered with the contributor registry at <code>{registry}</code>.
        </p>
      ) : (
        <>
          <label className="picker">
            Metadata URI (optional, public){" "}
            <input
              type="url"
              value={metadataURI}
              onChange={(event) => setMetadataURI(event.target.value)}
              placeholder="ipfs://… or https://…"
              data-testid="metadata-uri"
            />
          </label>
          <button
            type="button"
            className="primary"
            onClick={() => void register()}
            disabled={
              tx.state.status === "simulating" || tx.state.status === "signing" || tx.state.status === "pending"
            }
          >
            Register
          </button>
          <p className="muted">Gasless registration (an EIP-712 signature a relayer submits) comes with the relayer.</p>
        </>
      )}
      <TransactionStatus state={tx.state} />
    </Step>
  );
}
