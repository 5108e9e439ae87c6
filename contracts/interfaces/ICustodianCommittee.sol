// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {ebool, euint64} from "@fhevm/solidity/lib/FHE.sol";
import {IRoundManager} from "./IRoundManager.sol";

/**
 * @title ICustodianCommittee
 * @notice A t-of-n custodian committee: the program's custodian on the hub is the committee contract, and it acts
 * only on what enough of its members did.
 *
 * - Custody: the network registers the committee of a program that names this contract as its custodian
 *   ({registerCommittee}: n member addresses, threshold t, the keccak256 of each member's key-share commitment, as
 *   the dealer's setup ceremony produced them). Each member accepts with the commitment of the share it holds
 *   ({acceptProgramShare}); once all n accepted, the committee accepts the program on the hub.
 * - Release: members that recomputed a finalized round's outputs and found them as declared join its release
 *   ({joinRelease}); the first t form the decrypting set (Lagrange coefficients depend on it). Each member of the set
 *   publishes the hashes of its partial decryptions, one per output ({submitDecryptionShares}); once the set's shares
 *   are all in, anyone can combine them, and members approve the release record they combined ({approveRelease}).
 *   When t members approved the same hash, the committee anchors it on the hub. A set that has not published all
 *   its shares {SHARE_DEADLINE} after forming can be dissolved by anyone ({dropSilentMembers}): its silent members
 *   are barred from the round's release and the others form a new set.
 * - Settlement: one member proposes a batch of encrypted shares ({proposeSettlement}); others confirm with their own
 *   encryption of the same shares ({confirmSettlement}), compared under encryption (one publicly decryptable ebool
 *   per confirmation). With t - 1 confirmations proven true by the KMS, anyone executes the batch
 *   ({executeSettlement}) and the committee settles it on the distributor.
 * - Usage periods (programs of kind Usage): a period releases one output, its totals, so members publish one share
 *   hash each. Sealing each artist's own total on {IUsageTerms-sealUsageTotals} (which only the program's custodian
 *   may call) goes through the same proposals: a member proposes the sealed totals ({proposeUsageSeal}), the others
 *   confirm with their own encryption of the same totals ({confirmSettlement}), and {executeSettlement} relays the
 *   seal to the usage terms instead of settling on the distributor.
 */
interface ICustodianCommittee {
    /**
     * @notice A program's committee.
     * @param memberCount n, at most {MAX_MEMBERS}.
     * @param threshold t: members needed to release (and, with the proposer, to settle).
     * @param acceptedCount Members that accepted their share.
     * @param active Whether all n accepted (and the committee accepted the program on the hub).
     */
    struct Committee {
        uint8 memberCount;
        uint8 threshold;
        uint8 acceptedCount;
        bool active;
    }

    /**
     * @notice A round's release. Member numbers are 1…n (the x-coordinates of the Shamir shares); bit `k` of a
     * bitmap is member `k`.
     * @param joined Members that joined; the decrypting set once `joinedCount` reaches t.
     * @param submitted Members of the set whose decryption shares are in.
     * @param approved Members that approved `releaseHash` (any t members of the committee, once the set's shares
     * are all in: the combination is public).
     * @param silent Members dropped from a decrypting set for publishing no shares before its deadline; they may
     * not join this round's release again.
     * @param formedAt When the current decrypting set formed (zero while it is incomplete).
     * @param attempt How many decrypting sets were dropped for a silent member (0 for the first set).
     * @param releaseHash The release record the first approver combined (zero before).
     */
    struct Release {
        uint32 joined;
        uint8 joinedCount;
        uint32 submitted;
        uint8 submittedCount;
        uint32 approved;
        uint8 approvedCount;
        uint32 silent;
        uint64 formedAt;
        uint8 attempt;
        bytes32 releaseHash;
    }

