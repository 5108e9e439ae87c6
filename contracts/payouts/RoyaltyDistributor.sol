// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {FHE, ebool, euint64, euint128, externalEuint64} from "@fhevm/solidity/lib/FHE.sol";
import {ZamaEthereumConfig} from "@fhevm/solidity/config/ZamaConfig.sol";
import {IERC7984} from "@openzeppelin/confidential-contracts/interfaces/IERC7984.sol";
import {IAnonymousPayouts} from "../interfaces/IAnonymousPayouts.sol";
import {IRoundManager} from "../interfaces/IRoundManager.sol";
import {IRoyaltyDistributor} from "../interfaces/IRoyaltyDistributor.sol";
import {IUsageTerms} from "../interfaces/IUsageTerms.sol";

/**
 * @title RoyaltyDistributor
 * @notice Pays a round's royalties in the program's ERC-7984 token without revealing who earns how much.
 *
 * 1. Anyone funds the pool of a round with a confidential amount ({fundPool}; the funder first makes this
 *    contract an operator of its token balance). The pool is publicly decryptable: funding is public anyway when
 *    it comes from wrapping an ERC-20, and it lets anyone check the settlement.
 * 2. Once the round is finalized, the program's custodian settles it in batches ({settle}): one encrypted share
 *    per included contributor. Each share is *assigned* (not added) to the contributor's owed amount for the
 *    round, so a contributor is settled at most once and batches can be sent in any order.
 * 3. When every included contributor is settled, the custodian declares the settlement complete
 *    ({completeSettlement}): only then does the unallocated remainder become publicly decryptable, so no batch, not
 *    even a batch of one, reveals its total.
 * 4. Each contributor claims ({claim}); the owed amount is transferred from this contract to it. A contributor that
 *    sealed an anonymous payout address ({AnonymousPayouts}) is paid only through that contract's scanning claim
 *    ({payAnonymousClaim}), which can read its share.
 * 5. The network recovers ({recoverPool}) the unallocated remainder of a completed settlement (e.g. everything when
 *    every share is 0), the whole pool of a cancelled round, and the remainder of a round whose custodian did not
 *    complete the settlement by the round's settlement deadline.
 * A batch rejected by the over-allocation check (below) can be released with the public decryption of its verdict
 * ({releaseRejectedBatch}), after which its contributors can be settled again.
 *
 * Never owing more than the pool, on encrypted values:
 * - settle: a batch's shares are summed exactly, as a balanced tree of 128-bit additions (a sum of at most 2^64
 *   shares below 2^64 cannot wrap); if the sum exceeds the pool's unallocated part the whole batch is credited 0
 *   (one `FHE.le`, one `FHE.select` building an all-ones/zero mask, then one `FHE.and` per share). So an accepted
 *   batch never allocates more than the pool, and every one of its shares is bounded by the pool: shares such as
 *   `[2^64 - 1, pool + 1]` are rejected instead of wrapping to `pool`.
 * - claim: a claim pays `owed` only if it is covered by the round's unclaimed part, else 0 (defence in depth).
 *
 * HCU (fhEVM limits: 20M per transaction, 5M depth) and gas (2^24 per transaction): measured by `bench:chain` and
 * recorded in docs/contracts.md; each input proof carries at most {SHARES_PER_PROOF} shares (2048 bits).
 */
