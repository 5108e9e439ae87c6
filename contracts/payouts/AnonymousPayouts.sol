// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {FHE, ebool, eaddress, euint64, externalEaddress} from "@fhevm/solidity/lib/FHE.sol";
import {ZamaEthereumConfig} from "@fhevm/solidity/config/ZamaConfig.sol";
import {IAnonymousPayouts} from "../interfaces/IAnonymousPayouts.sol";
import {IRoundManager} from "../interfaces/IRoundManager.sol";
import {IRoyaltyDistributor} from "../interfaces/IRoyaltyDistributor.sol";
import {IUsageTerms} from "../interfaces/IUsageTerms.sol";

/**
 * @title AnonymousPayouts
 * @notice Pays a contributor's royalty to a fresh address that nobody can link to it (within the round's sealed set).
 *
 * 1. **Seal.** A contributor who committed to a round seals a payout address it generated (never registered, never
 *    funded from its wallet) as an encrypted `eaddress` input ({sealPayout}); the input proof binds the ciphertext to
 *    this contract and the contributor, so nobody else can submit it. The handle is readable by this contract and
 *    that contributor only. The distributor then refuses the contributor's own `claim` for the round and, when the
 *    custodian settles it, lets this contract use its encrypted share ({isSealed}). A seal stores two slots: the
 *    sealer in the round's list and its handle by sealer.
 * 2. **Claim.** Once the round is finalized and every included contributor is settled (the settlement no longer
 *    open), anyone claims for a clear address `to` ({claim}): the contract scans every settled entry of the round,
 *    `lane = select(eq(payTo_i, to), share_i, lane)` on {LANES} independent lanes (entry `i` on lane `i % LANES`)
 *    so that the dependency depth stays under the fhEVM's 5M HCU, merges the lanes with a bitwise OR (each lane
 *    holds one share or 0; two entries sealing the same address can never get more than their sum), and has the
 *    distributor pay the result through its pool guard with one confidential transfer. A miss pays an encrypted 0:
 *    hit and miss run the same operations, emit the same events and cost the same gas and HCU.
 * 3. **Chunks and several rounds.** A claim may cover several settled rounds of one program (the anonymity set is
 *    the union of their sealed sets) and may be split into chunks of `maxEntries` entries: the running lanes and
 *    per-round subtotals stay in storage (readable by this contract only) and nothing is paid before the chunk that
 *    scans the last entry. Anyone may continue a claim in progress, so a claim cannot be left half done.
 *
 * `to` is marked claimed for each round by the claim's first chunk: a second claim of the same `to` reverts. Claims
 * to registered contributors' addresses are refused (a payout address must be fresh).
 */