    /**
     * @notice A settlement proposal.
     * @param roundId The round it settles.
     * @param programId The round's program (whose committee confirms).
     * @param shareCount Contributors (and encrypted shares) in the batch.
     * @param confirmations Members that confirmed (whether they agreed is encrypted until decrypted).
     * @param executed Whether it was settled on the distributor.
     * @param proposer The member that proposed it.
     * @param contributorsHash keccak256 of `abi.encodePacked(contributors)`.
     * @param seal Whether it seals usage totals on the usage terms (artists and their totals in millionths) rather
     * than settling shares on the distributor.
     */
    struct Proposal {
        uint64 roundId;
        uint64 programId;
        uint32 shareCount;
        uint32 confirmations;
        bool executed;
        address proposer;
        bytes32 contributorsHash;
        bool seal;
    }

    /// @notice `network` registered the committee of program `programId`: `members` (member k is `members[k - 1]`),
    /// threshold `threshold` and the hashes of their key-share commitments.
    event CommitteeRegistered(
        uint256 indexed programId,
        address indexed network,
        address[] members,
        uint8 threshold,
        bytes32[] shareCommitments
    );

    /// @notice Member `memberNumber` (`member`) of program `programId`'s committee accepted the share committed to by
    /// `shareCommitment`.
    event ProgramShareAccepted(
        uint256 indexed programId,
        address indexed member,
        uint8 memberNumber,
        bytes32 shareCommitment
    );

    /// @notice Every member accepted: the committee accepted program `programId` on the hub.
    event CommitteeActivated(uint256 indexed programId);

    /// @notice Member `memberNumber` joined the release of round `roundId` (it found the outputs as declared).
    event ReleaseJoined(uint256 indexed roundId, address indexed member, uint8 memberNumber);

    /// @notice The decrypting set of round `roundId` is complete: `members` (ascending member numbers).
    event DecryptingSetFormed(uint256 indexed roundId, uint8[] members);

    /// @notice Member `memberNumber` of round `roundId`'s decrypting set published its partial decryptions:
    /// `shareHashes[i]` is the keccak256 of its partial decryption of output i (0: aggregate, 1: scores).
    event DecryptionSharesSubmitted(
        uint256 indexed roundId,
        address indexed member,
        uint8 memberNumber,
        bytes32[] shareHashes
    );

    /// @notice Member `memberNumber` approved the release record `releaseHash` of round `roundId`.
    event ReleaseApproved(uint256 indexed roundId, address indexed member, uint8 memberNumber, bytes32 releaseHash);

    /// @notice Round `roundId`'s decrypting set passed its deadline with `silentMembers` (ascending member numbers)
    /// having published no decryption shares: the set is dissolved (attempt `attempt` starts), the silent members
    /// may not join again and the others join a new set (partial decryptions depend on the set).
    event SilentMembersDropped(uint256 indexed roundId, uint8[] silentMembers, uint8 attempt);

    /// @notice t members approved `releaseHash`: the committee anchored it on the hub.
    event ReleaseAgreed(uint256 indexed roundId, bytes32 releaseHash, uint32 decryptingSet);

    /// @notice `proposer` proposed settling `contributors` of round `roundId` with encrypted `shares`.
    event SettlementProposed(
        uint256 indexed proposalId,
        uint256 indexed roundId,
        address indexed proposer,
        address[] contributors
    );

    /// @notice `member` confirmed proposal `proposalId`; `agreed` (publicly decryptable) is whether every one of its
    /// shares equals the proposal's.
    event SettlementConfirmed(uint256 indexed proposalId, address indexed member, ebool agreed);

    /// @notice Proposal `proposalId` was settled on the distributor.
    event SettlementExecuted(uint256 indexed proposalId, uint256 indexed roundId);

    /// @notice `proposer` proposed sealing the usage totals of `artists` for usage period `roundId`.
    event UsageSealProposed(
        uint256 indexed proposalId,
        uint256 indexed roundId,
        address indexed proposer,
        address[] artists
    );

