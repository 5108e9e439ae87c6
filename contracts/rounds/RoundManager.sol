// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IRoundManager} from "../interfaces/IRoundManager.sol";
import {ProgramRegistry} from "../programs/ProgramRegistry.sol";
import {ContributorRegistry} from "../registry/ContributorRegistry.sol";

/**
 * @title RoundManager
 * @notice The CipherShare hub: contributors (inherited from {ContributorRegistry}), programs (inherited from
 * {ProgramRegistry}) and their contribution rounds. One deployed contract, so that a commitment checks the
 * contributor's registration without an external call.
 *
 * - The program's network opens a round: base model hash, commit deadline, dispute window.
 * - Registered contributors commit once each, before the deadline: the hash of their encrypted update, its sample
 *   count and where the ciphertext is stored (the URI is only in the event and calldata).
 * - Anyone closes the round once the deadline has passed.
 * - The program's coprocessor publishes the results: hash of the aggregate, hash of the encrypted scores, the
 *   inputs it used (checked on-chain against the commitments) and the contributions it excluded, with a reason.
 * - During the dispute window anyone (an auditor) may challenge; a challenge blocks finalization until the network
 *   resolves it. Upheld: back to Closed, the coprocessor publishes again. Rejected: back to ResultsPublished with
 *   the original dispute deadline.
 * - Anyone finalizes the round after the dispute window; the {RoyaltyDistributor} only settles finalized rounds.
 *
 * @dev `commitContribution` is kept under 80k gas: it reads and writes one round slot and writes two new slots
 * (the ciphertext hash by contributor, the contributor and sample count by index).
 */
