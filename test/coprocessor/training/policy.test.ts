import { expect } from "chai";
import type { Hex } from "@ciphershare/protocol/hex";
import { assertDecryptionAllowed, InMemoryRoundCommitments } from "@ciphershare/coprocessor/keys/policy";
import { TrainingRoundCommitments } from "@ciphershare/coprocessor/roles/training";

const hash = (byte: string) => `0x${byte.repeat(32)}` as Hex;
/** The refusal's message, or "allowed". */
const refusal = (decision: Promise<void>) =>
  decision.then(
    () => "allowed",
    (error: Error) => error.message,
  );

// The custodian decrypts a training round's Enc(φ) and Enc(ρ) only through the round record that names it, and only while the
// chain lists that record as a committed output (a Finalized round of an accepted program).
describe("training: the custodian's policy for Enc(φ) and Enc(ρ), committed through the round record", function () {
  const masked = hash("aa");
  const record = hash("bb");
  const scores = hash("cc");
  const upload = hash("dd");
  const residuals = hash("ab");

  it("allows the named score envelope once the record is a committed output, and nothing else", async function () {
    const chain = new InMemoryRoundCommitments();
    chain.publishOutput(1n, masked);
    chain.publishOutput(1n, record);
    chain.publishInput(1n, upload);
    const policy = new TrainingRoundCommitments(chain, { roundId: 1n, hash: record, committed: [scores, residuals] });
    await assertDecryptionAllowed(policy, 1n, scores);
    await assertDecryptionAllowed(policy, 1n, residuals);
    await assertDecryptionAllowed(policy, 1n, masked);
    // A provider's upload stays an input; another hash is no output; another round gets nothing from this record.
    expect(await refusal(assertDecryptionAllowed(policy, 1n, upload))).to.match(/contributor's input/);
    expect(await refusal(assertDecryptionAllowed(policy, 1n, hash("ee")))).to.match(/not a published output/);
    expect(await refusal(assertDecryptionAllowed(policy, 2n, scores))).to.match(/not a published output/);
  });

  it("refuses Enc(φ) while the chain does not list the record (not Finalized, not accepted, another record)", async function () {
    const unfinalized = new InMemoryRoundCommitments();
    const policy = new TrainingRoundCommitments(unfinalized, {
      roundId: 1n,
      hash: record,
      committed: [scores, residuals],
    });
    expect(await refusal(assertDecryptionAllowed(policy, 1n, scores))).to.match(/not a published output/);
    expect(await refusal(assertDecryptionAllowed(policy, 1n, residuals))).to.match(/not a published output/);

    const other = new InMemoryRoundCommitments();
    other.publishOutput(1n, masked);
    other.publishOutput(1n, hash("ef"));
    const forged = new TrainingRoundCommitments(other, { roundId: 1n, hash: record, committed: [scores, residuals] });
    expect(await refusal(assertDecryptionAllowed(forged, 1n, scores))).to.match(/not a published output/);
  });
});