    /// @notice Proposal `proposalId` sealed its artists' usage totals of period `roundId` on the usage terms.
    event UsageTotalsSealed(uint256 indexed proposalId, uint256 indexed roundId);

    /// @notice Program `programId` does not name this committee contract as its custodian.
    error NotCommitteeCustodian(uint256 programId, address custodian);
    /// @notice Program `programId` already has a committee.
    error CommitteeAlreadyRegistered(uint256 programId);
    /// @notice Program `programId` has no committee.
    error CommitteeNotRegistered(uint256 programId);
    /// @notice A committee needs 1 to `max` members; `count` were given.
    error CommitteeSizeOutOfRange(uint256 count, uint256 max);
    /// @notice A threshold of `threshold` is not in 1…`memberCount`.
    error ThresholdOutOfRange(uint256 threshold, uint256 memberCount);
    /// @notice `count` share commitments were given for `memberCount` members.
    error ShareCommitmentCountMismatch(uint256 memberCount, uint256 count);
    /// @notice Member `index` (0-based) is the zero address or repeats an earlier member.
    error InvalidMember(uint256 index, address member);
    /// @notice The share commitment of member `index` (0-based) is zero.
    error ZeroShareCommitment(uint256 index);
    /// @notice `caller` is not a member of program `programId`'s committee.
    error NotCommitteeMember(uint256 programId, address caller);
    /// @notice `member` already accepted its share of program `programId`.
    error ShareAlreadyAccepted(uint256 programId, address member);
    /// @notice `member` holds another share than the one recorded: `expected`, accepted `actual`.
    error ShareCommitmentMismatch(uint256 programId, address member, bytes32 expected, bytes32 actual);
    /// @notice Program `programId`'s committee is not active: not every member accepted.
    error CommitteeNotActive(uint256 programId);
    /// @notice Round `roundId` is in phase `phase`; the committee acts only on Finalized rounds.
    error RoundNotFinalized(uint256 roundId, IRoundManager.RoundPhase phase);
    /// @notice Round `roundId` already has the release record `releaseHash` anchored.
    error ReleaseAlreadyAnchored(uint256 roundId, bytes32 releaseHash);
    /// @notice Round `roundId` has no release anchored yet: nothing to settle.
    error ReleaseNotAnchored(uint256 roundId);
    /// @notice Member `memberNumber` already joined the release of round `roundId`.
    error AlreadyJoined(uint256 roundId, uint8 memberNumber);
    /// @notice The decrypting set of round `roundId` is complete already.
    error DecryptingSetFull(uint256 roundId);
    /// @notice Member `memberNumber` was dropped from round `roundId`'s release as silent and may not join it again.
    error MemberDroppedAsSilent(uint256 roundId, uint8 memberNumber);
    /// @notice Round `roundId` has no complete decrypting set waiting for shares (nothing to drop).
    error NoDecryptingSetWaiting(uint256 roundId);
    /// @notice Round `roundId`'s decrypting set has until `deadline` (chain time) to publish its shares.
    error SilenceDeadlineNotReached(uint256 roundId, uint256 deadline);
    /// @notice Member `memberNumber` is not in the decrypting set of round `roundId`.
    error NotInDecryptingSet(uint256 roundId, uint8 memberNumber);
    /// @notice Round `roundId`'s decrypting set has `joined` of its `threshold` members.
    error DecryptingSetIncomplete(uint256 roundId, uint256 joined, uint256 threshold);
    /// @notice A member publishes one share hash per output: `expected`, got `actual`.
    error WrongShareCount(uint256 expected, uint256 actual);
    /// @notice Share hash `index` is zero.
    error ZeroShareHash(uint256 index);
    /// @notice Member `memberNumber` already submitted its decryption shares for round `roundId`.
    error SharesAlreadySubmitted(uint256 roundId, uint8 memberNumber);
    /// @notice Only `submitted` of the decrypting set's `threshold` members published their shares for round `roundId`.
    error DecryptionSharesIncomplete(uint256 roundId, uint256 submitted, uint256 threshold);
    /// @notice A release record hash must not be zero.
    error ZeroReleaseHash();
    /// @notice Member `memberNumber` already approved the release of round `roundId`.
    error ReleaseAlreadyApproved(uint256 roundId, uint8 memberNumber);
    /// @notice Round `roundId`'s release is `expected` (first approval); `actual` differs.
    error ReleaseHashMismatch(uint256 roundId, bytes32 expected, bytes32 actual);
    /// @notice A settlement batch has 1 to `max` contributors; `count` were given.
    error SettlementBatchSize(uint256 count, uint256 max);
    /// @notice `contributors` contributors but `shares` shares.
    error SettlementLengthMismatch(uint256 contributors, uint256 shares);
    /// @notice `expected` input proofs are needed (one per {SHARES_PER_PROOF} shares); `actual` were given.
    error InputProofCountMismatch(uint256 expected, uint256 actual);
    /// @notice No proposal has id `proposalId`.
    error UnknownProposal(uint256 proposalId);
    /// @notice Proposal `proposalId` was executed already.
    error ProposalAlreadyExecuted(uint256 proposalId);
    /// @notice The proposer of `proposalId` cannot confirm its own proposal.
    error ProposerCannotConfirm(uint256 proposalId, address proposer);
    /// @notice `member` already confirmed proposal `proposalId`.
    error AlreadyConfirmed(uint256 proposalId, address member);
    /// @notice The contributors given are not those of proposal `proposalId`.
    error ProposalContributorsMismatch(uint256 proposalId);
    /// @notice Executing needs `expected` confirmations (t - 1); `actual` were named.
    error WrongConfirmationCount(uint256 expected, uint256 actual);
    /// @notice Round `roundId` is not a period of a usage program with terms: there are no usage totals to seal.
    error NotAUsagePeriodOfCommittee(uint256 roundId);
    /// @notice Confirmer `index` did not confirm proposal `proposalId`, or confirmers are not in ascending order.
    error InvalidConfirmer(uint256 proposalId, uint256 index, address confirmer);

