// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {eaddress, euint64, externalEaddress} from "@fhevm/solidity/lib/FHE.sol";

/**
 * @title IAnonymousPayouts
 * @notice Anonymous royalty claims: an included contributor seals a fresh payout address (an encrypted `eaddress`);
 * once its round is settled anyone claims for a clear address `to`, and the contract pays `to` the share of whichever
 * sealed entry names it (an encrypted 0 if none does), without revealing which entry that was.
 */
interface IAnonymousPayouts {
    /// @notice `contributor` sealed an encrypted payout address as entry `index` of round `roundId`.
    event PayoutSealed(uint256 indexed roundId, address indexed contributor, uint256 index, eaddress payTo);

    /**
     * @notice A chunk of the claim for `to` scanned the sealed entries up to entry `entryCursor` of the
     * `roundCursor`-th claimed round; nothing is paid before the last chunk.
     */
    event AnonymousClaimScanned(address indexed to, uint256 roundCursor, uint256 entryCursor);

    /// @notice The claim for `to` over `roundIds` completed; `paid` is the encrypted amount transferred to `to`.
    event AnonymousClaimPaid(address indexed to, uint256[] roundIds, euint64 paid);

    /// @notice `account` is not an artist of round `roundId`'s usage program: only artists seal payouts there.
    error NotAnArtist(uint256 roundId, address account);
    /// @notice `contributor` already sealed a payout address for round `roundId`.
    error PayoutAlreadySealed(uint256 roundId, address contributor);
    /// @notice `contributor` is already settled for round `roundId`: a payout must be sealed before settlement.
    error PayoutAfterSettlement(uint256 roundId, address contributor);
    /// @notice The distributor was already bound (to `distributor`).
    error DistributorAlreadyBound(address distributor);
    /// @notice `caller` is not the distributor this contract serves.
    error NotDistributor(address caller);
    /// @notice A claim needs at least one round.
    error NoClaimRounds();
    /// @notice A claim chunk must scan at least one entry.
    error ZeroMaxEntries();
    /// @notice Anonymous payouts go to a nonzero address.
    error ZeroPayoutAddress();
    /// @notice `to` is a registered contributor: anonymous payouts go to fresh addresses only.
    error RegisteredPayoutAddress(address to);
    /// @notice Round `roundId` is not claimable yet: it must be finalized and every included contributor settled,
    /// with the settlement no longer open.
    error RoundNotClaimable(uint256 roundId);
    /// @notice Round `roundId` belongs to program `programId`, not to `expectedProgramId` like the claim's first round.
    error MixedPrograms(uint256 roundId, uint256 programId, uint256 expectedProgramId);
    /// @notice `to` already claimed round `roundId` (or a claim of it is in progress).
    error AlreadyClaimed(uint256 roundId, address to);
    /// @notice A claim for `to` over other rounds (`roundsHash`) is in progress: finish it first.
    error ClaimInProgress(address to, bytes32 roundsHash);

    /**
     * @notice Seals the caller's payout address for round `roundId`: an encrypted address input for this contract and
     * the caller. The caller must have committed to the round, not be settled yet, and seal once; from then on its
     * royalty of the round is paid only through {claim}. (A seal in a round that ends up cancelled is harmless.)
     * @return index The entry's index among the round's sealed payouts.
     */
    function sealPayout(
        uint256 roundId,
        externalEaddress payTo,
        bytes calldata inputProof
    ) external returns (uint256 index);

    /**
     * @notice Scans up to `maxEntries` sealed entries of the claim of `to` over `roundIds` (all of one program, all
     * settled); the chunk that scans the last entry pays `to` the sum, over the rounds, of the shares of the entries
     * sealing `to`. Anyone may call; the first chunk marks `to` as claimed for every round.
     * @return done Whether this call paid (the claim is complete).
     */
    function claim(address to, uint256[] calldata roundIds, uint256 maxEntries) external returns (bool done);

    /// @notice Binds the distributor whose shares this contract pays: called once, by the distributor's constructor.
    function bindDistributor() external;

    /// @notice Number of sealed payout entries of round `roundId` (the anonymity set, before exclusions).
    function sealedCount(uint256 roundId) external view returns (uint256);

    /// @notice Entry `index` of round `roundId`: who sealed it and the encrypted payout address (readable by that
    /// contributor only).
    function sealedEntry(uint256 roundId, uint256 index) external view returns (address contributor, eaddress payTo);

    /// @notice Whether `contributor` sealed a payout address for round `roundId` (the distributor then refuses its
    /// direct claim and lets this contract read its share).
    function isSealed(uint256 roundId, address contributor) external view returns (bool);

    /// @notice Whether a claim for `to` covered (or covers, in progress) round `roundId`.
    function isClaimed(uint256 roundId, address to) external view returns (bool);

    /// @notice Progress of the claim in progress for `to`: keccak256 of its round ids (`abi.encode(uint256[])`), the
    /// round and entry cursors; zero hash when none.
    function claimProgress(
        address to
    ) external view returns (bytes32 roundsHash, uint256 roundCursor, uint256 entryCursor);
}
