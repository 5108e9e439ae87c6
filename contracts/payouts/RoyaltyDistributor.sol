// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {FHE, ebool, euint64, externalEuint64} from "@fhevm/solidity/lib/FHE.sol";
import {ZamaEthereumConfig} from "@fhevm/solidity/config/ZamaConfig.sol";
import {IERC7984} from "@openzeppelin/confidential-contracts/interfaces/IERC7984.sol";
import {IRoundManager} from "../interfaces/IRoundManager.sol";
import {IRoyaltyDistributor} from "../interfaces/IRoyaltyDistributor.sol";

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
 * 3. Each contributor claims ({claim}); the owed amount is transferred from this contract to it.
 * A batch rejected by the over-allocation check (below) can be released with the public decryption of its verdict
 * ({releaseRejectedBatch}), after which its contributors can be settled again.
 *
 * Never owing more than the pool, on encrypted values:
 * - settle: a batch's shares are summed as a balanced tree; if the sum exceeds the pool's unallocated part the
 *   whole batch is credited 0 (one `FHE.le`, one `FHE.select` building an all-ones/zero mask, then one `FHE.and`
 *   per share: cheaper than a select per share). The unallocated part is publicly decryptable: 0 after the last
 *   batch proves that the shares sum to the pool.
 * - claim: a claim pays `owed` only if it is covered by the round's unclaimed part, else 0. This also guards the
 *   one case the settle check cannot see cheaply: shares chosen so that their uint64 sum wraps around.
 *
 * HCU (fhEVM limits: 20M per transaction, 5M depth): per share one tree `add` (162k) and one `and` (34k), plus
 * about 0.24M per batch; a batch of 100 costs 19.84M HCU with a depth of 1.53M (measured by `bench:chain`), 101
 * exceed the limit. Bigger rounds settle in several batches. Each input proof carries at most {SHARES_PER_PROOF}
 * shares (2048 bits), so a batch of 100 comes with 4 proofs.
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

    /// @dev Encrypted accounts of one round; see {poolOf}, {unallocatedOf}, {unclaimedOf}.
    struct RoundAccounts {
        euint64 pool;
        euint64 unallocated;
        euint64 unclaimed;
        uint256 batchCount;
    }

    /// @notice Rounds and programs this distributor pays for.
    IRoundManager public immutable rounds;

    mapping(uint256 roundId => RoundAccounts) private _accounts;
    mapping(uint256 roundId => mapping(address contributor => euint64)) private _owed;
    mapping(uint256 roundId => mapping(address contributor => bool)) private _claimed;
    mapping(uint256 roundId => mapping(uint256 batchIndex => SettlementBatch)) private _batches;

    constructor(IRoundManager rounds_) {
        rounds = rounds_;
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
        IRoundManager.Program memory p = rounds.program(rounds.round(roundId).programId);
        IERC7984 token = IERC7984(p.payoutToken);
        euint64 requested = FHE.fromExternal(amount, inputProof);
        FHE.allowTransient(requested, address(token));
        funded = token.confidentialTransferFrom(msg.sender, address(this), requested);

        RoundAccounts storage a = _accounts[roundId];
        euint64 pool = FHE.add(a.pool, funded);
        FHE.allowThis(pool);
        FHE.allow(pool, p.network);
        FHE.allow(pool, p.custodian);
        FHE.makePubliclyDecryptable(pool);
        a.pool = pool;

        euint64 unallocated = FHE.add(a.unallocated, funded);
        FHE.allowThis(unallocated);
        FHE.allow(unallocated, p.custodian);
        FHE.makePubliclyDecryptable(unallocated);
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
     * @param contributors Included contributors (committed, not excluded), each not settled before.
     * @param shares Encrypted shares, `shares[i]` for `contributors[i]`, in base units of the token.
     * @param inputProofs Input proofs; `shares[i]` belongs to `inputProofs[i / SHARES_PER_PROOF]`.
     */
    function settle(
        uint256 roundId,
        address[] calldata contributors,
        externalEuint64[] calldata shares,
        bytes[] calldata inputProofs
    ) external {
        address custodian = _checkSettlement(roundId, contributors.length, shares.length, inputProofs.length);
        euint64[] memory credited = _readShares(roundId, contributors, shares, inputProofs);

        (euint64 mask, ebool accepted) = _allocate(_accounts[roundId], _sum(credited), custodian);

        mapping(address => euint64) storage owed = _owed[roundId];
        for (uint256 i = 0; i < credited.length; ++i) {
            euint64 amount = FHE.and(credited[i], mask);
            FHE.allowThis(amount);
            FHE.allow(amount, contributors[i]);
            owed[contributors[i]] = amount;
            emit RoyaltyCredited(roundId, contributors[i], amount);
        }

        FHE.allowThis(accepted);
        FHE.allow(accepted, custodian);
        FHE.makePubliclyDecryptable(accepted);
        uint256 batchIndex = _accounts[roundId].batchCount++;
        _batches[roundId][batchIndex] = SettlementBatch(accepted, keccak256(abi.encodePacked(contributors)), false);
        emit SettlementBatchRecorded(roundId, batchIndex, credited.length, accepted);
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

    /// @dev Checks the caller, the round and the batch shape; returns the program's custodian.
    function _checkSettlement(
        uint256 roundId,
        uint256 contributorCount,
        uint256 shareCount,
        uint256 proofCount
    ) private view returns (address custodian) {
        IRoundManager.Round memory r = rounds.round(roundId);
        if (r.phase != IRoundManager.RoundPhase.Finalized) revert RoundNotFinalized(roundId, r.phase);
        custodian = rounds.program(r.programId).custodian;
        if (msg.sender != custodian) revert NotProgramCustodian(r.programId, msg.sender);
        if (contributorCount == 0) revert EmptySettlement(roundId);
        if (shareCount != contributorCount) revert SettlementLengthMismatch(contributorCount, shareCount);
        uint256 expectedProofs = (contributorCount + SHARES_PER_PROOF - 1) / SHARES_PER_PROOF;
        if (proofCount != expectedProofs) revert InputProofCountMismatch(expectedProofs, proofCount);
        if (!FHE.isInitialized(_accounts[roundId].pool)) revert PoolNotFunded(roundId);
    }

    /// @dev Verifies each share against its input proof and marks its contributor settled (so that a duplicate
    /// later in the same batch reverts); the final, masked amounts overwrite these marks.
    function _readShares(
        uint256 roundId,
        address[] calldata contributors,
        externalEuint64[] calldata shares,
        bytes[] calldata inputProofs
    ) private returns (euint64[] memory credited) {
        mapping(address => euint64) storage owed = _owed[roundId];
        credited = new euint64[](contributors.length);
        for (uint256 i = 0; i < contributors.length; ++i) {
            address contributor = contributors[i];
            if (!rounds.isIncluded(roundId, contributor)) revert ContributorNotIncluded(roundId, contributor);
            if (FHE.isInitialized(owed[contributor])) revert AlreadySettled(roundId, contributor);
            credited[i] = FHE.fromExternal(shares[i], inputProofs[i / SHARES_PER_PROOF]);
            owed[contributor] = credited[i];
        }
    }

    /// @dev Allocates `batchTotal` from the unallocated pool if it fits; returns an all-ones mask if it did, a zero
    /// mask if not, and the encrypted verdict.
    function _allocate(
        RoundAccounts storage a,
        euint64 batchTotal,
        address custodian
    ) private returns (euint64 mask, ebool accepted) {
        accepted = FHE.le(batchTotal, a.unallocated);
        mask = FHE.select(accepted, FHE.asEuint64(type(uint64).max), FHE.asEuint64(0));
        euint64 unallocated = FHE.sub(a.unallocated, FHE.and(batchTotal, mask));
        FHE.allowThis(unallocated);
        FHE.allow(unallocated, custodian);
        FHE.makePubliclyDecryptable(unallocated);
        a.unallocated = unallocated;
    }

    /// @dev Sum as a balanced tree: n - 1 additions but a dependency depth of only ceil(log2(n)).
    function _sum(euint64[] memory values) private returns (euint64) {
        uint256 width = values.length;
        euint64[] memory level = new euint64[](width);
        for (uint256 i = 0; i < width; ++i) level[i] = values[i];
        while (width > 1) {
            uint256 half = width / 2;
            for (uint256 i = 0; i < half; ++i) level[i] = FHE.add(level[2 * i], level[2 * i + 1]);
            if (width % 2 == 1) level[half] = level[width - 1];
            width = half + (width % 2);
        }
        return level[0];
    }
}
