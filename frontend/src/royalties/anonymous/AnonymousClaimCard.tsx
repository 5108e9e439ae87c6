import { useState } from "react";
import { getAddress, isAddress, parseUnits, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { useConnection, usePublicClient, useReadContract } from "wagmi";
import {
  anonymousPayoutsAbi,
  cipherShareErrorsAbi,
  roundManagerAbi,
  royaltyTokenAbi,
} from "@ciphershare/protocol/chain/abis";
import {
  relayedClaimStatus,
  requestRelayedClaim,
  requestRelayedForward,
} from "@ciphershare/coprocessor/roles/relay-client";
import { useContractTransaction } from "../../chain/useContractTransaction";
import { TransactionStatus } from "../../components/TransactionStatus";
import { Card, Field, NotWired } from "../../components/ui";
import { useAppContext } from "../../context";
import { formatTokenUnits } from "../../format";
import {
  checkClaimable,
  connectFhevm,
  decryptWithFreshKey,
  encryptPayoutAddress,
  signForwardRequest,
  tokenCallData,
} from "./anonymousClaim";
import { openPayoutKey, sealPayoutKey, storedPayoutKeys, storePayoutKey, type PayoutKey } from "./payoutVault";

const SEAL_HINTS = {
  NotACommitter: "Commit a contribution to this round first: only its committers can seal a payout address.",
  PayoutAlreadySealed: "You already sealed a payout address for this round.",
  PayoutAfterSettlement: "The custodian already settled you for this round: seal before settlement.",
};

/** How often the page asks the relay whether its batch has sent the claim. */
const STATUS_POLL_MS = 1_500;

type Busy = "seal" | "claim" | "decrypt" | "transfer" | "unwrap" | "export" | null;

/**
 * "Claim anonymously": a fresh payout address generated in this page (its key encrypted with a passphrase in
 * localStorage, exportable), sealed on-chain as an encrypted address by the wallet; then, with nothing but the fresh
 * key: a claim queued at the app's relayer (sent in its next fixed-time batch), the fresh address's balance decrypted
 * by its own EIP-712 signature, and transfers or unwraps signed for the forwarder and sent by the relayer.
 */
export function AnonymousClaimCard() {
  const { runtime } = useAppContext();
  const account = useConnection().address;
  const client = usePublicClient();
  const {
    RoundManager: hub,
    AnonymousPayouts: payouts,
    RoyaltyToken: token,
    CipherShareForwarder: forwarder,
  } = runtime.contracts;
  const roundCount = useReadContract({
    address: hub,
    abi: roundManagerAbi,
    functionName: "roundCount",
    query: { enabled: hub !== undefined },
  });
  const [passphrase, setPassphrase] = useState("");
  const [roundText, setRoundText] = useState("");
  const [payTo, setPayTo] = useState<Address | null>(null);
  const [busy, setBusy] = useState<Busy>(null);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [claimStatus, setClaimStatus] = useState<string | null>(null);
  const [balance, setBalance] = useState<bigint | null>(null);
  const [exported, setExported] = useState<{ encrypted: string; plain?: Hex } | null>(null);
  const [recipient, setRecipient] = useState("");
  const [amountText, setAmountText] = useState("");
  const [spent, setSpent] = useState<string | null>(null);
  const sealTx = useContractTransaction(cipherShareErrorsAbi, SEAL_HINTS);

  if (!hub || !payouts || !token || !forwarder) {
    return (
      <Card title="Claim anonymously">
        <NotWired needs="a deployment with the AnonymousPayouts, RoyaltyToken and CipherShareForwarder addresses" />
      </Card>
    );
  }
  const defaultRound = roundCount.data !== undefined && roundCount.data > 0n ? roundCount.data.toString() : "1";
  const round = BigInt(/^[1-9]\d*$/.test(roundText) ? roundText : defaultRound);

  /** Runs one action of the card: one at a time, its error shown in the card. */
  const act = (what: Exclude<Busy, null>, action: () => Promise<void>) => async () => {
    setBusy(what);
    setError(null);
    setNote(null);
    setExported(null);
    try {
      await action();
    } catch (caught) {
      const { shortMessage, message } = caught as { shortMessage?: string; message?: string };
      setError(shortMessage ?? message ?? String(caught));
    } finally {
      setBusy(null);
    }
  };

  /** The round's payout key from this browser's keystore, opened with the passphrase. */
  const unlock = async (): Promise<PayoutKey> => {
    const sealed = storedPayoutKeys(account!).find((entry) => entry.round === round.toString());
    if (sealed === undefined) {
      throw new Error(
        `Nothing to claim: this browser holds no payout address for round ${round} (seal one first, or use the browser you sealed it in).`,
      );
    }
    const key = await openPayoutKey(sealed, passphrase);
    setPayTo(key.address);
    return key;
  };

  const seal = act("seal", async () => {
    const existing = storedPayoutKeys(account!).find((entry) => entry.round === round.toString());
    const sealedOnChain = await client!.readContract({
      address: payouts,
      abi: anonymousPayoutsAbi,
      functionName: "isSealed",
      args: [round, account!],
    });
    if (existing !== undefined && sealedOnChain) {
      const key = await unlock();
      setNote(`Round ${round} already pays ${key.address}.`);
      return;
    }
    // A fresh key, encrypted and stored before anything is sent: a page closed mid-way never loses a sealed key.
    const privateKey = generatePrivateKey();
    const address = privateKeyToAccount(privateKey).address;
    storePayoutKey(await sealPayoutKey(privateKey, passphrase, account!, round));
    setNote("Encrypting the payout address…");
    const fhevm = await connectFhevm(runtime.rpcUrl);
    try {
      const input = await encryptPayoutAddress(fhevm, payouts, account!, address);
      const receipt = await sealTx.run({
        address: payouts,
        abi: anonymousPayoutsAbi,
        functionName: "sealPayout",
        args: [round, input.handle, input.inputProof],
      });
      if (!receipt) throw new Error("The payout address was not sealed (see the transaction above).");
      setPayTo(address);
      setNote(`Sealed: round ${round} now pays only the fresh address ${address}. Export its key to keep a copy.`);
    } finally {
      fhevm.destroy();
    }
  });

  const exportKey = (plain: boolean) =>
    act("export", async () => {
      const sealed = storedPayoutKeys(account!).find((entry) => entry.round === round.toString());
      if (sealed === undefined) throw new Error(`No payout key for round ${round} in this browser.`);
      const key = await openPayoutKey(sealed, passphrase); // checks the passphrase either way
      setPayTo(key.address);
      setExported({ encrypted: JSON.stringify(sealed, null, 2), ...(plain ? { plain: key.privateKey } : {}) });
    });

  const claim = act("claim", async () => {
    const key = await unlock();
    await checkClaimable(client!, payouts, key.address, [round]);
    const queued = await requestRelayedClaim(window.location.origin, { to: key.address, rounds: [round] });
    setClaimStatus(
      `${queued.status}: the relayer sends its next batch at ${new Date(queued.scheduledAt).toLocaleTimeString()}`,
    );
    for (;;) {
      const { status, error: reason } = await relayedClaimStatus(window.location.origin, key.address);
      if (status === "claimed") {
        setClaimStatus(`claimed: round ${round}'s royalty was paid to ${key.address}`);
        return;
      }
      if (status === "failed") throw new Error(`The relayer's claim failed: ${reason ?? "no reason given"}`);
      if (status === "unknown")
        throw new Error("The relay no longer knows this claim (was it restarted?): claim again.");
      await new Promise((resolve) => setTimeout(resolve, STATUS_POLL_MS));
    }
  });

  const decrypt = act("decrypt", async () => {
    const key = await unlock();
    const handle = await client!.readContract({
      address: token,
      abi: royaltyTokenAbi,
      functionName: "confidentialBalanceOf",
      args: [key.address],
    });
    const fhevm = await connectFhevm(runtime.rpcUrl);
    try {
      setBalance(await decryptWithFreshKey(fhevm, handle, token, key.privateKey));
    } finally {
      fhevm.destroy();
    }
  });

  const spend = (kind: "transfer" | "unwrap") =>
    act(kind, async () => {
      if (!isAddress(recipient)) throw new Error(`The recipient must be an address (0x + 40 hex digits): ${recipient}`);
      let amount: bigint;
      try {
        amount = parseUnits(amountText, 6);
      } catch {
        throw new Error(`The amount must be a number of tokens: ${amountText}`);
      }
      if (amount <= 0n) throw new Error("The amount must be more than 0.");
      const key = await unlock();
      const fhevm = await connectFhevm(runtime.rpcUrl);
      try {
        const data = await tokenCallData(
          fhevm,
          { kind, from: key.address, to: getAddress(recipient), amount },
          token,
          forwarder,
        );
        const request = await signForwardRequest(client!, key.privateKey, forwarder, token, data);
        const sent = await requestRelayedForward(window.location.origin, request);
        setSpent(
          kind === "transfer"
            ? `Sent ${formatTokenUnits(amount)} confidentially to ${getAddress(recipient)} (transaction ${sent.hash}).`
            : `Unwrapped ${formatTokenUnits(BigInt(sent.unwrapped ?? "0"))} test USD to ${getAddress(recipient)} (transaction ${sent.hash}).`,
        );
        setBalance(null);
      } finally {
        fhevm.destroy();
      }
    });

  const disabled = busy !== null || !account || !client;
  return (
    <Card title="Claim anonymously" testId="anon">
      <p>
        Your royalty of a round can go to a fresh address that nobody can link to you (among everyone who sealed one):
        the page generates it, your wallet seals it on-chain encrypted, and from then on only its own key acts — the
        app&apos;s relayer sends the claim in its next fixed-time batch and pays the gas of its transfers. Its key stays
        in this browser, encrypted with your passphrase; export it to keep a copy.
      </p>
      {!account ? (
        <p className="muted">Connect a wallet to seal a payout address.</p>
      ) : (
        <>
          <Field label="Passphrase (encrypts the payout key in this browser)">
            <input
              type="password"
              data-testid="anon-passphrase"
              value={passphrase}
              autoComplete="new-password"
              onChange={(event) => setPassphrase(event.target.value)}
            />
          </Field>
          <Field label="Round">
            <input
              data-testid="anon-round"
              inputMode="numeric"
              value={roundText}
              placeholder={defaultRound}
              onChange={(event) => setRoundText(event.target.value.trim())}
            />
          </Field>
          <h3>1. Seal a fresh payout address (after committing, before settlement)</h3>
          <button
            type="button"
            className="primary"
            data-testid="anon-seal"
            disabled={disabled}
            onClick={() => void seal()}
          >
            Generate and seal a payout address
          </button>{" "}
          <button
            type="button"
            data-testid="anon-export-encrypted"
            disabled={disabled}
            onClick={() => void exportKey(false)()}
          >
            Export the encrypted key
          </button>{" "}
          <button
            type="button"
            data-testid="anon-export-plain"
            disabled={disabled}
            onClick={() => void exportKey(true)()}
          >
            Show the private key
          </button>
          <TransactionStatus state={sealTx.state} />
          {payTo && (
            <Field label="Payout address" testId="anon-payto">
              <code>{payTo}</code>
            </Field>
          )}
          {exported && (
            <div data-testid="anon-export">
              <a
                href={`data:application/json;charset=utf-8,${encodeURIComponent(exported.encrypted)}`}
                download={`ciphershare-payout-round-${round}.json`}
              >
                Download the encrypted key
              </a>
              <textarea readOnly rows={4} value={exported.encrypted} data-testid="anon-export-json" />
              {exported.plain && (
                <p className="hint">
                  Private key (anyone who sees it can spend the payout):{" "}
                  <code data-testid="anon-plain-key">{exported.plain}</code>
                </p>
              )}
            </div>
          )}
          <h3>2. Claim through the relayer (once the round is settled)</h3>
          <button
            type="button"
            className="primary"
            data-testid="anon-claim"
            disabled={disabled}
            onClick={() => void claim()}
          >
            Claim anonymously
          </button>
          {claimStatus && (
            <p className="muted" data-testid="anon-claim-status">
              {claimStatus}
            </p>
          )}
          <h3>3. The payout address&apos;s balance (decrypted with its own key)</h3>
          <button type="button" data-testid="anon-decrypt" disabled={disabled} onClick={() => void decrypt()}>
            Decrypt the payout balance
          </button>
          {balance !== null && (
            <p className="ok" data-testid="anon-balance">
              {formatTokenUnits(balance)} ({balance.toString()} base units)
            </p>
          )}
          <h3>4. Spend by signature (the relayer pays the gas)</h3>
          <p className="hint">
            Unwrapping reveals the amount in clear (a public ERC-20 transfer), which the custodian could match to a
            share: prefer keeping funds confidential, or unwrap round amounts unrelated to the royalty.
          </p>
          <Field label="Recipient">
            <input
              data-testid="anon-recipient"
              value={recipient}
              onChange={(e) => setRecipient(e.target.value.trim())}
            />
          </Field>
          <Field label="Amount (tokens)">
            <input
              data-testid="anon-amount"
              value={amountText}
              onChange={(e) => setAmountText(e.target.value.trim())}
            />
          </Field>
          <button
            type="button"
            data-testid="anon-transfer"
            disabled={disabled}
            onClick={() => void spend("transfer")()}
          >
            Transfer by signature
          </button>{" "}
          <button type="button" data-testid="anon-unwrap" disabled={disabled} onClick={() => void spend("unwrap")()}>
            Unwrap by signature
          </button>
          {spent && (
            <p className="ok" data-testid="anon-spent">
              {spent}
            </p>
          )}
          {busy && <p className="muted">Working ({busy})…</p>}
          {note && (
            <p className="muted" data-testid="anon-note">
              {note}
            </p>
          )}
          {error && (
            <p className="error" role="alert" data-testid="anon-error">
              {error}
            </p>
          )}
        </>
      )}
    </Card>
  );
}
