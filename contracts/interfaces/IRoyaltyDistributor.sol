// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {ebool, euint64} from "@fhevm/solidity/lib/FHE.sol";
import {IRoundManager} from "./IRoundManager.sol";
import {IUsageTerms} from "./IUsageTerms.sol";

/**
 * @title IRoyaltyDistributor
 * @notice Confidential royalty pools per round, settled by the program's key custodian into per-contributor
 * encrypted owed amounts that contributors claim (pull payments). The network recovers what a round does not pay out.
 */
interface IRoyaltyDistributor {
    /**
     * @notice Settlement of a round's pool. `Open`: funding and settlement batches are accepted. `Completed`: the
     * custodian declared the last batch; the unallocated remainder is public. `Recovered`: the network took back the
     * unallocated remainder (of a completed, cancelled or overdue round); nothing more is funded or settled.
     */
    enum SettlementState {
        Open,
        Completed,
        Recovered
    }

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

    /// @notice The custodian declared the settlement of round `roundId` complete; `unallocated` (publicly decryptable
    /// from now on) is what the accepted shares left of the pool: 0 proves they sum to the pool.
    event SettlementCompleted(uint256 indexed roundId, euint64 unallocated);

    /// @notice `network` recovered the encrypted `amount` (publicly decryptable) of round `roundId`'s pool.
    event PoolRecovered(uint256 indexed roundId, address indexed network, euint64 amount);

    /// @notice Round `roundId` is in phase `phase`; settling needs a finalized round.
    error RoundNotFinalized(uint256 roundId, IRoundManager.RoundPhase phase);
    /// @notice `caller` is not the custodian of program `programId`.
    error NotProgramCustodian(uint256 programId, address caller);
    /// @notice `caller` is not the network of program `programId`.
    error NotProgramNetwork(uint256 programId, address caller);
    /// @notice Round `roundId` takes no more funding: it was cancelled or its settlement is no longer open.
    error PoolClosed(uint256 roundId);
    /// @notice The settlement of round `roundId` is in state `state`; the call needs it open.
    error SettlementClosed(uint256 roundId, SettlementState state);
    /// @notice Round `roundId` has `included` included contributors but only `settled` are settled.
    error SettlementIncomplete(uint256 roundId, uint256 settled, uint256 included);
    /// @notice The pool of round `roundId` (phase `phase`, settlement `state`) cannot be recovered (yet): only when the
    /// round was cancelled, its settlement completed, or its settlement deadline passed.
    error PoolNotRecoverable(uint256 roundId, IRoundManager.RoundPhase phase, SettlementState state);
    /// @notice A settlement batch of round `roundId` needs at least one contributor.
    error EmptySettlement(uint256 roundId);
    /// @notice `contributors` addresses were given with `shares` shares.
    error SettlementLengthMismatch(uint256 contributors, uint256 shares);
    /// @notice Shares come in input proofs of at most `SHARES_PER_PROOF` each: `expected` proofs, got `actual`.
    error InputProofCountMismatch(uint256 expected, uint256 actual);
    /// @notice `contributor` is not a payee of round `roundId`: it did not commit or was excluded by the coprocessor,
    /// or, in a usage program, it is not one of the program's artists (the operator never is).
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
    /// @notice Usage period `roundId` counts `generations` generations (its operator's included report), below the
    /// terms' minimum `minimum`: it cannot be settled (the network recovers its pool after the settlement deadline).
    error TooFewGenerations(uint256 roundId, uint64 generations, uint64 minimum);
    /// @notice `contributor` has no royalty credited for round `roundId`.
    error NothingOwed(uint256 roundId, address contributor);
    /// @notice `contributor` already claimed round `roundId`.
    error AlreadyClaimed(uint256 roundId, address contributor);

    /// @notice `caller` is not the anonymous payouts contract bound to this distributor.
    error NotAnonymousPayouts(address caller);
    /// @notice `contributor` sealed a payout address for round `roundId`: its royalty is paid only to that address,
    /// through the anonymous payouts contract.
    error PayoutSealed(uint256 roundId, address contributor);
    /// @notice `amounts` has `actual` entries where the claim covers `expected` rounds.
    error ClaimLengthMismatch(uint256 expected, uint256 actual);

    /**
     * @notice Pays `to` the sum over `roundIds` of `amounts` (one per round, each allowed to this contract), each
     * through the round's pool guard (paid only if covered by the round's unclaimed pool, else 0), in one
     * confidential transfer of the program's token. Only the anonymous payouts contract.
     * @return paid Encrypted amount transferred.
     */
    function payAnonymousClaim(
        address to,
        uint256[] calldata roundIds,
        euint64[] calldata amounts
    ) external returns (euint64 paid);

    /// @notice The usage programs' terms this distributor pays by.
    function usageTerms() external view returns (IUsageTerms);

    /// @notice How many accounts round `roundId` pays: its included contributors, or a usage program's artists.
    function payeeCount(uint256 roundId) external view returns (uint256);

    /// @notice Whether `account` may be settled in round `roundId` (an included contributor, or a usage program's
    /// artist).
    function isPayee(uint256 roundId, address account) external view returns (bool);

    /// @notice Encrypted total funded into round `roundId` (publicly decryptable).
    function poolOf(uint256 roundId) external view returns (euint64);

    /// @notice Encrypted part of the pool not yet allocated by accepted batches (publicly decryptable once the
    /// settlement is completed: 0 then proves the shares sum to the pool; 0 after a recovery).
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

    /// @notice Number of contributors of round `roundId` settled (in batches not released).
    function settledCount(uint256 roundId) external view returns (uint256);

    /// @notice Settlement state of round `roundId`.
    function settlementState(uint256 roundId) external view returns (SettlementState);
}
