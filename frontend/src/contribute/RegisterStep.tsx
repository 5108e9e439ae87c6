import { useState } from "react";
import { useConfig, useConnection, usePublicClient, useReadContract } from "wagmi";
import { signTypedData } from "wagmi/actions";
import { useContractTransaction } from "../chain/useContractTransaction";
import { TransactionStatus } from "../components/TransactionStatus";
import { NotWired, Step } from "../components/ui";
import { cipherShareErrorsAbi, contributorRegistryAbi } from "@ciphershare/protocol/chain/abis";
import { contributorRegistryAddress } from "../contracts/deployment";
import { useAppContext } from "../context";
import { describeContractError } from "../errors/decodeContractError";
import { registrationTypedData } from "@ciphershare/protocol/chain/registration";
import { REGISTRATION_VALIDITY_SECONDS, relayRegistration } from "./gaslessRegistration";

type GaslessState =
  | { readonly status: "idle" }
  | { readonly status: "working"; readonly step: string }
  | { readonly status: "failed"; readonly message: string };

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
  const [gasless, setGasless] = useState<GaslessState>({ status: "idle" });
  const config = useConfig();
  const client = usePublicClient();

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

  const registerGasless = async () => {
    if (!account || !client) return;
    try {
      setGasless({ status: "working", step: "Sign the registration in your wallet…" });
      const nonce = await client.readContract({
        address: registry,
        abi: contributorRegistryAbi,
        functionName: "nonces",
        args: [account],
      });
      const deadline = (await client.getBlock()).timestamp + REGISTRATION_VALIDITY_SECONDS;
      const typed = registrationTypedData({
        chainId: runtime.chainId,
        registry,
        contributor: account,
        metadataURI,
        nonce,
        deadline,
      });
      const signature = await signTypedData(config, { account, ...typed });
      setGasless({ status: "working", step: "The relayer is submitting your registration…" });
      const hash = await relayRegistration({
        contributor: account,
        metadataURI,
        deadline: deadline.toString(),
        signature,
      });
      const receipt = await client.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error(`The relayed registration ${hash} reverted.`);
      setGasless({ status: "idle" });
      await registered.refetch();
    } catch (error) {
      setGasless({ status: "failed", message: describeContractError(error, cipherShareErrorsAbi, HINTS).message });
    }
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
          <button type="button" onClick={() => void registerGasless()} disabled={gasless.status === "working"}>
            Sign a gasless registration
          </button>
          <p className="muted">
            Without gas: your wallet signs an EIP-712 <code>Register</code> message and the app server&apos;s relayer
            submits it (<code>registerWithSignature</code>); it costs you nothing.
          </p>
          {gasless.status === "working" && <p className="muted">{gasless.step}</p>}
          {gasless.status === "failed" && (
            <p className="error" role="alert">
              {gasless.message}
            </p>
          )}
        </>
      )}
      <TransactionStatus state={tx.state} />
    </Step>
  );
}
