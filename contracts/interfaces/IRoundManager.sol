// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IContributorRegistry} from "./IContributorRegistry.sol";
import {IProgramRegistry} from "./IProgramRegistry.sol";

/**
 * @title IRoundManager
 * @notice The CipherShare hub's full interface: contributors, programs and their contribution rounds.
 * Contribution rounds of a royalty program:
 * Open -> (commit deadline) -> Closed -> ResultsPublished -> (dispute window) -> Finalized,
 * with ResultsPublished -> Challenged -> (network resolves) -> Closed (upheld) or ResultsPublished (rejected).
 */
interface IRoundManager is IContributorRegistry, IProgramRegistry {
    /// @notice Lifecycle of a round. `None` means the round does not exist.
    enum RoundPhase {
        None,
        Open,
        Closed,
        ResultsPublished,
        Challenged,
        Finalized
    }

    /// @notice Why the coprocessor left a committed contribution out of the aggregate. `None` is not a reason.
    enum ExclusionReason {
        None,
        BlobMissing,
        HashMismatch,
        Malformed,
        Policy
    }

    /**
     * @notice A round. The first storage slot holds everything `commitContribution` reads and writes.
     * @param programId Program the round belongs to.
     * @param commitDeadline Last timestamp at which contributions can be committed.
     * @param disputeWindow Seconds auditors have to challenge published results.
     * @param commitCount Number of contributions committed.
     * @param excludedCount Number of committed contributions the coprocessor excluded.
     * @param phase Current phase.
     * @param disputeDeadline Last timestamp at which the published results can be challenged (0 before results).
     * @param challenger Auditor of the pending challenge (zero when none).
     * @param baseModelHash Hash of the model the round's updates apply to.
     * @param aggregateHash Hash of the coprocessor's aggregate output (encrypted model update).
     * @param scoresHash Hash of the coprocessor's encrypted score output.
     * @param inputsHash keccak256 of the included contributions' ciphertext hashes, in commit order
     * (`abi.encodePacked(bytes32[])`): the inputs the coprocessor used.
     */
    struct Round {
        uint64 programId;
        uint64 commitDeadline;
        uint32 disputeWindow;
        uint32 commitCount;
        uint32 excludedCount;
        RoundPhase phase;
        uint64 disputeDeadline;
        address challenger;
        bytes32 baseModelHash;
        bytes32 aggregateHash;
        bytes32 scoresHash;
        bytes32 inputsHash;
    }

    /// @notice A contribution the coprocessor left out, with why.
    struct Exclusion {
        address contributor;
        ExclusionReason reason;
    }

    /// @notice A committed contribution. Its storage URI is only in {ContributionCommitted} and calldata.
    struct Commitment {
        address contributor;
        uint64 sampleCount;
        bytes32 ciphertextHash;
    }

    /// @notice The network opened round `roundId` of program `programId`.
    event RoundOpened(
        uint256 indexed roundId,
        uint256 indexed programId,
        bytes32 baseModelHash,
        uint64 commitDeadline,
        uint32 disputeWindow
    );

    /// @notice `contributor` committed to round `roundId`; the n-th such event of a round is commitment n - 1.
    event ContributionCommitted(
        uint256 indexed roundId,
        address indexed contributor,
        bytes32 ciphertextHash,
        uint64 sampleCount,
        string uri
    );

    /// @notice Round `roundId` closed after its commit deadline with `commitCount` commitments.
    event RoundClosed(uint256 indexed roundId, uint256 commitCount);

    /// @notice The coprocessor left `contributor`'s contribution to round `roundId` out, for `reason`.
    event ContributionExcluded(uint256 indexed roundId, address indexed contributor, ExclusionReason reason);

    /// @notice The coprocessor published the results of round `roundId`; challenges are open until `disputeDeadline`.
    event ResultsPublished(
        uint256 indexed roundId,
        bytes32 aggregateHash,
        bytes32 scoresHash,
        bytes32 inputsHash,
        uint256 includedCount,
        uint64 disputeDeadline
    );

