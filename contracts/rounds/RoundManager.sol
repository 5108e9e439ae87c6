// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {IRoundManager} from "../interfaces/IRoundManager.sol";
import {ContributorRegistry} from "../registry/ContributorRegistry.sol";
import {ProgramRegistry} from "../programs/ProgramRegistry.sol";

/**
 * @title RoundManager
 * @notice The CipherShare hub: contributor registry, royalty programs and their contribution rounds in one contract.
 *
 * A round of a program (opened by its network once the program's custodian has accepted it):
 * - Open: registered contributors commit a seal of their encrypted update's hash, `keccak256(abi.encode(
 *   ciphertextHash, contributor))`, and its sample count, paying the program's deposit. Nothing anyone could copy is
 *   on-chain or in the store yet.
 * - Reveal (after the commit deadline, until the reveal deadline): each committer reveals its ciphertext hash (checked
 *   against its seal) and the storage URI, then uploads the ciphertext. A hash revealed before, in this round or any
 *   earlier round of any program, marks the commitment Duplicate.
 * - Anyone closes the round after the reveal deadline: Closed, or Cancelled when fewer commitments than the program's
 *   minimum were revealed.
 * - The coprocessor publishes its results: output hashes, the inputs it used (checked on-chain against the revealed
 *   hashes) and one exclusion reason byte per commitment. Each publication has a number; only the standing one counts.
 * - During the dispute window anyone may challenge; the network resolves. Upheld: the publication is discarded and the
 *   coprocessor publishes again. Rejected: the original dispute deadline stands.
 * - Anyone finalizes after the dispute window: Finalized, or Cancelled when fewer contributions than the minimum were
 *   included. The custodian decrypts only finalized rounds and anchors its release record ({anchorRelease}).
 * - A round not finalized by its expiry (reveal deadline + the program's recovery period) can be cancelled by anyone.
 * - Deposits: refunded to included contributors (and to every valid reveal when a round is cancelled before or
 *   without a standing judgement), forfeited to the network otherwise.
 *
 * @dev Gas: `commitContribution` reads and writes the round's first slot once and writes two new slots (the seal and
 * index by contributor; the contributor and sample count by index). `publishResults` reads one packed status word and
 * stores at most one packed reason word per 32 commitments, and one revealed hash per included commitment.
 */
