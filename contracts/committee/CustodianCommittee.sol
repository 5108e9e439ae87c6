// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {FHE, ebool, euint64, externalEuint64} from "@fhevm/solidity/lib/FHE.sol";
import {ZamaEthereumConfig} from "@fhevm/solidity/config/ZamaConfig.sol";
import {IProgramRegistry} from "../interfaces/IProgramRegistry.sol";
import {IRoundManager} from "../interfaces/IRoundManager.sol";
import {ICustodianCommittee} from "../interfaces/ICustodianCommittee.sol";
import {IHubCustody, IRoyaltySettlement, IUsageSealing} from "../interfaces/ICustodianCalls.sol";

/**
 * @title CustodianCommittee
 * @notice The custodian of committee programs: a program names this contract as its custodian, and the contract
 * accepts, anchors releases and settles only on what t of the program's n members did (see
 * {ICustodianCommittee}). No member holds the CKKS secret key: each holds a Shamir share of it, and a round's
 * outputs decrypt only when t members publish partial decryptions (off-chain, hashes recorded here).
 * @dev A separate contract so that neither the hub nor the distributor grows: to them the committee is one custodian.
 * One committee contract serves any number of programs.
 */
contract CustodianCommittee is ICustodianCommittee, ZamaEthereumConfig {
    /// @notice Most members a committee may have (member k is bit k of a 32-bit map; member numbers are bytes).
    uint8 public constant MAX_MEMBERS = 31;
    /// @notice Outputs a round releases: 0 the aggregate (global model), 1 the encrypted scores. A usage period
    /// releases one: its totals.
    uint256 public constant OUTPUTS_PER_ROUND = 2;
    /// @notice Most contributors per settlement proposal: executing one settles it in the same transaction on the
    /// distributor, whose exact sums cost HCU (its own limit is 67); the confirmations' comparisons stay far below.
    uint256 public constant SHARES_PER_PROPOSAL = 54;
    /// @notice Shares per input proof (2048 bits of euint64), as on the distributor.
    uint256 public constant SHARES_PER_PROOF = 32;
    /// @notice How long a formed decrypting set has to publish all its decryption shares; after that anyone may drop
    /// its silent members ({dropSilentMembers}) so that the others release without them.
    uint64 public constant SHARE_DEADLINE = 10 minutes;

    /// @notice The hub whose programs name this committee.
    IRoundManager public immutable hub;
    /// @notice The distributor settled through.
    IRoyaltySettlement public immutable distributor;

    mapping(uint256 programId => Committee) private _committees;
    mapping(uint256 programId => address[]) private _members;
    mapping(uint256 programId => bytes32[]) private _shareCommitments;
    mapping(uint256 programId => mapping(address account => uint8)) private _memberNumbers;
    mapping(uint256 programId => uint32) private _acceptedMembers;

    mapping(uint256 roundId => Release) private _releases;
    mapping(uint256 roundId => mapping(uint8 memberNumber => bytes32[])) private _decryptionShares;

    uint256 private _proposalCount;
    mapping(uint256 proposalId => Proposal) private _proposals;
    mapping(uint256 proposalId => euint64[]) private _proposalShares;
    mapping(uint256 proposalId => mapping(address member => ebool)) private _agreements;

    constructor(IRoundManager hub_, IRoyaltySettlement distributor_) {
        hub = hub_;
        distributor = distributor_;
    }

    // ----------------------------------------------------------------------------------------------- custody

    /**
     * @notice Registers the committee of program `programId`; only its network, once, and only for a program whose
     * custodian is this contract.
     * @param members The n members; member k (its Shamir x-coordinate) is `members[k - 1]`.
     * @param threshold t; 0 means a majority (n / 2 + 1: 2 of 3).
     * @param shareCommitments keccak256 of each member's key-share commitment, from the dealer's ceremony.
     */
    function registerCommittee(
        uint256 programId,
        address[] calldata members,
        uint8 threshold,
        bytes32[] calldata shareCommitments
    ) external {
        IRoundManager.Program memory p = hub.program(programId);
        if (msg.sender != p.network) revert IProgramRegistry.NotProgramNetwork(programId, msg.sender);
        if (p.custodian != address(this)) revert NotCommitteeCustodian(programId, p.custodian);
        if (_committees[programId].memberCount != 0) revert CommitteeAlreadyRegistered(programId);
        uint256 n = members.length;
        if (n == 0 || n > MAX_MEMBERS) revert CommitteeSizeOutOfRange(n, MAX_MEMBERS);
        uint8 t = threshold == 0 ? uint8(n / 2 + 1) : threshold;
        if (t > n) revert ThresholdOutOfRange(t, n);
        if (shareCommitments.length != n) revert ShareCommitmentCountMismatch(n, shareCommitments.length);
        mapping(address => uint8) storage numbers = _memberNumbers[programId];
        for (uint256 i = 0; i < n; ++i) {
            address member = members[i];
            if (member == address(0) || numbers[member] != 0) revert InvalidMember(i, member);
            if (shareCommitments[i] == bytes32(0)) revert ZeroShareCommitment(i);
            numbers[member] = uint8(i + 1);
        }
        _committees[programId] = Committee({memberCount: uint8(n), threshold: t, acceptedCount: 0, active: false});
        _members[programId] = members;
        _shareCommitments[programId] = shareCommitments;
        emit CommitteeRegistered(programId, msg.sender, members, t, shareCommitments);
    }

    /**
     * @notice The caller, a member of program `programId`'s committee, accepts to serve it with the key share whose
     * commitment hashes to `shareCommitment` (which must be the one recorded at registration: a member handed
     * another share than the dealer recorded refuses here). The last acceptance activates the program on the hub.
     */
    function acceptProgramShare(uint256 programId, bytes32 shareCommitment) external {
        Committee storage c = _committee(programId);
        uint8 number = _memberNumber(programId, msg.sender);
        uint32 bit = uint32(1) << number;
        if (_acceptedMembers[programId] & bit != 0) revert ShareAlreadyAccepted(programId, msg.sender);
        bytes32 expected = _shareCommitments[programId][number - 1];
        if (shareCommitment != expected) {
            revert ShareCommitmentMismatch(programId, msg.sender, expected, shareCommitment);
        }
        _acceptedMembers[programId] |= bit;
        ++c.acceptedCount;
        emit ProgramShareAccepted(programId, msg.sender, number, shareCommitment);
        if (c.acceptedCount == c.memberCount) {
            c.active = true;
            IHubCustody(address(hub)).acceptProgram(programId);
            emit CommitteeActivated(programId);
        }
    }

    // ----------------------------------------------------------------------------------------------- release

    /**
     * @notice The caller, a member of round `roundId`'s committee, joins its release: it recomputed the round's
     * outputs from the committed inputs and found them as published. Only for a Finalized round (after its dispute
     * window) not released yet. The first t members to join form the decrypting set.
     */
    function joinRelease(uint256 roundId) external {
        (uint8 number, Committee storage c) = _releasingMember(roundId);
        Release storage release = _releases[roundId];
        uint32 bit = uint32(1) << number;
        if (release.silent & bit != 0) revert MemberDroppedAsSilent(roundId, number);
        if (release.joined & bit != 0) revert AlreadyJoined(roundId, number);
        if (release.joinedCount >= c.threshold) revert DecryptingSetFull(roundId);
        release.joined |= bit;
        ++release.joinedCount;
        emit ReleaseJoined(roundId, msg.sender, number);
        if (release.joinedCount == c.threshold) {
            release.formedAt = uint64(block.timestamp);
            emit DecryptingSetFormed(roundId, _bits(release.joined));
        }
    }

    /**
     * @notice Anyone may dissolve round `roundId`'s decrypting set once {SHARE_DEADLINE} passed since it formed
     * with some of its members' decryption shares still missing: those members are recorded as silent (they may
     * not join this round's release again) and the others join a new set. Partial decryptions depend on the set
     * (Lagrange coefficients), so the shares already published are superseded.
     */
    function dropSilentMembers(uint256 roundId) external {
        IRoundManager.Round memory r = hub.round(roundId);
        Committee storage c = _committee(r.programId);
        if (r.phase != IRoundManager.RoundPhase.Finalized) revert RoundNotFinalized(roundId, r.phase);
        if (r.releaseHash != bytes32(0)) revert ReleaseAlreadyAnchored(roundId, r.releaseHash);
        Release storage release = _releases[roundId];
        if (release.joinedCount < c.threshold || release.submittedCount >= c.threshold) {
            revert NoDecryptingSetWaiting(roundId);
        }
        uint256 deadline = uint256(release.formedAt) + SHARE_DEADLINE;
        if (block.timestamp < deadline) revert SilenceDeadlineNotReached(roundId, deadline);
        uint32 silentMembers = release.joined & ~release.submitted;
        release.silent |= silentMembers;
        release.joined = 0;
        release.joinedCount = 0;
        release.submitted = 0;
        release.submittedCount = 0;
        release.formedAt = 0;
        ++release.attempt;
        emit SilentMembersDropped(roundId, _bits(silentMembers), release.attempt);
    }

    /**
     * @notice A member of round `roundId`'s decrypting set publishes the keccak256 of its partial decryption of each
     * output (`shareHashes[0]` aggregate, `[1]` scores), whose blobs are in the store.
     */
    function submitDecryptionShares(uint256 roundId, bytes32[] calldata shareHashes) external {
        (uint8 number, Committee storage c) = _releasingMember(roundId);
        Release storage release = _releases[roundId];
        uint32 bit = uint32(1) << number;
        if (release.joined & bit == 0) revert NotInDecryptingSet(roundId, number);
        if (release.joinedCount < c.threshold) {
            revert DecryptingSetIncomplete(roundId, release.joinedCount, c.threshold);
        }
        uint256 outputs = _isUsage(hub.round(roundId).programId) ? 1 : OUTPUTS_PER_ROUND;
        if (shareHashes.length != outputs) revert WrongShareCount(outputs, shareHashes.length);
        for (uint256 i = 0; i < shareHashes.length; ++i) {
            if (shareHashes[i] == bytes32(0)) revert ZeroShareHash(i);
        }
        if (release.submitted & bit != 0) revert SharesAlreadySubmitted(roundId, number);
        release.submitted |= bit;
        ++release.submittedCount;
        _decryptionShares[roundId][number] = shareHashes;
        emit DecryptionSharesSubmitted(roundId, msg.sender, number, shareHashes);
    }

    /**
     * @notice A member of round `roundId`'s committee approves the release record `releaseHash` it combined from the
     * decrypting set's published shares (the combination is public: a member outside the set redoes it, so a set
     * member that goes silent after publishing its shares does not stall the round). The first approval fixes the
     * candidate; every other approver must approve the same hash. When t members approved, the committee anchors it
     * on the hub.
     */
    function approveRelease(uint256 roundId, bytes32 releaseHash) external {
        (uint8 number, Committee storage c) = _releasingMember(roundId);
        if (releaseHash == bytes32(0)) revert ZeroReleaseHash();
        Release storage release = _releases[roundId];
        uint32 bit = uint32(1) << number;
        if (release.silent & bit != 0) revert MemberDroppedAsSilent(roundId, number);
        if (release.submittedCount < c.threshold) {
            revert DecryptionSharesIncomplete(roundId, release.submittedCount, c.threshold);
        }
        if (release.approved & bit != 0) revert ReleaseAlreadyApproved(roundId, number);
        if (release.releaseHash == bytes32(0)) {
            release.releaseHash = releaseHash;
        } else if (release.releaseHash != releaseHash) {
            revert ReleaseHashMismatch(roundId, release.releaseHash, releaseHash);
        }
        release.approved |= bit;
        ++release.approvedCount;
        emit ReleaseApproved(roundId, msg.sender, number, releaseHash);
        if (release.approvedCount == c.threshold) {
            IHubCustody(address(hub)).anchorRelease(roundId, releaseHash);
            emit ReleaseAgreed(roundId, releaseHash, release.joined);
        }
    }

    // -------------------------------------------------------------------------------------------- settlement

    /**
     * @notice A member proposes settling `contributors` of round `roundId` (Finalized, release anchored) with the
     * encrypted `shares` (inputs of this contract for the caller, {SHARES_PER_PROOF} per proof). With a threshold of
     * 1 the proposal is settled at once; otherwise it waits for t - 1 confirmations.
     */
    function proposeSettlement(
        uint256 roundId,
        address[] calldata contributors,
        externalEuint64[] calldata shares,
        bytes[] calldata inputProofs
    ) external returns (uint256 proposalId) {
        proposalId = _propose(roundId, contributors, shares, inputProofs, false);
        emit SettlementProposed(proposalId, roundId, msg.sender, contributors);
        _executeIfAlone(proposalId, contributors);
    }

    /**
     * @notice A member proposes sealing the usage totals of `artists` for usage period `roundId` (Finalized, release
     * anchored): `totals` in millionths, as {IUsageTerms-sealUsageTotals} takes them, encrypted for this contract.
     * Confirmed and executed as a settlement; executing relays the seal to the usage terms, whose checks apply
     * (artists of the program, each once, enough generations).
     */
    function proposeUsageSeal(
        uint256 roundId,
        address[] calldata artists,
        externalEuint64[] calldata totals,
        bytes[] calldata inputProofs
    ) external returns (uint256 proposalId) {
        if (!_isUsage(hub.round(roundId).programId)) revert NotAUsagePeriodOfCommittee(roundId);
        proposalId = _propose(roundId, artists, totals, inputProofs, true);
        emit UsageSealProposed(proposalId, roundId, msg.sender, artists);
        _executeIfAlone(proposalId, artists);
    }

    /**
     * @notice Another member confirms proposal `proposalId` with its own encryption of the same shares, computed
     * independently from the released values. The comparison is encrypted; its verdict (one ebool: every share
     * equal) is publicly decryptable and gates {executeSettlement}.
     * @return agreed The verdict's handle.
     */
    function confirmSettlement(
        uint256 proposalId,
        externalEuint64[] calldata shares,
        bytes[] calldata inputProofs
    ) external returns (ebool agreed) {
        Proposal storage p = _openProposal(proposalId);
        _memberNumber(p.programId, msg.sender);
        if (msg.sender == p.proposer) revert ProposerCannotConfirm(proposalId, msg.sender);
        if (FHE.isInitialized(_agreements[proposalId][msg.sender])) revert AlreadyConfirmed(proposalId, msg.sender);
        if (shares.length != p.shareCount) revert SettlementLengthMismatch(p.shareCount, shares.length);
        euint64[] memory mine = _readShares(shares, inputProofs);
        euint64[] storage proposed = _proposalShares[proposalId];
        ebool[] memory equal = new ebool[](mine.length);
        for (uint256 i = 0; i < mine.length; ++i) equal[i] = FHE.eq(proposed[i], mine[i]);
        agreed = _all(equal);
        FHE.allowThis(agreed);
        FHE.makePubliclyDecryptable(agreed);
        _agreements[proposalId][msg.sender] = agreed;
        ++p.confirmations;
        emit SettlementConfirmed(proposalId, msg.sender, agreed);
    }

    /**
     * @notice Settles proposal `proposalId` on the distributor; anyone may call, with the KMS proof that the
     * agreements of `confirmers` (t - 1 members that confirmed it, ascending addresses) all decrypt to true. A forged
     * proposal has no such proof.
     */
    function executeSettlement(
        uint256 proposalId,
        address[] calldata contributors,
        address[] calldata confirmers,
        bytes calldata decryptionProof
    ) external {
        Proposal storage p = _openProposal(proposalId);
        uint256 needed = _committees[p.programId].threshold - 1;
        if (confirmers.length != needed) revert WrongConfirmationCount(needed, confirmers.length);
        bytes32[] memory handles = new bytes32[](needed);
        mapping(address => ebool) storage agreements = _agreements[proposalId];
        for (uint256 i = 0; i < needed; ++i) {
            address confirmer = confirmers[i];
            ebool agreed = agreements[confirmer];
            if (!FHE.isInitialized(agreed) || (i > 0 && confirmer <= confirmers[i - 1])) {
                revert InvalidConfirmer(proposalId, i, confirmer);
            }
            handles[i] = ebool.unwrap(agreed);
        }
        // abi.encode(true, …, true): one 32-byte word of 1 per handle.
        bytes memory cleartexts = new bytes(32 * needed);
        for (uint256 i = 0; i < needed; ++i) cleartexts[32 * i + 31] = 0x01;
        FHE.checkSignatures(handles, cleartexts, decryptionProof);
        _execute(proposalId, contributors);
    }

    /// @notice A member of round `roundId`'s committee declares its settlement complete on the distributor (which
    /// checks that every included contributor is settled).
    function completeSettlement(uint256 roundId) external {
        _finalizedRoundMember(roundId);
        distributor.completeSettlement(roundId);
    }

    // ------------------------------------------------------------------------------------------------- reads

    /// @inheritdoc ICustodianCommittee
    function committeeOf(uint256 programId) external view returns (Committee memory) {
        return _committees[programId];
    }

    /// @inheritdoc ICustodianCommittee
    function membersOf(uint256 programId) external view returns (address[] memory) {
        return _members[programId];
    }

    /// @inheritdoc ICustodianCommittee
    function shareCommitmentsOf(uint256 programId) external view returns (bytes32[] memory) {
        return _shareCommitments[programId];
    }

    /// @inheritdoc ICustodianCommittee
    function memberNumberOf(uint256 programId, address account) external view returns (uint8) {
        return _memberNumbers[programId][account];
    }

    /// @inheritdoc ICustodianCommittee
    function isRoundMember(uint256 roundId, address account) external view returns (bool) {
        return _memberNumbers[hub.round(roundId).programId][account] != 0;
    }

    /// @inheritdoc ICustodianCommittee
    function releaseOf(uint256 roundId) external view returns (Release memory) {
        return _releases[roundId];
    }

    /// @inheritdoc ICustodianCommittee
    function decryptingSetOf(uint256 roundId) external view returns (uint8[] memory) {
        return _bits(_releases[roundId].joined);
    }

    /// @inheritdoc ICustodianCommittee
    function decryptionSharesOf(uint256 roundId, uint8 memberNumber) external view returns (bytes32[] memory) {
        return _decryptionShares[roundId][memberNumber];
    }

    /// @inheritdoc ICustodianCommittee
    function proposal(uint256 proposalId) external view returns (Proposal memory) {
        return _proposals[proposalId];
    }

    /// @inheritdoc ICustodianCommittee
    function proposalShares(uint256 proposalId) external view returns (euint64[] memory) {
        return _proposalShares[proposalId];
    }

    /// @inheritdoc ICustodianCommittee
    function agreementOf(uint256 proposalId, address member) external view returns (ebool) {
        return _agreements[proposalId][member];
    }

    /// @inheritdoc ICustodianCommittee
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    // --------------------------------------------------------------------------------------------- internals

    function _committee(uint256 programId) private view returns (Committee storage c) {
        c = _committees[programId];
        if (c.memberCount == 0) revert CommitteeNotRegistered(programId);
    }

    function _memberNumber(uint256 programId, address account) private view returns (uint8 number) {
        number = _memberNumbers[programId][account];
        if (number == 0) revert NotCommitteeMember(programId, account);
    }

    /// @dev Round `roundId`, the caller's member number in its program's active committee, and that committee;
    /// reverts unless the round is Finalized.
    function _finalizedRoundMember(
        uint256 roundId
    ) private view returns (IRoundManager.Round memory r, uint8 number, Committee storage c) {
        r = hub.round(roundId);
        c = _committee(r.programId);
        number = _memberNumber(r.programId, msg.sender);
        if (!c.active) revert CommitteeNotActive(r.programId);
        if (r.phase != IRoundManager.RoundPhase.Finalized) revert RoundNotFinalized(roundId, r.phase);
    }

    /// @dev As {_finalizedRoundMember}, for a round whose release is not anchored yet.
    function _releasingMember(uint256 roundId) private view returns (uint8 number, Committee storage c) {
        IRoundManager.Round memory r;
        (r, number, c) = _finalizedRoundMember(roundId);
        if (r.releaseHash != bytes32(0)) revert ReleaseAlreadyAnchored(roundId, r.releaseHash);
    }

    function _openProposal(uint256 proposalId) private view returns (Proposal storage p) {
        p = _proposals[proposalId];
        if (p.proposer == address(0)) revert UnknownProposal(proposalId);
        if (p.executed) revert ProposalAlreadyExecuted(proposalId);
    }

    /// @dev Records a proposal of the caller, a member of round `roundId`'s committee (round Finalized, release
    /// anchored).
    function _propose(
        uint256 roundId,
        address[] calldata contributors,
        externalEuint64[] calldata shares,
        bytes[] calldata inputProofs,
        bool seal
    ) private returns (uint256 proposalId) {
        (IRoundManager.Round memory r, , ) = _finalizedRoundMember(roundId);
        if (r.releaseHash == bytes32(0)) revert ReleaseNotAnchored(roundId);
        uint256 count = contributors.length;
        if (count == 0 || count > SHARES_PER_PROPOSAL) revert SettlementBatchSize(count, SHARES_PER_PROPOSAL);
        if (shares.length != count) revert SettlementLengthMismatch(count, shares.length);
        euint64[] memory values = _readShares(shares, inputProofs);

        proposalId = ++_proposalCount;
        _proposals[proposalId] = Proposal({
            roundId: uint64(roundId),
            programId: r.programId,
            shareCount: uint32(count),
            confirmations: 0,
            executed: false,
            proposer: msg.sender,
            contributorsHash: keccak256(abi.encodePacked(contributors)),
            seal: seal
        });
        euint64[] storage stored = _proposalShares[proposalId];
        for (uint256 i = 0; i < count; ++i) stored.push(values[i]);
    }

    /// @dev With a threshold of 1 a proposal needs no confirmation: executed at once.
    function _executeIfAlone(uint256 proposalId, address[] calldata contributors) private {
        if (_committees[_proposals[proposalId].programId].threshold == 1) _execute(proposalId, contributors);
    }

    /// @dev Whether program `programId` is a usage program with terms (its periods release one output: totals).
    function _isUsage(uint256 programId) private view returns (bool) {
        return _usageTerms().isUsageProgram(programId);
    }

    /// @dev The usage terms the distributor settles usage periods by (the contract that takes the sealed totals).
    function _usageTerms() private view returns (IUsageSealing) {
        return IUsageSealing(IRoyaltySettlement(address(distributor)).usageTerms());
    }

    /// @dev Verifies each share against its input proof (for this contract and the caller); keeps the handles.
    function _readShares(
        externalEuint64[] calldata shares,
        bytes[] calldata inputProofs
    ) private returns (euint64[] memory values) {
        uint256 expectedProofs = (shares.length + SHARES_PER_PROOF - 1) / SHARES_PER_PROOF;
        if (inputProofs.length != expectedProofs) revert InputProofCountMismatch(expectedProofs, inputProofs.length);
        values = new euint64[](shares.length);
        for (uint256 i = 0; i < shares.length; ++i) {
            values[i] = FHE.fromExternal(shares[i], inputProofs[i / SHARES_PER_PROOF]);
            FHE.allowThis(values[i]);
        }
    }

    /// @dev AND of all, as a balanced tree (dependency depth ceil(log2(n))).
    function _all(ebool[] memory values) private returns (ebool) {
        uint256 width = values.length;
        while (width > 1) {
            uint256 half = width / 2;
            for (uint256 i = 0; i < half; ++i) values[i] = FHE.and(values[2 * i], values[2 * i + 1]);
            if (width % 2 == 1) values[half] = values[width - 1];
            width = half + (width % 2);
        }
        return values[0];
    }

    /// @dev Settles the proposal's shares on the distributor, or for a seal proposal seals them on the usage terms:
    /// the callee may use them for this transaction only, and takes them with empty proofs (handles this contract is
    /// allowed to use).
    function _execute(uint256 proposalId, address[] calldata contributors) private {
        Proposal storage p = _proposals[proposalId];
        if (keccak256(abi.encodePacked(contributors)) != p.contributorsHash) {
            revert ProposalContributorsMismatch(proposalId);
        }
        p.executed = true;
        address callee = p.seal ? address(_usageTerms()) : address(distributor);
        euint64[] storage stored = _proposalShares[proposalId];
        uint256 count = stored.length;
        externalEuint64[] memory handles = new externalEuint64[](count);
        for (uint256 i = 0; i < count; ++i) {
            FHE.allowTransient(stored[i], callee);
            handles[i] = externalEuint64.wrap(euint64.unwrap(stored[i]));
        }
        bytes[] memory proofs = new bytes[]((count + SHARES_PER_PROOF - 1) / SHARES_PER_PROOF);
        if (p.seal) {
            IUsageSealing(callee).sealUsageTotals(p.roundId, contributors, handles, proofs);
            emit UsageTotalsSealed(proposalId, p.roundId);
        } else {
            distributor.settle(p.roundId, contributors, handles, proofs);
            emit SettlementExecuted(proposalId, p.roundId);
        }
    }

    /// @dev The member numbers whose bits are set, ascending.
    function _bits(uint32 bitmap) private pure returns (uint8[] memory numbers) {
        uint256 count;
        for (uint32 b = bitmap; b != 0; b &= b - 1) ++count;
        numbers = new uint8[](count);
        uint256 k;
        for (uint8 i = 1; i <= MAX_MEMBERS; ++i) {
            if (bitmap & (uint32(1) << i) != 0) numbers[k++] = i;
        }
    }
}