    /// @notice `challenger` disputed the results of round `roundId`; the evidence URI is only in this event.
    event ResultsChallenged(
        uint256 indexed roundId,
        address indexed challenger,
        bytes32 evidenceHash,
        string evidenceURI
    );

    /// @notice The network resolved the challenge: `upheld` sends the round back to Closed for new results.
    event ChallengeResolved(uint256 indexed roundId, address indexed challenger, bool upheld);

    /// @notice Round `roundId` is final: its results stand and it can be settled.
    event RoundFinalized(uint256 indexed roundId);

    /// @notice No round has id `roundId`.
    error RoundNotFound(uint256 roundId);
    /// @notice Round `roundId` is in phase `actual`; the call needs phase `expected`.
    error RoundWrongPhase(uint256 roundId, RoundPhase actual, RoundPhase expected);
    /// @notice A round must close in the future: `commitDeadline` is not after the block time `timestamp`.
    error CommitDeadlineNotInFuture(uint64 commitDeadline, uint256 timestamp);
    /// @notice A round needs a dispute window of at least one second.
    error ZeroDisputeWindow();
    /// @notice Round `roundId` stopped accepting commitments at `commitDeadline` (block time `timestamp`).
    error CommitDeadlinePassed(uint256 roundId, uint64 commitDeadline, uint256 timestamp);
    /// @notice Round `roundId` accepts commitments until `commitDeadline` (block time `timestamp`).
    error CommitDeadlineNotReached(uint256 roundId, uint64 commitDeadline, uint256 timestamp);
    /// @notice `contributor` already committed to round `roundId`.
    error AlreadyCommitted(uint256 roundId, address contributor);
    /// @notice A commitment needs the hash of its ciphertext.
    error ZeroCiphertextHash();
    /// @notice A commitment needs a positive sample count (its aggregation weight).
    error ZeroSampleCount();
    /// @notice `caller` is not the coprocessor of program `programId`.
    error NotProgramCoprocessor(uint256 programId, address caller);
    /// @notice `contributor` did not commit to round `roundId`, so it cannot be excluded.
    error NotACommitter(uint256 roundId, address contributor);
    /// @notice The exclusion of `contributor` has reason `None`.
    error InvalidExclusionReason(address contributor);
    /// @notice `contributor` is listed twice in the exclusions of round `roundId`.
    error AlreadyExcluded(uint256 roundId, address contributor);
    /// @notice The published inputs hash does not match the included contributions' ciphertext hashes.
    error InputsHashMismatch(uint256 roundId, bytes32 expected, bytes32 published);
    /// @notice The dispute window of round `roundId` ended at `disputeDeadline` (block time `timestamp`).
    error DisputeWindowClosed(uint256 roundId, uint64 disputeDeadline, uint256 timestamp);
    /// @notice Round `roundId` can be challenged until `disputeDeadline` (block time `timestamp`).
    error DisputeWindowOpen(uint256 roundId, uint64 disputeDeadline, uint256 timestamp);
    /// @notice A round holds at most 2^32 - 1 commitments.
    error TooManyCommitments();
    /// @notice Round `roundId` has `commitCount` commitments; index `index` is past the end.
    error CommitmentIndexOutOfBounds(uint256 roundId, uint256 index, uint256 commitCount);

    function roundCount() external view returns (uint256);

    function round(uint256 roundId) external view returns (Round memory);

    function commitmentOf(uint256 roundId, address contributor) external view returns (bytes32 ciphertextHash);

    function commitmentAt(uint256 roundId, uint256 index) external view returns (Commitment memory);

    function commitments(uint256 roundId, uint256 offset, uint256 limit) external view returns (Commitment[] memory);

    function exclusionOf(uint256 roundId, address contributor) external view returns (ExclusionReason);

    /// @notice Whether `contributor` committed to round `roundId` and was not excluded.
    function isIncluded(uint256 roundId, address contributor) external view returns (bool);
}
