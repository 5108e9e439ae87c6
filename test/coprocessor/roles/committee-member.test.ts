import { expect } from "chai";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import type { ProgramState } from "@ciphershare/coprocessor/chain/contracts";
import {
  CommitteeError,
  RECOMPUTATION_CHECKS,
  committeeAddress,
  memberKeystoreInfo,
  memberRefusals,
  membersInTurn,
  SETTLEMENT_TURN_SECONDS,
  settlementOrder,
  type CommitteeState,
  type MemberKeystoreInfo,
} from "@ciphershare/coprocessor/roles/committee-member";
import { rejectionOf } from "../../support/rejection";

// A committee member's pure decisions: which program it accepts to serve with the share it holds (the lone custodian's
// policy, with the committee contract as custodian, plus the committee its share was dealt for).
describe("committee member: acceptance policy", () => {
  const COMMITTEE = "0x0165878A594ca255338adfa4d48449f69242Eb8F" as Address;
  const ME = "0x90F79bf6EB2c4f870365E785982E1f101E93b906" as Address;
  const OTHER = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65" as Address;
  const THIRD = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc" as Address;
  const BUNDLE = `0x${"b1".repeat(32)}` as Hex;
  const COMMITMENTS = [1, 2, 3].map((k) => `0x${String(k).repeat(64)}` as Hex);
  const program = (terms: Partial<ProgramState> = {}): ProgramState => ({
    id: 1n,
    network: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    coprocessor: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    custodian: COMMITTEE,
    publicKeyHash: BUNDLE,
    valuationMethod: 1,
    payoutToken: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    minContributors: 3,
    maxCommitments: 2000,
    recoveryPeriod: 30 * 24 * 3600,
    commitDeposit: 0n,
    kind: 0,
    buyerKeyHash: `0x${"0".repeat(64)}`,
    termsHash: `0x${"0".repeat(64)}`,
    ...terms,
  });
  const committee = (state: Partial<CommitteeState> = {}): CommitteeState => ({
    members: [OTHER, ME, THIRD],
    threshold: 2,
    shareCommitments: COMMITMENTS,
    active: false,
    ...state,
  });
  const share: MemberKeystoreInfo = {
    parameterSetId: "deep-v2",
    publicBundleHash: BUNDLE,
    threshold: 2,
    members: 3,
    member: 2,
    shareCommitment: COMMITMENTS[1],
  };

  it("accepts the committee its share was dealt for, under the custodian's terms", () => {
    expect(memberRefusals(program(), committee(), COMMITTEE, ME, share)).to.deep.equal([]);
  });

  it("refuses another committee, another place, another shape, another commitment, and the custodian's refusals", () => {
    const refusals = (p: ProgramState, c: CommitteeState, me = ME) => memberRefusals(p, c, COMMITTEE, me, share).join();
    expect(refusals(program(), committee(), "0x0000000000000000000000000000000000000001")).to.contain(
      "is not a member",
    );
    expect(refusals(program(), committee({ members: [ME, OTHER, THIRD] }))).to.contain(
      "member 1, the share is member 2's",
    );
    expect(refusals(program(), committee({ threshold: 3 }))).to.contain("3-of-3, the share is for 2-of-3");
    expect(
      refusals(program(), committee({ shareCommitments: [COMMITMENTS[0], COMMITMENTS[0], COMMITMENTS[2]] })),
    ).to.contain("this share's is");
    expect(refusals(program({ custodian: OTHER }), committee())).to.contain("names another custodian");
    expect(refusals(program({ publicKeyHash: `0x${"c2".repeat(32)}` }), committee())).to.contain(
      "not this custodian's bundle",
    );
    expect(refusals(program({ minContributors: 1 }), committee())).to.contain("minimum crowd of 1");
  });

  it("reads a share keystore's metadata and refuses a whole-key keystore", () => {
    const text = JSON.stringify({ kind: "ciphershare-ckks-key-share", metadata: share });
    expect(memberKeystoreInfo(text)).to.deep.equal(share);
    expect(() => memberKeystoreInfo(JSON.stringify({ kind: "ciphershare-ckks-secret-key", metadata: share }))).to.throw(
      CommitteeError,
      /key-share keystore/,
    );
  });

  it("refuses outputs unless the auditor's recomputation checks pass; a deployment without a committee is named", async () => {
    expect(RECOMPUTATION_CHECKS).to.include.members(["aggregate-commitment", "scores-commitment", "input-blobs"]);
    await rejectionOf(
      Promise.resolve().then(() =>
        committeeAddress({
          chainId: 1,
          rounds: COMMITTEE,
          distributor: COMMITTEE,
          token: COMMITTEE,
          underlying: COMMITTEE,
          anonymousPayouts: COMMITTEE,
          forwarder: COMMITTEE,
          deployedAtBlock: 0,
        }),
      ),
      CommitteeError,
      /no custodian committee/,
    );
  });
});

// Who settles a released round when its usual proposer is down: the order of turns and whose turn has come.
describe("committee member: settlement turns", () => {
  it("orders the decrypting set ascending, then the other members; one more member per elapsed turn", () => {
    expect(settlementOrder([3, 1], 3)).to.deep.equal([1, 3, 2]);
    expect(settlementOrder([1, 2], 3)).to.deep.equal([1, 2, 3]);
    const order = settlementOrder([2, 3], 4);
    expect(membersInTurn(order, 0)).to.deep.equal([2]);
    expect(membersInTurn(order, SETTLEMENT_TURN_SECONDS - 1)).to.deep.equal([2]);
    expect(membersInTurn(order, SETTLEMENT_TURN_SECONDS)).to.deep.equal([2, 3]);
    expect(membersInTurn(order, 3 * SETTLEMENT_TURN_SECONDS + 5)).to.deep.equal([2, 3, 1, 4]);
    expect(membersInTurn(order, 100 * SETTLEMENT_TURN_SECONDS)).to.deep.equal([2, 3, 1, 4]);
    expect(membersInTurn(order, -30)).to.deep.equal([2]);
  });
});