    /// @notice Program `programId`'s committee (all zero when none).
    function committeeOf(uint256 programId) external view returns (Committee memory);

    /// @notice The members of program `programId`'s committee; member k is element k - 1.
    function membersOf(uint256 programId) external view returns (address[] memory);

    /// @notice The recorded key-share commitment hashes of program `programId`'s members, by member.
    function shareCommitmentsOf(uint256 programId) external view returns (bytes32[] memory);

    /// @notice `account`'s member number (1…n) in program `programId`'s committee, 0 when not a member.
    function memberNumberOf(uint256 programId, address account) external view returns (uint8);

    /// @notice Whether `account` is a member of the committee of round `roundId`'s program (who may read its inputs).
    function isRoundMember(uint256 roundId, address account) external view returns (bool);

    /// @notice The release of round `roundId`.
    function releaseOf(uint256 roundId) external view returns (Release memory);

    /// @notice The decrypting set of round `roundId` so far (ascending member numbers).
    function decryptingSetOf(uint256 roundId) external view returns (uint8[] memory);

    /// @notice Member `memberNumber`'s decryption share hashes for round `roundId` (empty before it submitted).
    function decryptionSharesOf(uint256 roundId, uint8 memberNumber) external view returns (bytes32[] memory);

    /// @notice Settlement proposal `proposalId`.
    function proposal(uint256 proposalId) external view returns (Proposal memory);

    /// @notice The proposal's encrypted shares (readable by no one; the committee's own handles).
    function proposalShares(uint256 proposalId) external view returns (euint64[] memory);

    /// @notice `member`'s publicly decryptable agreement with proposal `proposalId` (zero handle when it did not
    /// confirm).
    function agreementOf(uint256 proposalId, address member) external view returns (ebool);

    /// @notice Number of settlement proposals; ids run from 1.
    function proposalCount() external view returns (uint256);
}
