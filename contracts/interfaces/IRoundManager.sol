// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IContributorRegistry} from "./IContributorRegistry.sol";
import {IProgramRegistry} from "./IProgramRegistry.sol";

/**
 * @title IRoundManager
 * @notice The CipherShare hub's full interface: contributors, programs and their contribution rounds.
 * Contribution rounds of a royalty program:
 * Open -> (commit deadline) -> Reveal -> (reveal deadline) closeRound -> Closed -> publishResults ->
 * ResultsPublished -> (dispute window) finalizeRound -> Finalized, or Cancelled when too few contributions were
 * revealed (at close) or included (at finalization). A challenge sends ResultsPublished -> Challenged -> (network
 * resolves) -> Closed (upheld: the coprocessor publishes again) or ResultsPublished (rejected). A round not finalized
 * by its expiry can be cancelled by anyone ({expireRound}).
 */
interface IRoundManager is IContributorRegistry, IProgramRegistry {
    /**
     * @notice Lifecycle of a round. `None` means the round does not exist. The numbering keeps the values of earlier
     * versions (Closed 2, ResultsPublished 3, Finalized 5); `Reveal` and `Cancelled` were appended.
     * `Reveal` is never stored: an Open round reads as Reveal once its commit deadline has passed.
     */
    enum RoundPhase {
        None,
        Open,
        Closed,
        ResultsPublished,
        Challenged,
        Finalized,
        Reveal,
        Cancelled
    }

    /**
     * @notice Why a committed contribution was left out of a publication, one byte per commitment in
     * {publishResults}. `None` means included. `Duplicate` and `Unrevealed` are decided on-chain at reveal and close;
     * the coprocessor must repeat them and may use the other reasons only for revealed, non-duplicate commitments.
     */
    enum ExclusionReason {
        None,
        BlobMissing,
        HashMismatch,
        Malformed,
        Policy,
        Duplicate,
        Unrevealed
    }

    /// @notice What the chain knows of a commitment: sealed (committed, not revealed), revealed, or revealed with a
    /// ciphertext hash that some commitment (this round or any earlier one) had already revealed.
    enum CommitmentStatus {
        Sealed,
        Revealed,
        Duplicate
    }

    /// @notice Why a round was cancelled. A cancelled round has no outputs; its pool is refundable.
    enum CancelReason {
        None,
        TooFewRevealed,
        TooFewIncluded,
        Expired
    }

    /**
     * @notice A round. Terms are copied from its program when it opens. The first storage slot holds everything
     * {commitContribution} reads and writes.
     * @param phase Phase (stored; `round()` reports Reveal for an Open round past its commit deadline).
     * @param commitDeadline Last timestamp at which contributions can be committed.
     * @param commitCount Number of commitments.
     * @param maxCommitments Commitment cap (program term).
     * @param commitDeposit Wei each commitment carries (program term).
     * @param programId Program the round belongs to.
     * @param revealDeadline Last timestamp at which commitments can be revealed (the reveal phase starts after
     * `commitDeadline`).
     * @param revealedCount Commitments revealed with a ciphertext hash never revealed before.
     * @param duplicateCount Commitments revealed with a ciphertext hash revealed before.
     * @param minContributors Fewest included contributions for the round to count (program term).
     * @param cancelReason Why the round was cancelled (`None` unless phase is Cancelled).
     * @param depositsCollected Whether the network collected the forfeited deposits.
     * @param expiresAt The round must be finalized by then (reveal deadline + the program's recovery period), or
     * anyone may cancel it ({expireRound}).
     * @param disputeDeadline Last timestamp at which the standing publication can be challenged (0 when none).
     * @param disputeWindow Seconds auditors have to challenge a publication.
     * @param publication Number of the standing publication (0 when none: before the first, or after an upheld
     * challenge). Publications of a round are numbered from 1.
     * @param publicationCount Number of publications made (discarded ones included).
     * @param includedCount Contributions included by the standing publication.
     * @param settlementDeadline Set at finalization: the custodian must complete settlement by then, or the network may
     * recover the unallocated pool.
     * @param challenger Auditor of the pending challenge (zero when none).
     * @param baseModelHash Hash of the model (round manifest) the round's updates apply to.
     * @param aggregateHash Hash of the standing publication's aggregate output.
     * @param scoresHash Hash of the standing publication's encrypted score output.
     * @param inputsHash keccak256 of the included contributions' ciphertext hashes, in commit order
     * (`abi.encodePacked(bytes32[])`): the inputs the coprocessor used.
     * @param releaseHash Release record the custodian anchored once the round was final (zero until then).
     */
    struct Round {
        RoundPhase phase;
        uint64 commitDeadline;
        uint32 commitCount;
        uint32 maxCommitments;
        uint96 commitDeposit;
        uint64 programId;
        uint64 revealDeadline;
        uint32 revealedCount;
        uint32 duplicateCount;
        uint32 minContributors;
        CancelReason cancelReason;
        bool depositsCollected;
        uint64 expiresAt;
        uint64 disputeDeadline;
        uint32 disputeWindow;
        uint32 publication;
        uint32 publicationCount;
        uint32 includedCount;
        uint64 settlementDeadline;
        address challenger;
        bytes32 baseModelHash;
        bytes32 aggregateHash;
        bytes32 scoresHash;
        bytes32 inputsHash;
        bytes32 releaseHash;
    }

