import type { Address } from "viem";
import { useConnection, useReadContract } from "wagmi";
import { Card, Field, NotWired } from "../components/ui";
import { royaltyTokenAbi } from "@ciphershare/protocol/chain/abis";
import { useAppContext } from "../context";
import { useUserDecrypt } from "./useUserDecrypt";

/** The account's confidential royalty-token balance: an encrypted handle, decrypted only on request. */
export function BalanceCard() {
  const { runtime } = useAppContext();
  const token = runtime.contracts.RoyaltyToken;
  const account = useConnection().address;
  const balance = useReadContract({
    address: token,
    abi: royaltyTokenAbi,
    functionName: "confidentialBalanceOf",
    args: account ? [account] : undefined,
    // A claim changes the handle; decrypting again shows the new balance.
    query: { enabled: token !== undefined && account !== undefined, refetchInterval: 3_000 },
  });
  const decimals = useReadContract({
    address: token,
    abi: royaltyTokenAbi,
    functionName: "decimals",
    query: { enabled: token !== undefined },
  });
  const { state, decrypt } = useUserDecrypt();
  // A zero handle is an account that never held the token: nothing to decrypt.
  const handle = balance.data !== undefined && BigInt(balance.data) !== 0n ? balance.data : undefined;

  if (!token) {
    return (
      <Card title="Confidential balance">
        <NotWired needs="a deployment with the RoyaltyToken address" />
      </Card>
    );
  }
  const scale = typeof decimals.data === "number" ? 10 ** decimals.data : 1;
  return (
    <Card title="Confidential balance" testId="balance">
      <p>Decrypting asks your wallet for one EIP-712 signature; the cleartext is shown here and nowhere else.</p>
      <Field label="Encrypted balance (handle)" testId="balance-handle">
        {handle ? <code>{handle}</code> : "…"}
      </Field>
      <button
        type="button"
        className="primary"
        disabled={!handle || !account || state.status === "working"}
        onClick={() => void decrypt(handle!, token, account as Address)}
      >
        Decrypt my balance
      </button>
      {state.status === "working" && <p className="muted">{state.step}</p>}
      {state.status === "done" && (
        <p className="ok" data-testid="balance-clear">
          {(Number(state.value) / scale).toLocaleString("en-US", { maximumFractionDigits: 6 })} (
          {state.value.toString()} base units)
        </p>
      )}
      {state.status === "failed" && (
        <p className="error" role="alert">
          Decryption failed: {state.message}
        </p>
      )}
    </Card>
  );
}