contract AnonymousPayouts is IAnonymousPayouts, ZamaEthereumConfig {
    /// @notice Independent select chains of a scan (depth ≈ 117k + 55k · entries / LANES HCU per transaction).
    uint256 public constant LANES = 2;

    /// @dev A claim in progress for one `to`: its rounds, cursors, running lanes and finished rounds' subtotals.
    struct Session {
        bytes32 roundsHash;
        uint32 roundCursor;
        uint32 entryCursor;
        euint64[LANES] lanes;
        euint64[] subtotals;
    }

    /// @dev Where a claim's scan stands: the round (index into its round ids), the entry, the entries left to scan.
    struct Cursor {
        uint256 round;
        uint256 entry;
        uint256 budget;
    }

    /// @notice Rounds and programs (registration of `to`, round phases, included counts).
    IRoundManager public immutable rounds;
    /// @notice The distributor holding the pools and the shares; bound once by its constructor.
    IRoyaltyDistributor public distributor;

    /// @dev Who sealed, in sealing order (the entries of a round), and where each pays (encrypted): two slots a seal.
    mapping(uint256 roundId => address[]) private _sealers;
    mapping(uint256 roundId => mapping(address contributor => eaddress)) private _payTo;
    mapping(uint256 roundId => mapping(address to => bool)) private _claimed;
    mapping(address to => Session) private _sessions;

    constructor(IRoundManager rounds_) {
        rounds = rounds_;
    }

    /// @inheritdoc IAnonymousPayouts
    function bindDistributor() external {
        if (address(distributor) != address(0)) revert DistributorAlreadyBound(address(distributor));
        distributor = IRoyaltyDistributor(msg.sender);
    }

    /// @inheritdoc IAnonymousPayouts
    function sealPayout(
        uint256 roundId,
        externalEaddress payTo,
        bytes calldata inputProof
    ) external returns (uint256 index) {
        IUsageTerms terms = distributor.usageTerms();
        uint256 programId = rounds.round(roundId).programId;
        if (terms.isUsageProgram(programId)) {
            if (!terms.isArtist(programId, msg.sender)) revert NotAnArtist(roundId, msg.sender);
        } else {
            rounds.commitmentIndexOf(roundId, msg.sender); // reverts NotACommitter
        }
        if (FHE.isInitialized(_payTo[roundId][msg.sender])) revert PayoutAlreadySealed(roundId, msg.sender);
        if (distributor.isSettled(roundId, msg.sender)) revert PayoutAfterSettlement(roundId, msg.sender);
        eaddress sealedTo = FHE.fromExternal(payTo, inputProof);
        FHE.allowThis(sealedTo);
        FHE.allow(sealedTo, msg.sender);
        _payTo[roundId][msg.sender] = sealedTo;
        index = _sealers[roundId].length;
        _sealers[roundId].push(msg.sender);
        emit PayoutSealed(roundId, msg.sender, index, sealedTo);
    }

    /// @inheritdoc IAnonymousPayouts
    function claim(address to, uint256[] calldata roundIds, uint256 maxEntries) external returns (bool done) {
        if (maxEntries == 0) revert ZeroMaxEntries();
        Session storage s = _sessions[to];
        bytes32 roundsHash = keccak256(abi.encode(roundIds));
        if (s.roundsHash == bytes32(0)) {
            _start(to, roundIds);
            s.roundsHash = roundsHash;
        } else if (s.roundsHash != roundsHash) {
            revert ClaimInProgress(to, s.roundsHash);
        }

        Cursor memory c = Cursor(s.roundCursor, s.entryCursor, maxEntries);
        euint64[LANES] memory lanes = s.lanes;
        euint64[] memory subtotals = new euint64[](roundIds.length);
        for (uint256 r = 0; r < c.round; ++r) subtotals[r] = s.subtotals[r];
        while (c.round < roundIds.length && c.budget > 0) {
            if (_scan(roundIds[c.round], to, c, lanes)) {
                subtotals[c.round] = _merge(lanes);
                delete lanes;
                ++c.round;
                c.entry = 0;
            }
        }

        done = c.round == roundIds.length;
        if (done) {
            delete _sessions[to]; // the claimed flags refuse a second claim of these rounds
            IRoyaltyDistributor d = distributor;
            for (uint256 r = 0; r < subtotals.length; ++r) FHE.allowTransient(subtotals[r], address(d));
            euint64 paid = d.payAnonymousClaim(to, roundIds, subtotals);
            emit AnonymousClaimPaid(to, roundIds, paid);
        } else {
            _save(s, lanes, subtotals, c);
            emit AnonymousClaimScanned(to, c.round, c.entry);
        }
    }

    /// @inheritdoc IAnonymousPayouts
    function sealedCount(uint256 roundId) external view returns (uint256) {
        return _sealers[roundId].length;
    }

    /// @inheritdoc IAnonymousPayouts
    function sealedEntry(uint256 roundId, uint256 index) external view returns (address contributor, eaddress payTo) {
        contributor = _sealers[roundId][index];
        payTo = _payTo[roundId][contributor];
    }

    /// @inheritdoc IAnonymousPayouts
    function isSealed(uint256 roundId, address contributor) external view returns (bool) {
        return FHE.isInitialized(_payTo[roundId][contributor]);
    }

    /// @inheritdoc IAnonymousPayouts
    function isClaimed(uint256 roundId, address to) external view returns (bool) {
        return _claimed[roundId][to];
    }

    /// @inheritdoc IAnonymousPayouts
    function claimProgress(
        address to
    ) external view returns (bytes32 roundsHash, uint256 roundCursor, uint256 entryCursor) {
        Session storage s = _sessions[to];
        return (s.roundsHash, s.roundCursor, s.entryCursor);
    }

    /// @dev Checks a new claim: a fresh nonzero `to`, settled rounds of one program, none claimed by `to`; marks them.
    function _start(address to, uint256[] calldata roundIds) private {
        if (roundIds.length == 0) revert NoClaimRounds();
        if (to == address(0)) revert ZeroPayoutAddress();
        if (rounds.isRegistered(to)) revert RegisteredPayoutAddress(to);
        IRoyaltyDistributor d = distributor;
        uint256 programId;
        for (uint256 r = 0; r < roundIds.length; ++r) {
            uint256 roundId = roundIds[r];
            IRoundManager.Round memory round = rounds.round(roundId);
            bool settled =
                round.phase == IRoundManager.RoundPhase.Finalized &&
                    d.settlementState(roundId) != IRoyaltyDistributor.SettlementState.Open &&
                    d.settledCount(roundId) == d.payeeCount(roundId);
            if (!settled) revert RoundNotClaimable(roundId);
            if (r == 0) programId = round.programId;
            else if (round.programId != programId) revert MixedPrograms(roundId, round.programId, programId);
            if (_claimed[roundId][to]) revert AlreadyClaimed(roundId, to);
            _claimed[roundId][to] = true;
        }
    }

    /// @dev Scans entries of round `roundId` from `c.entry` within `c.budget` into `lanes`; whether the round is done.
    function _scan(
        uint256 roundId,
        address to,
        Cursor memory c,
        euint64[LANES] memory lanes
    ) private returns (bool roundDone) {
        IRoyaltyDistributor d = distributor;
        address[] storage sealers = _sealers[roundId];
        mapping(address => eaddress) storage payTo = _payTo[roundId];
        uint256 count = sealers.length;
        uint256 end = count - c.entry > c.budget ? c.entry + c.budget : count;
        for (uint256 i = c.entry; i < end; ++i) {
            address contributor = sealers[i];
            euint64 share = d.owedOf(roundId, contributor);
            if (!FHE.isInitialized(share)) continue; // not included: public, and the same for every `to`
            ebool hit = FHE.eq(payTo[contributor], to);
            lanes[i % LANES] = FHE.select(hit, share, lanes[i % LANES]);
        }
        c.budget -= end - c.entry;
        c.entry = end;
        return end == count;
    }

    /// @dev One lane holds a share or 0 (unless one address was sealed twice): OR merges them for 34k HCU per lane,
    /// where an addition would cost 162k, and never exceeds the sum.
    function _merge(euint64[LANES] memory lanes) private returns (euint64 merged) {
        merged = lanes[0];
        for (uint256 lane = 1; lane < LANES; ++lane) merged = FHE.or(merged, lanes[lane]);
        if (!FHE.isInitialized(merged)) merged = FHE.asEuint64(0);
    }

    /// @dev Keeps a claim's progress between chunks; every stored handle is readable by this contract only.
    function _save(
        Session storage s,
        euint64[LANES] memory lanes,
        euint64[] memory subtotals,
        Cursor memory c
    ) private {
        for (uint256 lane = 0; lane < LANES; ++lane) {
            if (FHE.isInitialized(lanes[lane])) FHE.allowThis(lanes[lane]);
            s.lanes[lane] = lanes[lane];
        }
        for (uint256 r = s.subtotals.length; r < c.round; ++r) {
            FHE.allowThis(subtotals[r]);
            s.subtotals.push(subtotals[r]);
        }
        s.roundCursor = uint32(c.round);
        s.entryCursor = uint32(c.entry);
    }
}