contract RoyaltyDistributor is IRoyaltyDistributor, ZamaEthereumConfig {
    /// @notice Shares per input proof: an fhEVM input proof packs at most 2048 bits, i.e. 32 euint64.
    uint256 public constant SHARES_PER_PROOF = 32;

    /// @dev One call to {settle}; see {settlementBatch}.
    struct SettlementBatch {
        ebool accepted;
        bytes32 contributorsHash;
        bool released;
    }

    /// @dev Accounts of one round; see {poolOf}, {unallocatedOf}, {unclaimedOf}, {settledCount}, {settlementState}.
    struct RoundAccounts {
        euint64 pool;
        euint64 unallocated;
        euint64 unclaimed;
        uint64 batchCount;
        uint64 settledCount;
        SettlementState state;
    }

    /// @notice Rounds and programs this distributor pays for.
    IRoundManager public immutable rounds;
    /// @notice The contract that pays sealed, anonymous payouts out of this distributor's rounds.
    IAnonymousPayouts public immutable anonymousPayouts;
    /// @notice The usage programs' terms: the payees of their rounds are their artists.
    IUsageTerms public immutable usageTerms;

    mapping(uint256 roundId => RoundAccounts) private _accounts;
    mapping(uint256 roundId => mapping(address contributor => euint64)) private _owed;
    mapping(uint256 roundId => mapping(address contributor => bool)) private _claimed;
    mapping(uint256 roundId => mapping(uint256 batchIndex => SettlementBatch)) private _batches;

    /// @dev Binds `anonymousPayouts_` to this distributor (it reverts if another distributor bound it first).
    constructor(IRoundManager rounds_, IAnonymousPayouts anonymousPayouts_, IUsageTerms usageTerms_) {
        rounds = rounds_;
        anonymousPayouts = anonymousPayouts_;
        usageTerms = usageTerms_;
        anonymousPayouts_.bindDistributor();
    }

    modifier onlyAnonymousPayouts() {
        if (msg.sender != address(anonymousPayouts)) revert NotAnonymousPayouts(msg.sender);
        _;
    }

    /**
     * @notice Adds an encrypted amount of the program's token to the pool of round `roundId`, transferred from the
     * caller, who must have made this contract its operator (`setOperator`) on the token. An amount above the
     * caller's balance transfers (and funds) 0, as ERC-7984 does.
     * @param amount Encrypted amount, input for this contract and the caller.
     * @return funded The encrypted amount actually transferred.
     */
    function fundPool(
        uint256 roundId,
        externalEuint64 amount,
        bytes calldata inputProof
    ) external returns (euint64 funded) {
        IRoundManager.Round memory r = rounds.round(roundId);
        RoundAccounts storage a = _accounts[roundId];
        if (r.phase == IRoundManager.RoundPhase.Cancelled || a.state != SettlementState.Open)
            revert PoolClosed(roundId);
        IRoundManager.Program memory p = rounds.program(r.programId);
        IERC7984 token = IERC7984(p.payoutToken);
        euint64 requested = FHE.fromExternal(amount, inputProof);
        FHE.allowTransient(requested, address(token));
        funded = token.confidentialTransferFrom(msg.sender, address(this), requested);

        euint64 pool = FHE.add(a.pool, funded);
        FHE.allowThis(pool);
        FHE.allow(pool, p.network);
        FHE.allow(pool, p.custodian);
        FHE.makePubliclyDecryptable(pool);
        a.pool = pool;

        // Not public before the settlement completes (until a first batch it is the pool's own handle, equal values).
        euint64 unallocated = FHE.add(a.unallocated, funded);
        FHE.allowThis(unallocated);
        FHE.allow(unallocated, p.custodian);
        a.unallocated = unallocated;

        euint64 unclaimed = FHE.add(a.unclaimed, funded);
        FHE.allowThis(unclaimed);
        a.unclaimed = unclaimed;

        emit PoolFunded(roundId, msg.sender, funded);
    }

    /**
     * @notice Credits encrypted shares of round `roundId`'s pool to included contributors; only the program's
     * custodian, once the round is finalized. May be called in several batches; each contributor at most once.
     * A batch whose shares sum to more than the unallocated pool credits 0 to each of its contributors.
     * @param contributors Payees ({isPayee}: included contributors, or a usage program's artists), each not settled
     * before.
     * @param shares Encrypted shares, `shares[i]` for `contributors[i]`, in base units of the token.
     * @param inputProofs Input proofs; `shares[i]` belongs to `inputProofs[i / SHARES_PER_PROOF]`.
     */
    function settle(
        uint256 roundId,
        address[] calldata contributors,
        externalEuint64[] calldata shares,
        bytes[] calldata inputProofs
    ) external {
        address custodian;
        euint64[] memory credited;
        {
            uint256 usageProgram;
            (custodian, usageProgram) = _checkSettlement(
                roundId,
                contributors.length,
                shares.length,
                inputProofs.length
            );
            credited = _readShares(roundId, usageProgram, contributors, shares, inputProofs);
        }

        RoundAccounts storage a = _accounts[roundId];
        (euint64 mask, ebool accepted) = _allocate(a, _exactSum(credited), custodian);
        _credit(roundId, contributors, credited, mask);

        FHE.allowThis(accepted);
        FHE.allow(accepted, custodian);
        FHE.makePubliclyDecryptable(accepted);
        uint256 batchIndex = a.batchCount++;
        a.settledCount += uint64(credited.length);
        _batches[roundId][batchIndex] = SettlementBatch(accepted, keccak256(abi.encodePacked(contributors)), false);
        emit SettlementBatchRecorded(roundId, batchIndex, credited.length, accepted);
    }

    /**
     * @notice Declares the settlement of round `roundId` complete; only the program's custodian, once every included
     * contributor is settled. Makes the unallocated remainder publicly decryptable (and readable by the network): 0
     * proves that the shares sum to the pool. No batch can follow.
     */
    function completeSettlement(uint256 roundId) external {
        IRoundManager.Round memory r = rounds.round(roundId);
        if (r.phase != IRoundManager.RoundPhase.Finalized) revert RoundNotFinalized(roundId, r.phase);
        IRoundManager.Program memory p = rounds.program(r.programId);
        if (msg.sender != p.custodian) revert NotProgramCustodian(r.programId, msg.sender);
        RoundAccounts storage a = _accounts[roundId];
        if (a.state != SettlementState.Open) revert SettlementClosed(roundId, a.state);
        uint256 payees = _payeeCount(r);
        if (a.settledCount != payees) revert SettlementIncomplete(roundId, a.settledCount, payees);
        a.state = SettlementState.Completed;
        euint64 unallocated = a.unallocated;
        FHE.allow(unallocated, p.network);
        FHE.makePubliclyDecryptable(unallocated);
        emit SettlementCompleted(roundId, unallocated);
    }

    /**
     * @notice Sends round `roundId`'s unallocated pool to the program's network; only the network. Allowed when the
     * round was cancelled (the whole pool), when its settlement was completed (the remainder, e.g. the whole pool
     * when every share is 0), or when the custodian did not complete it by the round's settlement deadline (what the
     * accepted batches left; the settlement then closes). Owed amounts stay claimable. The recovered amount is
     * publicly decryptable.
     * @return recovered Encrypted amount transferred to the network.
     */
    function recoverPool(uint256 roundId) external returns (euint64 recovered) {
        IRoundManager.Round memory r = rounds.round(roundId);
        IRoundManager.Program memory p = rounds.program(r.programId);
        if (msg.sender != p.network) revert NotProgramNetwork(r.programId, msg.sender);
        RoundAccounts storage a = _accounts[roundId];
        if (!FHE.isInitialized(a.pool)) revert PoolNotFunded(roundId);
        if (!_isRecoverable(r, a.state)) revert PoolNotRecoverable(roundId, r.phase, a.state);
        a.state = SettlementState.Recovered;

        euint64 amount = a.unallocated;
        euint64 unclaimed = FHE.sub(a.unclaimed, amount);
        FHE.allowThis(unclaimed);
        a.unclaimed = unclaimed;
        euint64 nothing = FHE.asEuint64(0);
        FHE.allowThis(nothing);
        a.unallocated = nothing;

        FHE.allow(amount, p.network);
        FHE.makePubliclyDecryptable(amount);
        FHE.allowTransient(amount, p.payoutToken);
        recovered = IERC7984(p.payoutToken).confidentialTransfer(p.network, amount);
        emit PoolRecovered(roundId, p.network, recovered);
    }

    /**
     * @notice Releases a batch that the over-allocation check rejected, so that its contributors (credited 0) can be
     * settled again; anyone may call, with the public decryption of the batch's `accepted` flag proving it false.
     * A contributor of the batch who already claimed (and was paid 0) may claim again after resettlement.
     * @param contributors The batch's contributors, in the order they were settled.
     * @param decryptionProof KMS proof that `accepted` decrypts to false (from the relayer's public decryption); a
     * proof of `true` fails in the KMS verifier (`KMSInvalidSigner`).
     */
    function releaseRejectedBatch(
        uint256 roundId,
        uint256 batchIndex,
        address[] calldata contributors,
        bytes calldata decryptionProof
    ) external {
        RoundAccounts storage a = _accounts[roundId];
        if (a.state != SettlementState.Open) revert SettlementClosed(roundId, a.state);
        SettlementBatch storage batch = _batches[roundId][batchIndex];
        if (!FHE.isInitialized(batch.accepted)) revert UnknownSettlementBatch(roundId, batchIndex);
        if (batch.released) revert SettlementBatchAlreadyReleased(roundId, batchIndex);
        if (keccak256(abi.encodePacked(contributors)) != batch.contributorsHash) {
            revert SettlementBatchContributorsMismatch(roundId, batchIndex);
        }
        bytes32[] memory handles = new bytes32[](1);
        handles[0] = ebool.unwrap(batch.accepted);
        FHE.checkSignatures(handles, abi.encode(false), decryptionProof);
        batch.released = true;
        a.settledCount -= uint64(contributors.length);
        for (uint256 i = 0; i < contributors.length; ++i) {
            _owed[roundId][contributors[i]] = euint64.wrap(0);
            delete _claimed[roundId][contributors[i]];
        }
        emit SettlementBatchReleased(roundId, batchIndex);
    }

    /**
     * @notice Transfers the caller's owed royalty for round `roundId` to it. Pays 0 if the round's unclaimed pool
     * does not cover it (only possible if the custodian's shares wrapped around uint64).
     * @return paid Encrypted amount transferred (decryptable by the caller).
     */
    function claim(uint256 roundId) external returns (euint64 paid) {
        euint64 owed = _owed[roundId][msg.sender];
        if (!FHE.isInitialized(owed)) revert NothingOwed(roundId, msg.sender);
        if (_claimed[roundId][msg.sender]) revert AlreadyClaimed(roundId, msg.sender);
        if (anonymousPayouts.isSealed(roundId, msg.sender)) revert PayoutSealed(roundId, msg.sender);
        _claimed[roundId][msg.sender] = true;

        RoundAccounts storage a = _accounts[roundId];
        paid = FHE.select(FHE.le(owed, a.unclaimed), owed, FHE.asEuint64(0));
        euint64 unclaimed = FHE.sub(a.unclaimed, paid);
        FHE.allowThis(unclaimed);
        a.unclaimed = unclaimed;

        address token = rounds.program(rounds.round(roundId).programId).payoutToken;
        FHE.allowTransient(paid, token);
        paid = IERC7984(token).confidentialTransfer(msg.sender, paid);
        emit RoyaltyClaimed(roundId, msg.sender, paid);
    }

    /// @inheritdoc IRoyaltyDistributor
    function payAnonymousClaim(
        address to,
        uint256[] calldata roundIds,
        euint64[] calldata amounts
    ) external onlyAnonymousPayouts returns (euint64 paid) {
        if (amounts.length != roundIds.length) revert ClaimLengthMismatch(roundIds.length, amounts.length);
        for (uint256 r = 0; r < roundIds.length; ++r) {
            RoundAccounts storage a = _accounts[roundIds[r]];
            euint64 covered = FHE.select(FHE.le(amounts[r], a.unclaimed), amounts[r], FHE.asEuint64(0));
            euint64 unclaimed = FHE.sub(a.unclaimed, covered);
            FHE.allowThis(unclaimed);
            a.unclaimed = unclaimed;
            paid = r == 0 ? covered : FHE.add(paid, covered);
        }
        address token = rounds.program(rounds.round(roundIds[0]).programId).payoutToken;
        FHE.allowTransient(paid, token);
        paid = IERC7984(token).confidentialTransfer(to, paid);
        FHE.allowTransient(paid, msg.sender);
    }

    /// @inheritdoc IRoyaltyDistributor
    function payeeCount(uint256 roundId) external view returns (uint256) {
        return _payeeCount(rounds.round(roundId));
    }

    /// @inheritdoc IRoyaltyDistributor
    function isPayee(uint256 roundId, address account) external view returns (bool) {
        uint256 programId = rounds.round(roundId).programId;
        return _isPayee(roundId, usageTerms.isUsageProgram(programId) ? programId : 0, account);
    }

    /// @inheritdoc IRoyaltyDistributor
    function poolOf(uint256 roundId) external view returns (euint64) {
        return _accounts[roundId].pool;
    }

    /// @inheritdoc IRoyaltyDistributor
    function unallocatedOf(uint256 roundId) external view returns (euint64) {
        return _accounts[roundId].unallocated;
    }

    /// @inheritdoc IRoyaltyDistributor
    function unclaimedOf(uint256 roundId) external view returns (euint64) {
        return _accounts[roundId].unclaimed;
    }

    /// @inheritdoc IRoyaltyDistributor
    function owedOf(uint256 roundId, address contributor) external view returns (euint64) {
        return _owed[roundId][contributor];
    }

    /// @inheritdoc IRoyaltyDistributor
    function isSettled(uint256 roundId, address contributor) external view returns (bool) {
        return FHE.isInitialized(_owed[roundId][contributor]);
    }

    /// @inheritdoc IRoyaltyDistributor
    function isClaimed(uint256 roundId, address contributor) external view returns (bool) {
        return _claimed[roundId][contributor];
    }

    /// @inheritdoc IRoyaltyDistributor
    function settlementBatch(
        uint256 roundId,
        uint256 batchIndex
    ) external view returns (ebool accepted, bytes32 contributorsHash, bool released) {
        SettlementBatch storage batch = _batches[roundId][batchIndex];
        return (batch.accepted, batch.contributorsHash, batch.released);
    }

    /// @inheritdoc IRoyaltyDistributor
    function settlementBatchCount(uint256 roundId) external view returns (uint256) {
        return _accounts[roundId].batchCount;
    }

    /// @inheritdoc IRoyaltyDistributor
    function settledCount(uint256 roundId) external view returns (uint256) {
        return _accounts[roundId].settledCount;
    }

    /// @inheritdoc IRoyaltyDistributor
    function settlementState(uint256 roundId) external view returns (SettlementState) {
        return _accounts[roundId].state;
    }

    /// @dev Checks the caller, the round and the batch shape; returns the program's custodian and, for a usage
    /// program, its id (0 otherwise), after checking that the period has enough generations to be settled.
    function _checkSettlement(
        uint256 roundId,
        uint256 contributorCount,
        uint256 shareCount,
        uint256 proofCount
    ) private view returns (address custodian, uint256 usageProgram) {
        IRoundManager.Round memory r = rounds.round(roundId);
        if (r.phase != IRoundManager.RoundPhase.Finalized) revert RoundNotFinalized(roundId, r.phase);
        custodian = rounds.program(r.programId).custodian;
        if (msg.sender != custodian) revert NotProgramCustodian(r.programId, msg.sender);
        if (usageTerms.isUsageProgram(r.programId)) {
            usageProgram = r.programId;
            uint64 minimum = usageTerms.termsOf(usageProgram).minGenerations;
            if (minimum == 0) minimum = 1;
            uint64 generations = usageTerms.generationsOf(roundId);
            if (generations < minimum) revert TooFewGenerations(roundId, generations, minimum);
        }
        if (contributorCount == 0) revert EmptySettlement(roundId);
        if (shareCount != contributorCount) revert SettlementLengthMismatch(contributorCount, shareCount);
        uint256 expectedProofs = (contributorCount + SHARES_PER_PROOF - 1) / SHARES_PER_PROOF;
        if (proofCount != expectedProofs) revert InputProofCountMismatch(expectedProofs, proofCount);
        RoundAccounts storage a = _accounts[roundId];
        if (!FHE.isInitialized(a.pool)) revert PoolNotFunded(roundId);
        if (a.state != SettlementState.Open) revert SettlementClosed(roundId, a.state);
    }

    /// @dev Assigns `credited[i] AND mask` to `contributors[i]`'s owed amount, readable by it alone.
    function _credit(
        uint256 roundId,
        address[] calldata contributors,
        euint64[] memory credited,
        euint64 mask
    ) private {
        mapping(address => euint64) storage owed = _owed[roundId];
        for (uint256 i = 0; i < credited.length; ++i) {
            euint64 amount = FHE.and(credited[i], mask);
            FHE.allowThis(amount);
            FHE.allow(amount, contributors[i]);
            if (anonymousPayouts.isSealed(roundId, contributors[i])) FHE.allow(amount, address(anonymousPayouts));
            owed[contributors[i]] = amount;
            emit RoyaltyCredited(roundId, contributors[i], amount);
        }
    }

    /// @dev Payees of round `r`: the artists of a usage program, else the round's included contributors.
    function _payeeCount(IRoundManager.Round memory r) private view returns (uint256) {
        if (usageTerms.isUsageProgram(r.programId)) return usageTerms.artistCount(r.programId);
        return r.includedCount;
    }

    /// @dev Whether `account` may be settled in round `roundId`: an artist of `usageProgram` (nonzero for a usage
    /// program), else an included contributor.
    function _isPayee(uint256 roundId, uint256 usageProgram, address account) private view returns (bool) {
        if (usageProgram != 0) return usageTerms.isArtist(usageProgram, account);
        return rounds.isIncluded(roundId, account);
    }

    /// @dev Whether the network may recover the unallocated pool of round `r` whose settlement is in `state`.
    function _isRecoverable(IRoundManager.Round memory r, SettlementState state) private view returns (bool) {
        if (state == SettlementState.Completed) return true;
        if (state != SettlementState.Open) return false;
        if (r.phase == IRoundManager.RoundPhase.Cancelled) return true;
        return r.phase == IRoundManager.RoundPhase.Finalized && block.timestamp > r.settlementDeadline;
    }

    /// @dev Verifies each share against its input proof and marks its contributor settled (so that a duplicate
    /// later in the same batch reverts); the final, masked amounts overwrite these marks.
    function _readShares(
        uint256 roundId,
        uint256 usageProgram,
        address[] calldata contributors,
        externalEuint64[] calldata shares,
        bytes[] calldata inputProofs
    ) private returns (euint64[] memory credited) {
        mapping(address => euint64) storage owed = _owed[roundId];
        credited = new euint64[](contributors.length);
        for (uint256 i = 0; i < contributors.length; ++i) {
            address contributor = contributors[i];
            if (!_isPayee(roundId, usageProgram, contributor)) revert ContributorNotIncluded(roundId, contributor);
            if (FHE.isInitialized(owed[contributor])) revert AlreadySettled(roundId, contributor);
            credited[i] = FHE.fromExternal(shares[i], inputProofs[i / SHARES_PER_PROOF]);
            owed[contributor] = credited[i];
        }
    }

    /// @dev Allocates the exact `batchTotal` from the unallocated pool if it fits; returns an all-ones mask if it did,
    /// a zero mask if not, and the encrypted verdict. The new unallocated part stays private (custodian only).
    function _allocate(
        RoundAccounts storage a,
        euint128 batchTotal,
        address custodian
    ) private returns (euint64 mask, ebool accepted) {
        accepted = FHE.le(batchTotal, FHE.asEuint128(a.unallocated));
        mask = FHE.select(accepted, FHE.asEuint64(type(uint64).max), FHE.asEuint64(0));
        // An accepted total is at most the unallocated pool, so it fits 64 bits; a rejected one is masked to 0.
        euint64 unallocated = FHE.sub(a.unallocated, FHE.and(FHE.asEuint64(batchTotal), mask));
        FHE.allowThis(unallocated);
        FHE.allow(unallocated, custodian);
        a.unallocated = unallocated;
    }

    /// @dev Exact sum in 128 bits as a balanced tree: n casts, n - 1 additions, a dependency depth of ceil(log2(n)).
    function _exactSum(euint64[] memory values) private returns (euint128) {
        uint256 width = values.length;
        euint128[] memory level = new euint128[](width);
        for (uint256 i = 0; i < width; ++i) level[i] = FHE.asEuint128(values[i]);
        while (width > 1) {
            uint256 half = width / 2;
            for (uint256 i = 0; i < half; ++i) level[i] = FHE.add(level[2 * i], level[2 * i + 1]);
            if (width % 2 == 1) level[half] = level[width - 1];
            width = half + (width % 2);
        }
        return level[0];
    }
}
