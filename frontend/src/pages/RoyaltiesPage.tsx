import { useConnection } from "wagmi";
import { Card, Field, NotWired } from "../components/ui";

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
      <Card title="Encrypted owed amount per round">
        <NotWired needs="the royalty vault contract's ABI" />
      </Card>
      <Card title="Confidential balance">
        <p>Decrypting asks your wallet for one EIP-712 signature; the cleartext is shown here and nowhere else.</p>
        <button type="button" disabled>
          Decrypt my balance
        </button>
        <NotWired needs="the confidential token's ABI (user decryption itself works in the browser; see the tests)" />
      </Card>
      <Card title="Claim">
        <button type="button" disabled>
          Claim royalties
        </button>
        <NotWired needs="the royalty vault contract's ABI" />
      </Card>
    </div>
  );
}