contract RoundManager is IRoundManager, ContributorRegistry, ProgramRegistry {
    /// @dev Commitment by index, packed in one slot; the ciphertext hash lives in `_ciphertextHashes`.
    struct CommitSlot {
        address contributor;
        uint64 sampleCount;
    }

    mapping(uint256 roundId => Round) private _rounds;
    uint256 private _roundCount;
    mapping(uint256 roundId => mapping(uint256 index => CommitSlot)) private _commitSlots;
    mapping(uint256 roundId => mapping(address contributor => bytes32)) private _ciphertextHashes;
    mapping(uint256 roundId => mapping(address contributor => ExclusionReason)) private _exclusions;

    /**
     * @notice Opens a round of program `programId`; only its network.
     * @param baseModelHash Hash of the model contributors train on.
     * @param commitDeadline Last timestamp contributions are accepted; must be in the future.
     * @param disputeWindow Seconds auditors get to challenge the results once published; not zero.
     * @return roundId Id of the new round (ids are global across programs and start at 1).
     */
    function openRound(
        uint256 programId,
        bytes32 baseModelHash,
        uint64 commitDeadline,
        uint32 disputeWindow
    ) external returns (uint256 roundId) {
        _checkNetwork(programId);
        if (commitDeadline <= block.timestamp) revert CommitDeadlineNotInFuture(commitDeadline, block.timestamp);
        if (disputeWindow == 0) revert ZeroDisputeWindow();
        roundId = ++_roundCount;
        Round storage r = _rounds[roundId];
        r.programId = uint64(programId);
        r.commitDeadline = commitDeadline;
        r.disputeWindow = disputeWindow;
        r.phase = RoundPhase.Open;
        r.baseModelHash = baseModelHash;
        emit RoundOpened(roundId, programId, baseModelHash, commitDeadline, disputeWindow);
    }

    /**
     * @notice Commits the caller's encrypted contribution to round `roundId`: once per round, before the deadline,
     * only registered contributors.
     * @param ciphertextHash Hash of the encrypted model update (CKKS, under the program's public key).
     * @param sampleCount Number of training samples behind the update (FedAvg weight); not zero.
     * @param uri Where the ciphertext is stored; emitted only.
     */
    function commitContribution(
        uint256 roundId,
        bytes32 ciphertextHash,
        uint64 sampleCount,
        string calldata uri
    ) external {
        Round storage r = _rounds[roundId];
        (RoundPhase phase, uint64 commitDeadline, uint32 index) = _commitState(r);
        if (phase != RoundPhase.Open) {
            if (phase == RoundPhase.None) revert RoundNotFound(roundId);
            revert RoundWrongPhase(roundId, phase, RoundPhase.Open);
        }
        if (block.timestamp > commitDeadline) revert CommitDeadlinePassed(roundId, commitDeadline, block.timestamp);
        if (ciphertextHash == bytes32(0)) revert ZeroCiphertextHash();
        if (sampleCount == 0) revert ZeroSampleCount();
        if (!_isRegistered(msg.sender)) revert ContributorNotRegistered(msg.sender);
        mapping(address => bytes32) storage hashes = _ciphertextHashes[roundId];
        if (hashes[msg.sender] != bytes32(0)) revert AlreadyCommitted(roundId, msg.sender);
        hashes[msg.sender] = ciphertextHash;
        _incrementCommitCount(r, index);
        _commitSlots[roundId][index] = CommitSlot(msg.sender, sampleCount);
        emit ContributionCommitted(roundId, msg.sender, ciphertextHash, sampleCount, uri);
    }

    /// @notice Closes round `roundId` once its commit deadline has passed; anyone may call.
    function closeRound(uint256 roundId) external {
        Round storage r = _roundIn(roundId, RoundPhase.Open);
        if (block.timestamp <= r.commitDeadline) {
            revert CommitDeadlineNotReached(roundId, r.commitDeadline, block.timestamp);
        }
        r.phase = RoundPhase.Closed;
        emit RoundClosed(roundId, r.commitCount);
    }

    /**
     * @notice Publishes the results of closed round `roundId`; only the program's coprocessor. Starts the dispute
     * window.
     * @param aggregateHash Hash of the aggregate output (the encrypted aggregated model update).
     * @param scoresHash Hash of the encrypted score output.
     * @param inputsHash keccak256(abi.encodePacked(ciphertext hashes of the included contributions, in commit
     * order)); checked against the commitments, reverts with {InputsHashMismatch} naming the expected value.
     * @param exclusions Committed contributions left out, each with a reason other than `None`.
     */
    function publishResults(
        uint256 roundId,
        bytes32 aggregateHash,
        bytes32 scoresHash,
        bytes32 inputsHash,
        Exclusion[] calldata exclusions
    ) external {
        Round storage r = _roundIn(roundId, RoundPhase.Closed);
        uint256 programId = r.programId;
        if (msg.sender != _program(programId).coprocessor) revert NotProgramCoprocessor(programId, msg.sender);

        mapping(address => ExclusionReason) storage excluded = _exclusions[roundId];
        mapping(address => bytes32) storage hashes = _ciphertextHashes[roundId];
        for (uint256 i = 0; i < exclusions.length; ++i) {
            Exclusion calldata e = exclusions[i];
            if (e.reason == ExclusionReason.None) revert InvalidExclusionReason(e.contributor);
            if (hashes[e.contributor] == bytes32(0)) revert NotACommitter(roundId, e.contributor);
            if (excluded[e.contributor] != ExclusionReason.None) revert AlreadyExcluded(roundId, e.contributor);
            excluded[e.contributor] = e.reason;
            emit ContributionExcluded(roundId, e.contributor, e.reason);
        }

        uint32 commitCount = r.commitCount;
        bytes32 expected = _includedInputsHash(roundId, commitCount);
        if (expected != inputsHash) revert InputsHashMismatch(roundId, expected, inputsHash);

        uint64 disputeDeadline = uint64(block.timestamp) + r.disputeWindow;
        r.excludedCount = uint32(exclusions.length);
        r.aggregateHash = aggregateHash;
        r.scoresHash = scoresHash;
        r.inputsHash = inputsHash;
        r.disputeDeadline = disputeDeadline;
        r.phase = RoundPhase.ResultsPublished;
        emit ResultsPublished(
            roundId,
            aggregateHash,
            scoresHash,
            inputsHash,
            commitCount - exclusions.length,
            disputeDeadline
        );
    }

    /**
     * @notice Challenges the published results of round `roundId` during its dispute window; anyone may call.
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
        emit ResultsChallenged(roundId, msg.sender, evidenceHash, evidenceURI);
    }

    /**
     * @notice Resolves the pending challenge of round `roundId`; only the program's network.
     * @param upheld True: the results are discarded (exclusions cleared) and the round is Closed again for the
     * coprocessor to publish new results. False: the round returns to ResultsPublished with its original dispute
     * deadline (it can be finalized at once if that deadline has passed).
     */
    function resolveChallenge(uint256 roundId, bool upheld) external {
        Round storage r = _roundIn(roundId, RoundPhase.Challenged);
        _checkNetwork(r.programId);
        address challenger = r.challenger;
        r.challenger = address(0);
        if (upheld) {
            if (r.excludedCount != 0) _clearExclusions(roundId, r.commitCount);
            r.excludedCount = 0;
            r.aggregateHash = bytes32(0);
            r.scoresHash = bytes32(0);
            r.inputsHash = bytes32(0);
            r.disputeDeadline = 0;
            r.phase = RoundPhase.Closed;
        } else {
            r.phase = RoundPhase.ResultsPublished;
        }
        emit ChallengeResolved(roundId, challenger, upheld);
    }

    /// @notice Finalizes round `roundId` once its dispute window has passed unchallenged; anyone may call.
    function finalizeRound(uint256 roundId) external {
        Round storage r = _roundIn(roundId, RoundPhase.ResultsPublished);
        if (block.timestamp <= r.disputeDeadline) {
            revert DisputeWindowOpen(roundId, r.disputeDeadline, block.timestamp);
        }
        r.phase = RoundPhase.Finalized;
        emit RoundFinalized(roundId);
    }

    /// @inheritdoc IRoundManager
    function roundCount() external view returns (uint256) {
        return _roundCount;
    }

    /// @inheritdoc IRoundManager
    function round(uint256 roundId) external view returns (Round memory) {
        return _round(roundId);
    }

    /// @inheritdoc IRoundManager
    function commitmentOf(uint256 roundId, address contributor) external view returns (bytes32) {
        return _ciphertextHashes[roundId][contributor];
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
    function exclusionOf(uint256 roundId, address contributor) external view returns (ExclusionReason) {
        return _exclusions[roundId][contributor];
    }

    /// @inheritdoc IRoundManager
    function isIncluded(uint256 roundId, address contributor) external view returns (bool) {
        return
            _ciphertextHashes[roundId][contributor] != bytes32(0) &&
            _exclusions[roundId][contributor] == ExclusionReason.None;
    }

    /// @dev Bit offsets of the fields `commitContribution` needs in the first slot of a {Round} (Solidity packs
    /// struct members from the low-order bits): programId 0, commitDeadline 64, disputeWindow 128, commitCount 160,
    /// excludedCount 192, phase 224. Reading the slot once and adding to it in place keeps commitments under 80k gas.
    uint256 private constant _DEADLINE_OFFSET = 64;
    uint256 private constant _COMMIT_COUNT_OFFSET = 160;
    uint256 private constant _PHASE_OFFSET = 224;

    function _commitState(
        Round storage r
    ) private view returns (RoundPhase phase, uint64 commitDeadline, uint32 commitCount) {
        uint256 word;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            word := sload(r.slot)
        }
        phase = RoundPhase(uint8(word >> _PHASE_OFFSET));
        commitDeadline = uint64(word >> _DEADLINE_OFFSET);
        commitCount = uint32(word >> _COMMIT_COUNT_OFFSET);
    }

    /// @dev `commitCount + 1` in place; the count cannot realistically reach 2^32 but must never carry into
    /// `excludedCount`, hence the check.
    function _incrementCommitCount(Round storage r, uint32 commitCount) private {
        if (commitCount == type(uint32).max) revert TooManyCommitments();
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            sstore(r.slot, add(sload(r.slot), shl(_COMMIT_COUNT_OFFSET, 1)))
        }
    }

    function _round(uint256 roundId) private view returns (Round storage r) {
        r = _rounds[roundId];
        if (r.phase == RoundPhase.None) revert RoundNotFound(roundId);
    }

    function _roundIn(uint256 roundId, RoundPhase expected) private view returns (Round storage r) {
        r = _round(roundId);
        if (r.phase != expected) revert RoundWrongPhase(roundId, r.phase, expected);
    }

    function _commitmentAt(uint256 roundId, uint256 index) private view returns (Commitment memory) {
        CommitSlot storage slot = _commitSlots[roundId][index];
        return Commitment(slot.contributor, slot.sampleCount, _ciphertextHashes[roundId][slot.contributor]);
    }

    function _includedInputsHash(uint256 roundId, uint256 commitCount) private view returns (bytes32) {
        mapping(address => ExclusionReason) storage excluded = _exclusions[roundId];
        mapping(address => bytes32) storage hashes = _ciphertextHashes[roundId];
        bytes32[] memory included = new bytes32[](commitCount);
        uint256 n = 0;
        for (uint256 i = 0; i < commitCount; ++i) {
            address contributor = _commitSlots[roundId][i].contributor;
            if (excluded[contributor] == ExclusionReason.None) included[n++] = hashes[contributor];
        }
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(included, n)
        }
        return keccak256(abi.encodePacked(included));
    }

    function _clearExclusions(uint256 roundId, uint256 commitCount) private {
        mapping(address => ExclusionReason) storage excluded = _exclusions[roundId];
        for (uint256 i = 0; i < commitCount; ++i) delete excluded[_commitSlots[roundId][i].contributor];
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
