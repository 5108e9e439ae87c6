import type { TransactionState } from "../chain/useContractTransaction";

/** One line per transaction state; the failure line is what a person acts on. */
export function TransactionStatus({ state }: { state: TransactionState }) {
  switch (state.status) {
    case "idle":
      return null;
    case "simulating":
      return (
        <p className="muted" data-testid="tx-status">
          Checking the call against the chain…
        </p>
      );
    case "signing":
      return (
        <p className="hint" data-testid="tx-status">
          Confirm the transaction in your wallet.
        </p>
      );
    case "pending":
      return (
        <p className="muted" data-testid="tx-status">
          Waiting for the transaction <code>{state.hash}</code> to be included…
        </p>
      );
    case "confirmed":
      return (
        <p className="ok" data-testid="tx-status">
          Confirmed in block {state.receipt.blockNumber.toString()}.
        </p>
      );
    case "failed":
      return (
        <p className="error" role="alert" data-testid="tx-status" data-error-name={state.error.errorName}>
          {state.error.message}
        </p>
      );
  }
}