    /**
     * @notice A commitment, by its index (commit order).
     * @param contributor Who committed.
     * @param sampleCount Training samples behind the update (FedAvg weight).
     * @param status Sealed, revealed or duplicate.
     * @param ciphertextHash The revealed ciphertext hash (zero while sealed).
     */
    struct Commitment {
        address contributor;
        uint64 sampleCount;
        CommitmentStatus status;
        bytes32 ciphertextHash;
    }

    /// @notice The network opened round `roundId` of program `programId`.
    event RoundOpened(
        uint256 indexed roundId,
        uint256 indexed programId,
        bytes32 baseModelHash,
        uint64 commitDeadline,
        uint64 revealDeadline,
        uint32 disputeWindow
    );

    /**
     * @notice `contributor` committed to round `roundId` as commitment `index`, sealing its ciphertext hash:
     * `seal = keccak256(abi.encode(ciphertextHash, contributor))`.
     */
    event ContributionCommitted(
        uint256 indexed roundId,
        address indexed contributor,
        uint256 index,
        bytes32 seal,
        uint64 sampleCount
    );

    /// @notice `contributor` revealed commitment `index` of round `roundId`; the storage URI is only in this event.
    event ContributionRevealed(
        uint256 indexed roundId,
        address indexed contributor,
        uint256 index,
        bytes32 ciphertextHash,
        string uri
    );

    /// @notice Commitment `index` of round `roundId` revealed a ciphertext hash first revealed by commitment
    /// `firstIndex` of round `firstRoundId`: it is a duplicate, excluded from every publication.
    event DuplicateRevealed(
        uint256 indexed roundId,
        uint256 index,
        bytes32 ciphertextHash,
        uint256 firstRoundId,
        uint256 firstIndex
    );

    /// @notice Round `roundId` closed after its reveal deadline with `commitCount` commitments, `revealedCount` of
    /// them revealed (duplicates not counted).
    event RoundClosed(uint256 indexed roundId, uint256 commitCount, uint256 revealedCount);

    /// @notice Round `roundId` was cancelled for `reason`: it has no outputs and its pool is refundable.
    event RoundCancelled(uint256 indexed roundId, CancelReason reason);

    /**
     * @notice The coprocessor made publication `publication` of round `roundId`; challenges are open until
     * `disputeDeadline`. `reasons[i]` is the {ExclusionReason} of commitment `i` (0: included).
     */
    event ResultsPublished(
        uint256 indexed roundId,
        uint256 indexed publication,
        bytes32 aggregateHash,
        bytes32 scoresHash,
        bytes32 inputsHash,
        uint256 includedCount,
        uint64 disputeDeadline,
        bytes reasons
    );

    /// @notice `challenger` disputed publication `publication` of round `roundId`; the evidence URI is only here.
    event ResultsChallenged(
        uint256 indexed roundId,
        uint256 indexed publication,
        address indexed challenger,
        bytes32 evidenceHash,
        string evidenceURI
    );

