import { useQueryClient } from "@tanstack/react-query";
import type { Address } from "viem";
import { useConnection, useReadContract, useReadContracts } from "wagmi";
import { useContractTransaction } from "../chain/useContractTransaction";
import { TransactionStatus } from "../components/TransactionStatus";
import { Card, NotWired } from "../components/ui";
import { cipherShareErrorsAbi, roundManagerAbi, royaltyDistributorAbi } from "@ciphershare/protocol/chain/abis";
import { useAppContext } from "../context";
import { formatTokenUnits } from "../format";
import { useUserDecrypt } from "./useUserDecrypt";

/** The most recent rounds checked for a settled share. */
const CHECKED_ROUNDS = 20;

const HINTS = {
  NothingOwed: "Nothing is owed to you for this round (the custodian has not settled it for you).",
  AlreadyClaimed: "You already claimed this round's royalty.",
  PayoutSealed: 'You sealed a payout address for this round: claim it with "Claim anonymously" below.',
};

/**
 * Per round the custodian settled for the connected contributor: the encrypted owed amount (a euint64 handle only
 * this contributor may decrypt, by one EIP-712 signature) and the claim, which moves it into the confidential
 * balance.
 */
export function OwedRounds({ onClaimed }: { onClaimed?: () => void }) {
  const { runtime } = useAppContext();
  const account = useConnection().address;
  const hub = runtime.contracts.RoundManager;
  const distributor = runtime.contracts.RoyaltyDistributor;
  const count = useReadContract({
    address: hub,
    abi: roundManagerAbi,
    functionName: "roundCount",
    query: { enabled: hub !== undefined, refetchInterval: 3_000 },
  });
  const roundCount = Number(count.data ?? 0n);
  const ids = Array.from({ length: Math.min(roundCount, CHECKED_ROUNDS) }, (_, i) => BigInt(roundCount - i));
  const settled = useReadContracts({
    contracts: ids.map(
      (id) =>
        ({ address: distributor, abi: royaltyDistributorAbi, functionName: "isSettled", args: [id, account] }) as const,
    ),
    query: { enabled: distributor !== undefined && account !== undefined && ids.length > 0, refetchInterval: 3_000 },
  });

  if (!distributor || !hub) {
    return (
      <Card title="Encrypted owed amount per round">
        <NotWired needs="a deployment with the RoundManager and RoyaltyDistributor addresses" />
      </Card>
    );
  }
  const rounds = ids.filter((_, i) => settled.data?.[i]?.result === true);
  return (
    <Card title="Encrypted owed amount per round" testId="owed">
      {!account ? (
        <p className="muted">Connect a wallet to see your rounds.</p>
      ) : rounds.length === 0 ? (
        <p className="muted" data-testid="owed-none">
          No round settled for you yet (the custodian settles after the network finalizes and funds a round).
        </p>
      ) : (
        rounds.map((round) => (
          <OwedRound
            key={round.toString()}
            round={round}
            account={account}
            distributor={distributor}
            onClaimed={onClaimed}
          />
        ))
      )}
    </Card>
  );
}

function OwedRound({
  round,
  account,
  distributor,
  onClaimed,
}: {
  round: bigint;
  account: Address;
  distributor: Address;
  onClaimed?: () => void;
}) {
  const owed = useReadContract({
    address: distributor,
    abi: royaltyDistributorAbi,
    functionName: "owedOf",
    args: [round, account],
  });
  const claimed = useReadContract({
    address: distributor,
    abi: royaltyDistributorAbi,
    functionName: "isClaimed",
    args: [round, account],
  });
  const { state, decrypt } = useUserDecrypt();
  const tx = useContractTransaction(cipherShareErrorsAbi, HINTS);
  const queryClient = useQueryClient();
  const handle = owed.data;
  const isClaimed = claimed.data === true;
  const claim = async () => {
    const receipt = await tx.run({
      address: distributor,
      abi: royaltyDistributorAbi,
      functionName: "claim",
      args: [round],
    });
    if (receipt) {
      // The claim changed this account's balance handle too: re-read every chain value on the page.
      await queryClient.invalidateQueries();
      onClaimed?.();
    }
  };
  return (
    <div className="owed-round" data-testid={`owed-round-${round}`}>
      <h3>Round {round.toString()}</h3>
      <p className="muted">
        Owed (encrypted handle): <code>{handle ?? "…"}</code>
      </p>
      <button
        type="button"
        disabled={!handle || state.status === "working"}
        onClick={() => void decrypt(handle!, distributor, account)}
      >
        Decrypt my royalty
      </button>{" "}
      <button
        type="button"
        className="primary"
        disabled={isClaimed || tx.state.status === "signing"}
        onClick={() => void claim()}
      >
        {isClaimed ? "Claimed" : "Claim"}
      </button>
      {state.status === "working" && <p className="muted">{state.step}</p>}
      {state.status === "done" && (
        <p className="ok" data-testid={`owed-clear-${round}`}>
          You are owed {formatTokenUnits(state.value)} ({state.value.toString()} base units) for round{" "}
          {round.toString()}.
        </p>
      )}
      {state.status === "failed" && (
        <p className="error" role="alert">
          Decryption failed: {state.message}
        </p>
      )}
      <TransactionStatus state={tx.state} />
    </div>
  );
}
