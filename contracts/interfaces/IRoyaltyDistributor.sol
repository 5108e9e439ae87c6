// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {ebool, euint64} from "@fhevm/solidity/lib/FHE.sol";
import {IRoundManager} from "./IRoundManager.sol";

/**
 * @title IRoyaltyDistributor
 * @notice Confidential royalty pools per round, settled by the program's key custodian into per-contributor
 * encrypted owed amounts that contributors claim (pull payments).
 */
interface IRoyaltyDistributor {
    /// @notice `funder` added the encrypted `amount` to the pool of round `roundId`.
    event PoolFunded(uint256 indexed roundId, address indexed funder, euint64 amount);

    /// @notice `contributor` was credited the encrypted `owed` amount for round `roundId`.
    event RoyaltyCredited(uint256 indexed roundId, address indexed contributor, euint64 owed);

    /**
     * @notice The custodian settled batch `batchIndex` of round `roundId` (`size` contributors). `accepted`
     * (publicly decryptable) is false when the batch would have allocated more than the unallocated pool:
     * then every share of the batch was credited as 0.
     */
    event SettlementBatchRecorded(uint256 indexed roundId, uint256 indexed batchIndex, uint256 size, ebool accepted);

    /// @notice Rejected batch `batchIndex` of round `roundId` was released: its contributors can be settled again.
    event SettlementBatchReleased(uint256 indexed roundId, uint256 indexed batchIndex);

    /// @notice `contributor` claimed round `roundId`; `paid` is the encrypted amount transferred to it.
    event RoyaltyClaimed(uint256 indexed roundId, address indexed contributor, euint64 paid);

    /// @notice Round `roundId` is in phase `phase`; settling needs a finalized round.
    error RoundNotFinalized(uint256 roundId, IRoundManager.RoundPhase phase);
    /// @notice `caller` is not the custodian of program `programId`.
    error NotProgramCustodian(uint256 programId, address caller);
    /// @notice A settlement batch of round `roundId` needs at least one contributor.
    error EmptySettlement(uint256 roundId);
    /// @notice `contributors` addresses were given with `shares` shares.
    error SettlementLengthMismatch(uint256 contributors, uint256 shares);
    /// @notice Shares come in input proofs of at most `SHARES_PER_PROOF` each: `expected` proofs, got `actual`.
    error InputProofCountMismatch(uint256 expected, uint256 actual);
    /// @notice `contributor` did not commit to round `roundId` or was excluded by the coprocessor.
    error ContributorNotIncluded(uint256 roundId, address contributor);
    /// @notice `contributor` was already settled for round `roundId` (or is listed twice in the batch).
    error AlreadySettled(uint256 roundId, address contributor);
    /// @notice Round `roundId` has no pool to settle: fund it first.
    error PoolNotFunded(uint256 roundId);
    /// @notice Round `roundId` has no settlement batch `batchIndex`.
    error UnknownSettlementBatch(uint256 roundId, uint256 batchIndex);
    /// @notice Batch `batchIndex` of round `roundId` was already released.
    error SettlementBatchAlreadyReleased(uint256 roundId, uint256 batchIndex);
    /// @notice The contributors given are not the ones batch `batchIndex` of round `roundId` settled, in order.
    error SettlementBatchContributorsMismatch(uint256 roundId, uint256 batchIndex);
    /// @notice `contributor` has no royalty credited for round `roundId`.
    error NothingOwed(uint256 roundId, address contributor);
    /// @notice `contributor` already claimed round `roundId`.
    error AlreadyClaimed(uint256 roundId, address contributor);

    /// @notice Encrypted total funded into round `roundId` (publicly decryptable).
    function poolOf(uint256 roundId) external view returns (euint64);

    /// @notice Encrypted part of the pool not yet allocated by accepted batches (publicly decryptable).
    /// When the round is fully settled, 0 proves the shares sum to the pool.
    function unallocatedOf(uint256 roundId) external view returns (euint64);

    /// @notice Encrypted part of the pool not yet paid out to claimers.
    function unclaimedOf(uint256 roundId) external view returns (euint64);

    /// @notice Encrypted amount credited to `contributor` for round `roundId` (decryptable by it only).
    function owedOf(uint256 roundId, address contributor) external view returns (euint64);

    /// @notice Whether `contributor` was settled for round `roundId`.
    function isSettled(uint256 roundId, address contributor) external view returns (bool);

    /// @notice Whether `contributor` claimed round `roundId`.
    function isClaimed(uint256 roundId, address contributor) external view returns (bool);

    /// @notice Batch `batchIndex` of round `roundId`: its encrypted verdict (publicly decryptable), the
    /// keccak256 of its contributors (`abi.encodePacked(address[])`) and whether it was released.
    function settlementBatch(
        uint256 roundId,
        uint256 batchIndex
    ) external view returns (ebool accepted, bytes32 contributorsHash, bool released);

    /// @notice Number of settlement batches recorded for round `roundId`.
    function settlementBatchCount(uint256 roundId) external view returns (uint256);
}