    /// @notice The network resolved the challenge of publication `publication`: `upheld` discards it and sends the
    /// round back to Closed for a new publication.
    event ChallengeResolved(
        uint256 indexed roundId,
        uint256 indexed publication,
        address indexed challenger,
        bool upheld
    );

    /// @notice Round `roundId` is final: publication `publication` stands and the round can be released and settled.
    event RoundFinalized(uint256 indexed roundId, uint256 indexed publication);

    /// @notice The custodian anchored the release record `releaseHash` of finalized round `roundId`, made from
    /// publication `publication`.
    event ReleaseAnchored(uint256 indexed roundId, uint256 indexed publication, bytes32 releaseHash);

    /// @notice `contributor` withdrew its `amount` wei deposit for round `roundId`.
    event DepositRefunded(uint256 indexed roundId, address indexed contributor, uint256 amount);

    /// @notice `network` collected the `count` forfeited deposits of round `roundId` (`amount` wei).
    event ForfeitedDepositsCollected(uint256 indexed roundId, address indexed network, uint256 count, uint256 amount);

    /// @notice No round has id `roundId`.
    error RoundNotFound(uint256 roundId);
    /// @notice Round `roundId` is in phase `actual`; the call needs phase `expected`.
    error RoundWrongPhase(uint256 roundId, RoundPhase actual, RoundPhase expected);
    /// @notice A round must close in the future: `commitDeadline` is not after the block time `timestamp`.
    error CommitDeadlineNotInFuture(uint64 commitDeadline, uint256 timestamp);
    /// @notice A round needs a reveal window of at least one second.
    error ZeroRevealWindow();
    /// @notice A round needs a dispute window of at least one second.
    error ZeroDisputeWindow();
    /// @notice A dispute window of `disputeWindow` seconds does not fit in the program's `recoveryPeriod`.
    error DisputeWindowTooLong(uint32 disputeWindow, uint32 recoveryPeriod);
    /// @notice Round `roundId` stopped accepting commitments at `commitDeadline` (block time `timestamp`).
    error CommitDeadlinePassed(uint256 roundId, uint64 commitDeadline, uint256 timestamp);
    /// @notice Round `roundId` accepts reveals until `revealDeadline` (block time `timestamp`).
    error RevealDeadlineNotReached(uint256 roundId, uint64 revealDeadline, uint256 timestamp);
    /// @notice Round `roundId` stopped accepting reveals at `revealDeadline` (block time `timestamp`).
    error RevealDeadlinePassed(uint256 roundId, uint64 revealDeadline, uint256 timestamp);
    /// @notice A commitment to round `roundId` must carry exactly `expected` wei; `sent` were sent.
    error WrongCommitDeposit(uint256 roundId, uint256 expected, uint256 sent);
    /// @notice Round `roundId` already holds its cap of `maxCommitments` commitments.
    error CommitmentCapReached(uint256 roundId, uint256 maxCommitments);
    /// @notice `contributor` already committed to round `roundId`.
    error AlreadyCommitted(uint256 roundId, address contributor);
    /// @notice A commitment needs a seal whose first 28 bytes are not all zero.
    error ZeroSeal();
    /// @notice A reveal needs the hash of a ciphertext.
    error ZeroCiphertextHash();
    /// @notice A commitment needs a positive sample count (its aggregation weight).
    error ZeroSampleCount();
    /// @notice `contributor` did not commit to round `roundId`.
    error NotACommitter(uint256 roundId, address contributor);
    /// @notice `contributor` already revealed its commitment to round `roundId`.
    error AlreadyRevealed(uint256 roundId, address contributor);
    /// @notice `ciphertextHash` is not what `contributor` sealed in round `roundId`.
    error SealMismatch(uint256 roundId, address contributor, bytes32 ciphertextHash);
    /// @notice `caller` is not the coprocessor of program `programId`.
    error NotProgramCoprocessor(uint256 programId, address caller);
    /// @notice Round `roundId` has `commitCount` commitments but `reasonCount` exclusion reasons were published.
    error ExclusionReasonsLengthMismatch(uint256 roundId, uint256 commitCount, uint256 reasonCount);
    /// @notice Reason `reason` is not allowed for commitment `index` of round `roundId`, whose status is `status`.
    error InvalidExclusionReason(uint256 roundId, uint256 index, uint8 reason, CommitmentStatus status);
    /// @notice The published inputs hash does not match the included contributions' ciphertext hashes.
    error InputsHashMismatch(uint256 roundId, bytes32 expected, bytes32 published);
    /// @notice The dispute window of round `roundId` ended at `disputeDeadline` (block time `timestamp`).
    error DisputeWindowClosed(uint256 roundId, uint64 disputeDeadline, uint256 timestamp);
    /// @notice Round `roundId` can be challenged until `disputeDeadline` (block time `timestamp`).
    error DisputeWindowOpen(uint256 roundId, uint64 disputeDeadline, uint256 timestamp);
    /// @notice Round `roundId` expires at `expiresAt` (block time `timestamp`).
    error RoundNotExpired(uint256 roundId, uint64 expiresAt, uint256 timestamp);
    /// @notice Round `roundId` is in phase `phase`, final already: it cannot expire.
    error RoundAlreadyFinal(uint256 roundId, RoundPhase phase);
    /// @notice Round `roundId`'s results stood through their dispute window: finalize it instead of expiring it.
    error RoundFinalizable(uint256 roundId);
    /// @notice A release record hash must not be zero.
    error ZeroReleaseHash();
    /// @notice Round `roundId` already has the release record `releaseHash` anchored.
    error ReleaseAlreadyAnchored(uint256 roundId, bytes32 releaseHash);
    /// @notice Round `roundId` is in phase `phase`: deposits are settled once it is Finalized or Cancelled.
    error RoundNotConcluded(uint256 roundId, RoundPhase phase);
    /// @notice Round `roundId` took no deposits.
    error NoCommitDeposit(uint256 roundId);
    /// @notice The deposit of `contributor` in round `roundId` is forfeited (its contribution was excluded).
    error DepositForfeited(uint256 roundId, address contributor);
    /// @notice `contributor` already withdrew its deposit for round `roundId`.
    error DepositAlreadyWithdrawn(uint256 roundId, address contributor);
    /// @notice The forfeited deposits of round `roundId` were already collected.
    error ForfeitedDepositsAlreadyCollected(uint256 roundId);
    /// @notice Round `roundId` has `commitCount` commitments; index `index` is past the end.
    error CommitmentIndexOutOfBounds(uint256 roundId, uint256 index, uint256 commitCount);
    /// @notice Round `roundId` has had `publicationCount` publications; `publication` is not one of them.
    error PublicationNotFound(uint256 roundId, uint256 publication, uint256 publicationCount);