contract RoundManager is IRoundManager, ContributorRegistry, ProgramRegistry {
    /// @dev Per (round, contributor): the first 28 bytes of its seal and its commitment index (one slot).
    struct Entry {
        bytes28 seal;
        uint32 index;
    }

    /// @dev Per (round, index): who committed and its sample count (one slot).
    struct CommitSlot {
        address contributor;
        uint64 sampleCount;
    }

    /// @dev Where a ciphertext hash was first revealed.
    struct RevealRef {
        uint64 roundId;
        uint32 index;
    }

    /// @dev Status bytes: the low bits hold a {CommitmentStatus}, this bit marks a withdrawn deposit.
    uint256 private constant _DEPOSIT_WITHDRAWN = 0x80;
    uint256 private constant _STATUS_MASK = 0x7f;

    mapping(uint256 roundId => Round) private _rounds;
    uint256 private _roundCount;
    mapping(uint256 roundId => mapping(address contributor => Entry)) private _entries;
    mapping(uint256 roundId => mapping(uint256 index => CommitSlot)) private _commitSlots;
    mapping(uint256 roundId => mapping(uint256 index => bytes32)) private _ciphertextHashes;
    /// @dev One status byte per commitment, 32 per word, byte `i % 32` of word `i / 32` (big-endian, like calldata).
    mapping(uint256 roundId => mapping(uint256 word => uint256)) private _statusWords;
    /// @dev One reason byte per commitment per publication, packed like `_statusWords`; all-zero words are not stored.
    mapping(uint256 roundId => mapping(uint256 publication => mapping(uint256 word => uint256))) private _reasonWords;
    mapping(bytes32 ciphertextHash => RevealRef) private _firstReveals;

    /**
     * @notice Opens a round of active program `programId`; only its network.
     * @param baseModelHash Hash of the model (round manifest) contributors train on.
     * @param commitDeadline Last timestamp contributions are committed; must be in the future.
     * @param revealWindow Seconds after the commit deadline during which commitments are revealed; not zero.
     * @param disputeWindow Seconds auditors get to challenge each publication; not zero, shorter than the program's
     * recovery period.
     * @return roundId Id of the new round (ids are global across programs and start at 1).
     */
    function openRound(
        uint256 programId,
        bytes32 baseModelHash,
        uint64 commitDeadline,
        uint32 revealWindow,
        uint32 disputeWindow
    ) external returns (uint256 roundId) {
        Program storage p = _checkNetwork(programId);
        if (!_isActive(programId)) revert ProgramNotActive(programId);
        if (commitDeadline <= block.timestamp) revert CommitDeadlineNotInFuture(commitDeadline, block.timestamp);
        if (revealWindow == 0) revert ZeroRevealWindow();
        if (disputeWindow == 0) revert ZeroDisputeWindow();
        if (disputeWindow >= p.recoveryPeriod) revert DisputeWindowTooLong(disputeWindow, p.recoveryPeriod);
        roundId = ++_roundCount;
        Round storage r = _rounds[roundId];
        uint64 revealDeadline = commitDeadline + revealWindow;
        r.phase = RoundPhase.Open;
        r.commitDeadline = commitDeadline;
        r.maxCommitments = p.maxCommitments;
        r.commitDeposit = p.commitDeposit;
        r.programId = uint64(programId);
        r.revealDeadline = revealDeadline;
        r.minContributors = p.minContributors;
        r.expiresAt = revealDeadline + p.recoveryPeriod;
        r.disputeWindow = disputeWindow;
        r.baseModelHash = baseModelHash;
        emit RoundOpened(roundId, programId, baseModelHash, commitDeadline, revealDeadline, disputeWindow);
    }

    /**
     * @notice Commits the caller's encrypted contribution to round `roundId`, sealed: once per round, until the commit
     * deadline, only registered contributors, with exactly the round's deposit, within the round's cap.
     * @param seal `keccak256(abi.encode(ciphertextHash, msg.sender))`, where `ciphertextHash` is the hash of the
     * encrypted model update (CKKS, under the program's public key). Only its first 28 bytes are kept.
     * @param sampleCount Number of training samples behind the update (FedAvg weight); not zero.
     */
    function commitContribution(uint256 roundId, bytes32 seal, uint64 sampleCount) external payable {
        Round storage r = _rounds[roundId];
        uint256 word = _firstSlot(r);
        RoundPhase phase = RoundPhase(uint8(word));
        if (phase != RoundPhase.Open) {
            if (phase == RoundPhase.None) revert RoundNotFound(roundId);
            revert RoundWrongPhase(roundId, phase, RoundPhase.Open);
        }
        uint64 commitDeadline = uint64(word >> _DEADLINE_OFFSET);
        if (block.timestamp > commitDeadline) revert CommitDeadlinePassed(roundId, commitDeadline, block.timestamp);
        uint256 deposit = uint96(word >> _DEPOSIT_OFFSET);
        if (msg.value != deposit) revert WrongCommitDeposit(roundId, deposit, msg.value);
        if (bytes28(seal) == bytes28(0)) revert ZeroSeal();
        if (sampleCount == 0) revert ZeroSampleCount();
        uint32 index = uint32(word >> _COMMIT_COUNT_OFFSET);
        uint32 cap = uint32(word >> _CAP_OFFSET);
        if (index >= cap) revert CommitmentCapReached(roundId, cap);
        if (!_isRegistered(msg.sender)) revert ContributorNotRegistered(msg.sender);
        Entry storage entry = _entries[roundId][msg.sender];
        if (entry.seal != bytes28(0)) revert AlreadyCommitted(roundId, msg.sender);
        _entries[roundId][msg.sender] = Entry(bytes28(seal), index);
        // The count is below the cap (at most MAX_COMMITMENTS_LIMIT), so adding in place never carries over.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            sstore(r.slot, add(word, shl(_COMMIT_COUNT_OFFSET, 1)))
        }
        _commitSlots[roundId][index] = CommitSlot(msg.sender, sampleCount);
        emit ContributionCommitted(roundId, msg.sender, index, seal, sampleCount);
    }

    /**
     * @notice Reveals the caller's commitment to round `roundId` during its reveal phase (after the commit deadline,
     * until the reveal deadline). A hash revealed before, anywhere, makes the commitment a Duplicate (it stays
     * revealed, and is excluded from every publication).
     * @param ciphertextHash The hash sealed at commit time.
     * @param uri Where the ciphertext is stored (uploaded after this call); emitted only.
     */
    function revealContribution(uint256 roundId, bytes32 ciphertextHash, string calldata uri) external {
        Round storage r = _round(roundId);
        if (_phaseOf(r) != RoundPhase.Reveal) revert RoundWrongPhase(roundId, _phaseOf(r), RoundPhase.Reveal);
        if (block.timestamp > r.revealDeadline) {
            revert RevealDeadlinePassed(roundId, r.revealDeadline, block.timestamp);
        }
        if (ciphertextHash == bytes32(0)) revert ZeroCiphertextHash();
        Entry memory entry = _entries[roundId][msg.sender];
        if (entry.seal == bytes28(0)) revert NotACommitter(roundId, msg.sender);
        uint256 index = entry.index;
        if (_statusByte(roundId, index) != uint8(CommitmentStatus.Sealed)) {
            revert AlreadyRevealed(roundId, msg.sender);
        }
        if (bytes28(keccak256(abi.encode(ciphertextHash, msg.sender))) != entry.seal) {
            revert SealMismatch(roundId, msg.sender, ciphertextHash);
        }

        _ciphertextHashes[roundId][index] = ciphertextHash;
        RevealRef memory first = _firstReveals[ciphertextHash];
        CommitmentStatus status;
        if (first.roundId == 0) {
            _firstReveals[ciphertextHash] = RevealRef(uint64(roundId), uint32(index));
            ++r.revealedCount;
            status = CommitmentStatus.Revealed;
        } else {
            ++r.duplicateCount;
            status = CommitmentStatus.Duplicate;
            emit DuplicateRevealed(roundId, index, ciphertextHash, first.roundId, first.index);
        }
        _statusWords[roundId][index >> 5] |= uint256(status) << _byteShift(index);
        emit ContributionRevealed(roundId, msg.sender, index, ciphertextHash, uri);
    }

    /**
     * @notice Closes round `roundId` once its reveal deadline has passed; anyone may call. Cancels it
     * ({CancelReason-TooFewRevealed}) when fewer commitments than the program's minimum were revealed.
     */
    function closeRound(uint256 roundId) external {
        Round storage r = _round(roundId);
        RoundPhase phase = _phaseOf(r);
        if (phase != RoundPhase.Reveal) revert RoundWrongPhase(roundId, phase, RoundPhase.Reveal);
        if (block.timestamp <= r.revealDeadline) {
            revert RevealDeadlineNotReached(roundId, r.revealDeadline, block.timestamp);
        }
        if (r.revealedCount < r.minContributors) {
            _cancel(roundId, r, CancelReason.TooFewRevealed);
        } else {
            r.phase = RoundPhase.Closed;
            emit RoundClosed(roundId, r.commitCount, r.revealedCount);
        }
    }

    /**
     * @notice Publishes the results of closed round `roundId` as a new publication; only the program's coprocessor.
     * Starts the dispute window.
     * @param aggregateHash Hash of the aggregate output (the encrypted aggregated model update).
     * @param scoresHash Hash of the encrypted score output.
     * @param inputsHash keccak256(abi.encodePacked(ciphertext hashes of the included contributions, in commit
     * order)); checked against the revealed hashes, reverts with {InputsHashMismatch} naming the expected value.
     * @param reasons One {ExclusionReason} byte per commitment, in commit order (0: included). Unrevealed commitments
     * must be `Unrevealed`, duplicates `Duplicate`; revealed ones `None`, `BlobMissing`, `HashMismatch`, `Malformed`
     * or `Policy`.
     */
    function publishResults(
        uint256 roundId,
        bytes32 aggregateHash,
        bytes32 scoresHash,
        bytes32 inputsHash,
        bytes calldata reasons
    ) external {
        Round storage r = _roundIn(roundId, RoundPhase.Closed);
        uint256 programId = r.programId;
        if (msg.sender != _program(programId).coprocessor) revert NotProgramCoprocessor(programId, msg.sender);
        uint256 commitCount = r.commitCount;
        if (reasons.length != commitCount) {
            revert ExclusionReasonsLengthMismatch(roundId, commitCount, reasons.length);
        }

        uint32 publication = r.publicationCount + 1;
        (uint256 includedCount, bytes32 expected) = _recordReasons(roundId, publication, reasons);
        if (expected != inputsHash) revert InputsHashMismatch(roundId, expected, inputsHash);

        uint64 disputeDeadline = uint64(block.timestamp) + r.disputeWindow;
        r.publicationCount = publication;
        r.publication = publication;
        r.includedCount = uint32(includedCount);
        r.disputeDeadline = disputeDeadline;
        r.aggregateHash = aggregateHash;
        r.scoresHash = scoresHash;
        r.inputsHash = inputsHash;
        r.phase = RoundPhase.ResultsPublished;
        _emitResultsPublished(roundId, r, reasons);
    }

    /**
     * @notice Challenges the standing publication of round `roundId` during its dispute window; anyone may call.
     * Blocks finalization until the network resolves it; one challenge at a time.
     * @param evidenceHash Hash of the evidence (e.g. a recomputed aggregate that differs).
     * @param evidenceURI Where the evidence is; emitted only.
     */
    function challengeResults(uint256 roundId, bytes32 evidenceHash, string calldata evidenceURI) external {
        Round storage r = _roundIn(roundId, RoundPhase.ResultsPublished);
        if (block.timestamp > r.disputeDeadline) {
            revert DisputeWindowClosed(roundId, r.disputeDeadline, block.timestamp);
        }
        r.phase = RoundPhase.Challenged;
        r.challenger = msg.sender;
        emit ResultsChallenged(roundId, r.publication, msg.sender, evidenceHash, evidenceURI);
    }

    /**
     * @notice Resolves the pending challenge of round `roundId`; only the program's network.
     * @param upheld True: the standing publication is discarded (its outputs and exclusions no longer count; it stays
     * readable by number) and the round is Closed again for the coprocessor's next publication. False: the round
     * returns to ResultsPublished with its original dispute deadline (finalizable at once if that has passed).
     */
    function resolveChallenge(uint256 roundId, bool upheld) external {
        Round storage r = _roundIn(roundId, RoundPhase.Challenged);
        _checkNetwork(r.programId);
        address challenger = r.challenger;
        uint256 publication = r.publication;
        r.challenger = address(0);
        if (upheld) {
            r.publication = 0;
            r.includedCount = 0;
            r.disputeDeadline = 0;
            r.aggregateHash = bytes32(0);
            r.scoresHash = bytes32(0);
            r.inputsHash = bytes32(0);
            r.phase = RoundPhase.Closed;
        } else {
            r.phase = RoundPhase.ResultsPublished;
        }
        emit ChallengeResolved(roundId, publication, challenger, upheld);
    }

    /**
     * @notice Concludes round `roundId` once the dispute window of its standing publication has passed
     * unchallenged; anyone may call. Finalized (its settlement deadline starts), or Cancelled
     * ({CancelReason-TooFewIncluded}) when the publication included fewer contributions than the program's minimum.
     */
    function finalizeRound(uint256 roundId) external {
        Round storage r = _roundIn(roundId, RoundPhase.ResultsPublished);
        if (block.timestamp <= r.disputeDeadline) {
            revert DisputeWindowOpen(roundId, r.disputeDeadline, block.timestamp);
        }
        if (r.includedCount < r.minContributors) {
            _cancel(roundId, r, CancelReason.TooFewIncluded);
            return;
        }
        r.phase = RoundPhase.Finalized;
        r.settlementDeadline = uint64(block.timestamp) + _program(r.programId).recoveryPeriod;
        emit RoundFinalized(roundId, r.publication);
    }

    /**
     * @notice Cancels round `roundId` ({CancelReason-Expired}) when it was not finalized by its expiry; anyone may
     * call. Not for a round whose publication stood through its dispute window (finalize it instead).
     */
    function expireRound(uint256 roundId) external {
        Round storage r = _round(roundId);
        RoundPhase phase = r.phase;
        if (phase == RoundPhase.Finalized || phase == RoundPhase.Cancelled) revert RoundAlreadyFinal(roundId, phase);
        if (block.timestamp <= r.expiresAt) revert RoundNotExpired(roundId, r.expiresAt, block.timestamp);
        if (phase == RoundPhase.ResultsPublished && block.timestamp > r.disputeDeadline) {
            revert RoundFinalizable(roundId);
        }
        r.challenger = address(0);
        _cancel(roundId, r, CancelReason.Expired);
    }

    /**
     * @notice Anchors the release record of finalized round `roundId` (what the custodian released from the standing
     * publication: the global model's hash, Σφ, ...); only a custodian of the program, once per round.
     */
    function anchorRelease(uint256 roundId, bytes32 releaseHash) external {
        Round storage r = _roundIn(roundId, RoundPhase.Finalized);
        _checkCustodian(r.programId);
        if (releaseHash == bytes32(0)) revert ZeroReleaseHash();
        if (r.releaseHash != bytes32(0)) revert ReleaseAlreadyAnchored(roundId, r.releaseHash);
        r.releaseHash = releaseHash;
        emit ReleaseAnchored(roundId, r.publication, releaseHash);
    }

    /// @notice Refunds the caller's deposit for concluded round `roundId` when its contribution was not judged at
    /// fault (see {isDepositRefundable}).
    function withdrawDeposit(uint256 roundId) external {
        Round storage r = _round(roundId);
        uint256 amount = r.commitDeposit;
        if (amount == 0) revert NoCommitDeposit(roundId);
        uint256 index = _indexOf(roundId, msg.sender);
        uint256 statusByte = _statusByte(roundId, index);
        if (statusByte & _DEPOSIT_WITHDRAWN != 0) revert DepositAlreadyWithdrawn(roundId, msg.sender);
        if (!_refundable(roundId, r, index, statusByte)) revert DepositForfeited(roundId, msg.sender);
        _statusWords[roundId][index >> 5] |= _DEPOSIT_WITHDRAWN << _byteShift(index);
        emit DepositRefunded(roundId, msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    /**
     * @notice Sends the forfeited deposits of concluded round `roundId` to the program's network; only the network,
     * once. Forfeited: every commitment that is not refundable (see {isDepositRefundable}).
     */
    function collectForfeitedDeposits(uint256 roundId) external {
        Round storage r = _round(roundId);
        Program storage p = _checkNetwork(r.programId);
        uint256 deposit = r.commitDeposit;
        if (deposit == 0) revert NoCommitDeposit(roundId);
        if (r.depositsCollected) revert ForfeitedDepositsAlreadyCollected(roundId);
        uint256 forfeited = r.commitCount - _refundableCount(roundId, r);
        r.depositsCollected = true;
        emit ForfeitedDepositsCollected(roundId, p.network, forfeited, forfeited * deposit);
        Address.sendValue(payable(p.network), forfeited * deposit);
    }

    /// @inheritdoc IRoundManager
    function roundCount() external view returns (uint256) {
        return _roundCount;
    }

    /// @inheritdoc IRoundManager
    function round(uint256 roundId) external view returns (Round memory view_) {
        Round storage r = _round(roundId);
        view_ = r;
        view_.phase = _phaseOf(r);
    }

    /// @inheritdoc IRoundManager
    function commitmentOf(uint256 roundId, address contributor) external view returns (bytes32) {
        Entry storage entry = _entries[roundId][contributor];
        if (entry.seal == bytes28(0)) return bytes32(0);
        return _ciphertextHashes[roundId][entry.index];
    }

    /// @inheritdoc IRoundManager
    function commitmentIndexOf(uint256 roundId, address contributor) external view returns (uint256) {
        return _indexOf(roundId, contributor);
    }

    /// @inheritdoc IRoundManager
    function commitmentAt(uint256 roundId, uint256 index) external view returns (Commitment memory) {
        uint256 commitCount = _round(roundId).commitCount;
        if (index >= commitCount) revert CommitmentIndexOutOfBounds(roundId, index, commitCount);
        return _commitmentAt(roundId, index);
    }

    /// @inheritdoc IRoundManager
    /// @dev Returns at most `limit` commitments from `offset`, fewer at the end of the list (none past it).
    function commitments(
        uint256 roundId,
        uint256 offset,
        uint256 limit
    ) external view returns (Commitment[] memory page) {
        uint256 commitCount = _round(roundId).commitCount;
        uint256 size = offset >= commitCount ? 0 : _min(limit, commitCount - offset);
        page = new Commitment[](size);
        for (uint256 i = 0; i < size; ++i) page[i] = _commitmentAt(roundId, offset + i);
    }

    /// @inheritdoc IRoundManager
    function firstRevealOf(bytes32 ciphertextHash) external view returns (uint256 roundId, uint256 index) {
        RevealRef storage first = _firstReveals[ciphertextHash];
        return (first.roundId, first.index);
    }

    /// @inheritdoc IRoundManager
    function exclusionOf(uint256 roundId, address contributor) external view returns (ExclusionReason) {
        Entry storage entry = _entries[roundId][contributor];
        uint256 publication = _rounds[roundId].publication;
        if (entry.seal == bytes28(0) || publication == 0) return ExclusionReason.None;
        return ExclusionReason(_reasonOf(roundId, publication, entry.index));
    }

    /// @inheritdoc IRoundManager
    function exclusionReasons(uint256 roundId, uint256 publication) external view returns (bytes memory reasons) {
        Round storage r = _round(roundId);
        if (publication == 0 || publication > r.publicationCount) {
            revert PublicationNotFound(roundId, publication, r.publicationCount);
        }
        reasons = new bytes(r.commitCount);
        for (uint256 i = 0; i < reasons.length; ++i) reasons[i] = bytes1(uint8(_reasonOf(roundId, publication, i)));
    }

    /// @inheritdoc IRoundManager
    function isIncluded(uint256 roundId, address contributor) external view returns (bool) {
        Entry storage entry = _entries[roundId][contributor];
        uint256 publication = _rounds[roundId].publication;
        return entry.seal != bytes28(0) && publication != 0 && _reasonOf(roundId, publication, entry.index) == 0;
    }

    /// @inheritdoc IRoundManager
    function isDepositRefundable(uint256 roundId, address contributor) external view returns (bool) {
        Round storage r = _rounds[roundId];
        Entry storage entry = _entries[roundId][contributor];
        if (r.commitDeposit == 0 || entry.seal == bytes28(0) || !_isConcluded(r)) return false;
        uint256 statusByte = _statusByte(roundId, entry.index);
        return statusByte & _DEPOSIT_WITHDRAWN == 0 && _refundable(roundId, r, entry.index, statusByte);
    }

    /// @dev Bit offsets of the fields `commitContribution` needs in the first slot of a {Round} (Solidity packs
    /// struct members from the low-order bits): phase 0, commitDeadline 8, commitCount 72, maxCommitments 104,
    /// commitDeposit 136. Reading the slot once and adding to it in place keeps commitments cheap.
    uint256 private constant _DEADLINE_OFFSET = 8;
    uint256 private constant _COMMIT_COUNT_OFFSET = 72;
    uint256 private constant _CAP_OFFSET = 104;
    uint256 private constant _DEPOSIT_OFFSET = 136;

    function _firstSlot(Round storage r) private view returns (uint256 word) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            word := sload(r.slot)
        }
    }

    /**
     * @dev Checks `reasons` against the commitments' statuses, stores the non-zero reason words of `publication` and
     * hashes the included commitments' ciphertext hashes in commit order. Works a 32-byte word at a time: calldata
     * words of `reasons` have the same layout as the stored status and reason words.
     */
    function _recordReasons(
        uint256 roundId,
        uint256 publication,
        bytes calldata reasons
    ) private returns (uint256 includedCount, bytes32 inputsHash) {
        mapping(uint256 => uint256) storage reasonWords = _reasonWords[roundId][publication];
        uint256 count = reasons.length;
        bytes32[] memory included = new bytes32[](count);
        for (uint256 start = 0; start < count; start += 32) {
            uint256 end = _min(count, start + 32);
            uint256 reasonWord = _reasonWordAt(reasons, start, end - start);
            includedCount = _collectIncluded(roundId, start, end, reasonWord, included, includedCount);
            if (reasonWord != 0) reasonWords[start >> 5] = reasonWord;
        }
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            inputsHash := keccak256(add(included, 0x20), shl(5, includedCount))
        }
    }

    /// @dev Checks the reasons of commitments `start` to `end` (one word) against their statuses and appends the
    /// ciphertext hashes of the included ones to `included`; returns the new number of included hashes. The loop is
    /// in assembly because it runs once per commitment (thousands per publication): measured on 2,000 commitments it
    /// saves about 240 gas per commitment (7 %) over the same loop in Solidity. On an invalid reason it stops, and
    /// {_checkReason} reverts naming it.
    function _collectIncluded(
        uint256 roundId,
        uint256 start,
        uint256 end,
        uint256 reasonWord,
        bytes32[] memory included,
        uint256 includedCount
    ) private view returns (uint256) {
        uint256 statusWord = _statusWords[roundId][start >> 5];
        mapping(uint256 => bytes32) storage hashes = _ciphertextHashes[roundId];
        uint256 invalidAt;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let data := add(included, 0x20)
            for {
                let i := start
            } lt(i, end) {
                i := add(i, 1)
            } {
                let shift := shl(3, sub(31, and(i, 31)))
                let reason := and(shr(shift, reasonWord), 0xff)
                let status := and(shr(shift, statusWord), _STATUS_MASK)
                // Revealed: None (0) to Policy (4); Duplicate (status 2): Duplicate (5); Sealed (0): Unrevealed (6).
                let valid := or(
                    or(and(eq(status, 1), lt(reason, 5)), and(eq(status, 2), eq(reason, 5))),
                    and(iszero(status), eq(reason, 6))
                )
                if iszero(valid) {
                    invalidAt := add(i, 1)
                    break
                }
                if iszero(reason) {
                    mstore(0x00, i)
                    mstore(0x20, hashes.slot)
                    mstore(add(data, shl(5, includedCount)), sload(keccak256(0x00, 0x40)))
                    includedCount := add(includedCount, 1)
                }
            }
        }
        if (invalidAt != 0) {
            uint256 index = invalidAt - 1;
            uint256 shift = _byteShift(index);
            _checkReason(roundId, index, (reasonWord >> shift) & 0xff, (statusWord >> shift) & _STATUS_MASK);
        }
        return includedCount;
    }

    /// @dev The calldata word of `reasons` from byte `start`, with the bytes past its `length` (at most 32) cleared.
    function _reasonWordAt(bytes calldata reasons, uint256 start, uint256 length) private pure returns (uint256 word) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            word := calldataload(add(reasons.offset, start))
        }
        if (length < 32) word &= ~(type(uint256).max >> (length * 8));
    }

    function _checkReason(uint256 roundId, uint256 index, uint256 reason, uint256 status) private pure {
        bool valid;
        if (status == uint8(CommitmentStatus.Revealed)) valid = reason <= uint8(ExclusionReason.Policy);
        else if (status == uint8(CommitmentStatus.Duplicate)) valid = reason == uint8(ExclusionReason.Duplicate);
        else valid = reason == uint8(ExclusionReason.Unrevealed);
        if (!valid) revert InvalidExclusionReason(roundId, index, uint8(reason), CommitmentStatus(status));
    }

    /// @dev Emits {ResultsPublished} from the stored round (too many values for one stack frame of the caller).
    function _emitResultsPublished(uint256 roundId, Round storage r, bytes calldata reasons) private {
        emit ResultsPublished(
            roundId,
            r.publication,
            r.aggregateHash,
            r.scoresHash,
            r.inputsHash,
            r.includedCount,
            r.disputeDeadline,
            reasons
        );
    }

    function _cancel(uint256 roundId, Round storage r, CancelReason reason) private {
        r.phase = RoundPhase.Cancelled;
        r.cancelReason = reason;
        emit RoundCancelled(roundId, reason);
    }

    /// @dev Whether a deposit with status byte `statusByte` is refundable in concluded round `r` (reverts if the round
    /// is not concluded): included contributions when a publication was judged (Finalized, or Cancelled for too few
    /// inclusions); every valid reveal when the round was cancelled without a standing judgement.
    function _refundable(
        uint256 roundId,
        Round storage r,
        uint256 index,
        uint256 statusByte
    ) private view returns (bool) {
        if (_judged(roundId, r)) return _reasonOf(roundId, r.publication, index) == 0;
        return statusByte & _STATUS_MASK == uint8(CommitmentStatus.Revealed);
    }

    function _refundableCount(uint256 roundId, Round storage r) private view returns (uint256) {
        return _judged(roundId, r) ? r.includedCount : r.revealedCount;
    }

    /// @dev Whether concluded round `r` has a judged (final) publication; reverts with {RoundNotConcluded} otherwise.
    function _judged(uint256 roundId, Round storage r) private view returns (bool) {
        if (!_isConcluded(r)) revert RoundNotConcluded(roundId, _phaseOf(r));
        return r.phase == RoundPhase.Finalized || r.cancelReason == CancelReason.TooFewIncluded;
    }

    function _isConcluded(Round storage r) private view returns (bool) {
        return r.phase == RoundPhase.Finalized || r.phase == RoundPhase.Cancelled;
    }

    function _phaseOf(Round storage r) private view returns (RoundPhase) {
        RoundPhase phase = r.phase;
        if (phase == RoundPhase.Open && block.timestamp > r.commitDeadline) return RoundPhase.Reveal;
        return phase;
    }

    function _round(uint256 roundId) private view returns (Round storage r) {
        r = _rounds[roundId];
        if (r.phase == RoundPhase.None) revert RoundNotFound(roundId);
    }

    function _roundIn(uint256 roundId, RoundPhase expected) private view returns (Round storage r) {
        r = _round(roundId);
        RoundPhase phase = _phaseOf(r);
        if (phase != expected) revert RoundWrongPhase(roundId, phase, expected);
    }

    function _indexOf(uint256 roundId, address contributor) private view returns (uint256) {
        Entry storage entry = _entries[roundId][contributor];
        if (entry.seal == bytes28(0)) revert NotACommitter(roundId, contributor);
        return entry.index;
    }

    function _statusByte(uint256 roundId, uint256 index) private view returns (uint256) {
        return (_statusWords[roundId][index >> 5] >> _byteShift(index)) & 0xff;
    }

    function _reasonOf(uint256 roundId, uint256 publication, uint256 index) private view returns (uint256) {
        return (_reasonWords[roundId][publication][index >> 5] >> _byteShift(index)) & 0xff;
    }

    function _commitmentAt(uint256 roundId, uint256 index) private view returns (Commitment memory) {
        CommitSlot storage slot = _commitSlots[roundId][index];
        return
            Commitment(
                slot.contributor,
                slot.sampleCount,
                CommitmentStatus(_statusByte(roundId, index) & _STATUS_MASK),
                _ciphertextHashes[roundId][index]
            );
    }

    /// @dev Bit shift of byte `index % 32` in a big-endian word.
    function _byteShift(uint256 index) private pure returns (uint256) {
        return (31 - (index & 31)) << 3;
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
