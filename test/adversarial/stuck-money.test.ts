// Attack: lock, misstate or expose the money of a round. On the contracts before this change, the pool of a round
// that never finalized (or where every share was 0) was locked forever; shares whose uint64 sum wrapped
// (`[2^64 - 1, pool + 1]`) made the public "unallocated = 0" check pass while the claims paid nothing; and the
// unallocated pool was public after every batch, so a batch of one revealed its contributor's royalty.
import { FhevmType } from "@fhevm/hardhat-plugin";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { fhevm } from "hardhat";
import { SettlementState, advanceTo } from "@ciphershare/scripts/lib/chain";
import {
  CancelReason,
  Phase,
  Reason,
  closeRound,
  contribute,
  createProgram,
  deployScenario,
  expectPublicDecryptionDenied,
  finalize,
  finalizedRound,
  fundPool,
  openRound,
  publish,
  settle as settleShares,
  type Scenario,
} from "../contracts/fixtures";

const POOL = 1000n;
const MAX_UINT64 = 2n ** 64n - 1n;

describe("stuck money", () => {
  let s: Scenario;
  let alice: HardhatEthersSigner;
  let bob: HardhatEthersSigner;
  let token: string;

  beforeEach(async () => {
    s = await deployScenario();
    [alice, bob] = s.contributors;
    token = await s.token.getAddress();
  });

  const settle = async (roundId: bigint, who: readonly HardhatEthersSigner[], shares: readonly bigint[]) =>
    (await settleShares(s, roundId, who, shares)).wait();
  const publicValue = async (handle: string) => fhevm.publicDecryptEuint(FhevmType.euint64, handle);
  const networkBalance = async () =>
    fhevm.userDecryptEuint(FhevmType.euint64, await s.token.confidentialBalanceOf(s.network.address), token, s.network);

  it("the pool of a round cancelled for too few reveals goes back to the network", async () => {
    const roundId = await openRound(s, await createProgram(s, { minContributors: 3 }));
    await fundPool(s, roundId, POOL);
    await contribute(s, roundId, [alice, bob]);
    await closeRound(s, roundId);
    expect((await s.rounds.round(roundId)).phase).to.equal(BigInt(Phase.Cancelled));
    await s.distributor.connect(s.network).recoverPool(roundId);
    expect(await networkBalance()).to.equal(POOL);
  });

  it("the pool of a round nobody finalizes (the coprocessor never publishes) goes back to the network after expiry", async () => {
    const roundId = await openRound(s);
    await fundPool(s, roundId, POOL);
    await contribute(s, roundId, [alice]);
    await closeRound(s, roundId);
    await expect(s.distributor.connect(s.network).recoverPool(roundId))
      .to.be.revertedWithCustomError(s.distributor, "PoolNotRecoverable")
      .withArgs(roundId, Phase.Closed, SettlementState.Open);
    await advanceTo((await s.rounds.round(roundId)).expiresAt + 1n);
    await s.rounds.connect(s.outsider).expireRound(roundId);
    expect((await s.rounds.round(roundId)).cancelReason).to.equal(BigInt(CancelReason.Expired));
    await s.distributor.connect(s.network).recoverPool(roundId);
    expect(await networkBalance()).to.equal(POOL);
  });

  it("when every share is 0 (every φ ≤ 0), the undistributed pool goes back to the network once settlement completes", async () => {
    const roundId = await finalizedRound(s, [alice, bob]);
    await fundPool(s, roundId, POOL);
    await settle(roundId, [alice, bob], [0n, 0n]);
    await s.distributor.connect(s.custodian).completeSettlement(roundId);
    expect(await publicValue(await s.distributor.unallocatedOf(roundId))).to.equal(POOL, "publicly: nothing was paid");
    await s.distributor.connect(s.network).recoverPool(roundId);
    expect(await networkBalance()).to.equal(POOL);
  });

  it("a custodian that never completes settlement cannot lock the pool: the network recovers the rest after the deadline", async () => {
    const roundId = await finalizedRound(s, [alice, bob]);
    await fundPool(s, roundId, POOL);
    await settle(roundId, [alice], [400n]);
    await expect(s.distributor.connect(s.network).recoverPool(roundId)).to.be.revertedWithCustomError(
      s.distributor,
      "PoolNotRecoverable",
    );
    await advanceTo((await s.rounds.round(roundId)).settlementDeadline + 1n);
    await s.distributor.connect(s.network).recoverPool(roundId);
    expect(await networkBalance()).to.equal(POOL - 400n);
    await s.distributor.connect(alice).claim(roundId);
    const aliceBalance = await s.token.confidentialBalanceOf(alice.address);
    expect(await fhevm.userDecryptEuint(FhevmType.euint64, aliceBalance, token, alice)).to.equal(400n);
  });

  it("shares whose uint64 sum wraps to the pool ([2^64 - 1, pool + 1]) cannot make the public check read 0", async () => {
    const roundId = await finalizedRound(s, [alice, bob]);
    await fundPool(s, roundId, POOL);
    await settle(roundId, [alice, bob], [MAX_UINT64, POOL + 1n]);
    await s.distributor.connect(s.custodian).completeSettlement(roundId);
    expect(await publicValue(await s.distributor.unallocatedOf(roundId))).to.equal(
      POOL,
      "the wrapped batch was rejected: nothing allocated, and everyone can see it",
    );
    const [batch] = await s.distributor.queryFilter(s.distributor.filters.SettlementBatchRecorded(roundId));
    expect(await fhevm.publicDecryptEbool(batch.args.accepted)).to.equal(false);
    await s.distributor.connect(s.network).recoverPool(roundId);
    expect(await networkBalance()).to.equal(POOL, "the pool is not stuck either");
  });

  it("a batch of one reveals nothing: the unallocated pool stays private until the custodian declares the last batch", async () => {
    const roundId = await finalizedRound(s, [alice, bob]);
    await fundPool(s, roundId, POOL);
    await settle(roundId, [alice], [123n]);
    await expectPublicDecryptionDenied(publicValue(await s.distributor.unallocatedOf(roundId)));
    await expect(s.distributor.connect(s.custodian).completeSettlement(roundId))
      .to.be.revertedWithCustomError(s.distributor, "SettlementIncomplete")
      .withArgs(roundId, 1n, 2n);
    await settle(roundId, [bob], [POOL - 123n]);
    await expectPublicDecryptionDenied(publicValue(await s.distributor.unallocatedOf(roundId)));
    await s.distributor.connect(s.custodian).completeSettlement(roundId);
    expect(await publicValue(await s.distributor.unallocatedOf(roundId))).to.equal(0n);
  });

  it("deposits are refunded on inclusion and forfeited on exclusion; the coprocessor cannot take any", async () => {
    const deposit = 10n ** 16n;
    const roundId = await openRound(s, await createProgram(s, { minContributors: 1, commitDeposit: deposit }));
    await contribute(s, roundId, [alice, bob]);
    await closeRound(s, roundId);
    await publish(s, roundId, new Map([[1, Reason.Malformed]]));
    await finalize(s, roundId);
    await expect(s.rounds.connect(s.coprocessor).collectForfeitedDeposits(roundId)).to.be.revertedWithCustomError(
      s.rounds,
      "NotProgramNetwork",
    );
    await expect(s.rounds.connect(s.coprocessor).withdrawDeposit(roundId)).to.be.revertedWithCustomError(
      s.rounds,
      "NotACommitter",
    );
    await expect(s.rounds.connect(alice).withdrawDeposit(roundId)).to.changeEtherBalance(alice, deposit);
    await expect(s.rounds.connect(bob).withdrawDeposit(roundId)).to.be.revertedWithCustomError(
      s.rounds,
      "DepositForfeited",
    );
    await expect(s.rounds.connect(s.network).collectForfeitedDeposits(roundId)).to.changeEtherBalance(
      s.network,
      deposit,
    );
  });
});