    function roundCount() external view returns (uint256);

    /// @notice Round `roundId`, with its current phase (Reveal for an Open round past its commit deadline).
    function round(uint256 roundId) external view returns (Round memory);

    /// @notice The ciphertext hash `contributor` revealed in round `roundId` (zero if not committed or still sealed).
    function commitmentOf(uint256 roundId, address contributor) external view returns (bytes32 ciphertextHash);

    /// @notice Index of `contributor`'s commitment to round `roundId`; reverts with {NotACommitter}.
    function commitmentIndexOf(uint256 roundId, address contributor) external view returns (uint256);

    function commitmentAt(uint256 roundId, uint256 index) external view returns (Commitment memory);

    function commitments(uint256 roundId, uint256 offset, uint256 limit) external view returns (Commitment[] memory);

    /// @notice Where `ciphertextHash` was first revealed: round and commitment index (0, 0 if never).
    function firstRevealOf(bytes32 ciphertextHash) external view returns (uint256 roundId, uint256 index);

    /// @notice `contributor`'s exclusion reason in the standing publication of round `roundId` (`None` when it is
    /// included, did not commit, or no publication stands).
    function exclusionOf(uint256 roundId, address contributor) external view returns (ExclusionReason);

    /// @notice Exclusion reasons of publication `publication` of round `roundId`, one byte per commitment (a
    /// discarded publication stays readable).
    function exclusionReasons(uint256 roundId, uint256 publication) external view returns (bytes memory);

    /// @notice Whether `contributor`'s commitment to round `roundId` is included by the round's standing publication.
    function isIncluded(uint256 roundId, address contributor) external view returns (bool);

    /// @notice Whether `contributor` can withdraw its deposit for round `roundId` now.
    function isDepositRefundable(uint256 roundId, address contributor) external view returns (bool);
}
