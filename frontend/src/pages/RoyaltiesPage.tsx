import { useConnection } from "wagmi";
import { Card, Field } from "../components/ui";
import { BalanceCard } from "../royalties/BalanceCard";
import { OwedRounds } from "../royalties/OwedRounds";
import { AnonymousClaimCard } from "../royalties/anonymous/AnonymousClaimCard";

export function RoyaltiesPage() {
  const connection = useConnection();
  return (
    <div className="page" data-testid="page-royalties">
      <h1>My royalties</h1>
      <p className="lead">
        Your owed amounts and balance are encrypted on-chain (ERC-7984). Only you can decrypt them, by signing an
        EIP-712 request for fhEVM user decryption; nobody else sees the numbers.
      </p>
      {!connection.address ? (
        <p className="hint">Connect a wallet to see your royalties.</p>
      ) : (
        <Card title="Account">
          <Field label="Contributor" testId="royalties-account">
            <code>{connection.address}</code>
          </Field>
        </Card>
      )}
      <OwedRounds />
      <BalanceCard />
      <AnonymousClaimCard />
    </div>
  );
}
