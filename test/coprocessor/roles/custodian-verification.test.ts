import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RoundState } from "@ciphershare/coprocessor/chain/contracts";
import { CustodianError } from "@ciphershare/coprocessor/roles/custodian";
import { requireVerified, verificationOf } from "@ciphershare/coprocessor/roles/custodian-verification";
import type { PublicationVerdict } from "@ciphershare/coprocessor/roles/recompute";
import { StateStore } from "@ciphershare/coprocessor/state/store";
import type { Hex } from "@ciphershare/protocol/hex";

// The last check before the custodian decrypts: a recorded verdict on the round's standing publication that matched,
// for exactly the output hashes the round lists now. (End to end: test/adversarial/attacks-e2e.test.ts.)
describe("custodian: decrypt only what was recomputed", () => {
  const aggregate = `0x${"a1".repeat(32)}` as Hex;
  const scores = `0x${"5c".repeat(32)}` as Hex;
  let directory: string;
  let state: StateStore;
  const round = (publication: number, overrides: Partial<RoundState> = {}) =>
    ({ id: 4n, publication, aggregateHash: aggregate, scoresHash: scores, ...overrides }) as RoundState;
  const verdict = (publication: number, matches: boolean): PublicationVerdict => ({
    round: 4,
    publication,
    matches,
    published: { aggregate, scores, inputs: `0x${"00".repeat(32)}` },
    detail: matches ? "both outputs recomputed byte for byte" : `aggregate: published ${aggregate}, recomputed 0x…`,
  });
  const record = (v: PublicationVerdict) =>
    state.setValue("custodian", `round:${v.round}:publication:${v.publication}:verification`, { ...v } as never);

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), "ciphershare-verify-"));
    state = StateStore.open(join(directory, "custodian.sqlite"));
  });

  afterEach(() => {
    state.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it("refuses a publication it never recomputed", () => {
    expect(() => requireVerified(state, round(1))).to.throw(CustodianError, /not recomputed/);
  });

  it("refuses a publication whose recomputation did not match, naming the mismatch", () => {
    record(verdict(1, false));
    expect(() => requireVerified(state, round(1))).to.throw(CustodianError, /aggregate: published/);
  });

  it("refuses when the round now lists other outputs than the ones verified, or another publication", () => {
    record(verdict(1, true));
    expect(() => requireVerified(state, round(1, { scoresHash: `0x${"ee".repeat(32)}` }))).to.throw(CustodianError);
    expect(() => requireVerified(state, round(2))).to.throw(CustodianError, /not recomputed/);
  });

  it("allows exactly the verified outputs of the standing publication", () => {
    record(verdict(2, true));
    expect(() => requireVerified(state, round(2))).not.to.throw();
    expect(verificationOf(state, 4, 2)?.matches).to.equal(true);
  });
});
