// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {FHE, euint64, externalEuint64} from "@fhevm/solidity/lib/FHE.sol";
import {ZamaEthereumConfig} from "@fhevm/solidity/config/ZamaConfig.sol";
import {IProgramRegistry} from "../interfaces/IProgramRegistry.sol";
import {IRoundManager} from "../interfaces/IRoundManager.sol";
import {IUsageTerms} from "../interfaces/IUsageTerms.sol";

/**
 * @title UsageTerms
 * @notice The on-chain payee set and rules of usage-metered royalty programs (see {IUsageTerms}).
 *
 * Why a terms record rather than artists committing to each period: the artists are fixed by the program (the
 * operator attributes to them in a fixed order), an artist that forgot to commit to a period would lose its usage to
 * the others, and a period's round has one committer that matters, the operator, whose report must never be paid.
 * So the network names the artists once, before its custodian accepts the program (the custodian consents to them),
 * and {RoyaltyDistributor} settles a usage round's pool to exactly these artists: the operator, a committer of the
 * round, and anyone else are refused; the network cannot change the payees or the rules once a round can exist.
 * The terms are bound to the program: it must have been created as a Usage program whose `termsHash` is theirs.
 *
 * Once a period is released, its custodian seals each artist's usage total here ({sealUsageTotals}), an euint64 in
 * millionths allowed to that artist and this contract only: an artist learns its own usage, never another's.
 */
contract UsageTerms is IUsageTerms, ZamaEthereumConfig {
    /// @inheritdoc IUsageTerms
    uint256 public constant MAX_ARTISTS = 256;
    /// @inheritdoc IUsageTerms
    uint64 public constant USAGE_TOTAL_SCALE = 1_000_000;
    /// @inheritdoc IUsageTerms
    uint256 public constant TOTALS_PER_PROOF = 32;
    uint256 private constant _FULL_WEIGHT_BPS = 10_000;

    /// @notice The hub whose programs and rounds these terms belong to.
    IRoundManager public immutable rounds;

    mapping(uint256 programId => UsageTermsConfig) private _terms;
    mapping(uint256 programId => bytes32) private _termsHashes;
    mapping(uint256 programId => mapping(address account => bool)) private _isArtist;
    mapping(uint256 roundId => mapping(address artist => euint64)) private _usageTotals;
    mapping(uint256 roundId => uint256) private _sealedCounts;

    constructor(IRoundManager rounds_) {
        rounds = rounds_;
    }

    /// @inheritdoc IUsageTerms
    function setTerms(uint256 programId, UsageTermsConfig calldata terms) external returns (bytes32 termsHash) {
        IRoundManager.Program memory p = rounds.program(programId);
        if (p.network != msg.sender) revert NotUsageNetwork(programId, msg.sender);
        if (p.kind != IProgramRegistry.ProgramKind.Usage) revert NotAUsageProgramKind(programId, p.kind);
        if (rounds.isProgramActive(programId)) revert ProgramAlreadyActive(programId);
        bytes32 existing = _termsHashes[programId];
        if (existing != bytes32(0)) revert UsageTermsAlreadySet(programId, existing);
        _checkRules(terms);

        uint256 count = terms.artists.length;
        if (count == 0 || count > MAX_ARTISTS) revert ArtistCountOutOfRange(count, MAX_ARTISTS);
        mapping(address => bool) storage listed = _isArtist[programId];
        for (uint256 i = 0; i < count; ++i) {
            address artist = terms.artists[i];
            if (artist == address(0)) revert ZeroArtist(i);
            if (listed[artist]) revert DuplicateArtist(artist, i);
            listed[artist] = true;
        }
        if (listed[terms.operator]) revert OperatorIsArtist(terms.operator);

        termsHash = keccak256(abi.encode(terms));
        if (termsHash != p.termsHash) revert UsageTermsHashMismatch(programId, p.termsHash, termsHash);
        _terms[programId] = terms;
        _termsHashes[programId] = termsHash;
        emit UsageTermsSet(programId, msg.sender, termsHash, terms.operator, count);
    }

    /// @inheritdoc IUsageTerms
    function isUsageProgram(uint256 programId) external view returns (bool) {
        return _termsHashes[programId] != bytes32(0);
    }

    /// @inheritdoc IUsageTerms
    function termsOf(uint256 programId) external view returns (UsageTermsConfig memory) {
        return _terms[programId];
    }

    /// @inheritdoc IUsageTerms
    function termsHashOf(uint256 programId) external view returns (bytes32) {
        return _termsHashes[programId];
    }

    /// @inheritdoc IUsageTerms
    function isArtist(uint256 programId, address account) external view returns (bool) {
        return _isArtist[programId][account];
    }

    /// @inheritdoc IUsageTerms
    function artistCount(uint256 programId) external view returns (uint256) {
        return _terms[programId].artists.length;
    }

    /// @inheritdoc IUsageTerms
    function generationsOf(uint256 roundId) public view returns (uint64) {
        uint256 programId = rounds.round(roundId).programId;
        address operator = _terms[programId].operator;
        if (operator == address(0) || !rounds.isIncluded(roundId, operator)) return 0;
        return rounds.commitmentAt(roundId, rounds.commitmentIndexOf(roundId, operator)).sampleCount;
    }

    /// @inheritdoc IUsageTerms
    function sealUsageTotals(
        uint256 roundId,
        address[] calldata artists,
        externalEuint64[] calldata totals,
        bytes[] calldata inputProofs
    ) external {
        uint256 programId = _checkSealing(roundId);
        uint256 count = artists.length;
        if (count == 0) revert EmptyUsageTotals(roundId);
        if (totals.length != count) revert UsageTotalsLengthMismatch(count, totals.length);
        uint256 expectedProofs = (count + TOTALS_PER_PROOF - 1) / TOTALS_PER_PROOF;
        if (inputProofs.length != expectedProofs)
            revert UsageTotalsProofCountMismatch(expectedProofs, inputProofs.length);
        mapping(address => bool) storage listed = _isArtist[programId];
        mapping(address => euint64) storage sealedTotals = _usageTotals[roundId];
        for (uint256 i = 0; i < count; ++i) {
            address artist = artists[i];
            if (!listed[artist]) revert NotAnArtistOfPeriod(roundId, artist);
            if (FHE.isInitialized(sealedTotals[artist])) revert UsageTotalAlreadySealed(roundId, artist);
            euint64 total = FHE.fromExternal(totals[i], inputProofs[i / TOTALS_PER_PROOF]);
            // The artist alone: not the custodian (it released the totals), the operator, the network or the others.
            FHE.allowThis(total);
            FHE.allow(total, artist);
            sealedTotals[artist] = total;
            emit UsageTotalSealed(roundId, artist, total);
        }
        _sealedCounts[roundId] += count;
    }

    /// @inheritdoc IUsageTerms
    function usageTotalOf(uint256 roundId, address artist) external view returns (euint64) {
        return _usageTotals[roundId][artist];
    }

    /// @inheritdoc IUsageTerms
    function sealedTotalCount(uint256 roundId) external view returns (uint256) {
        return _sealedCounts[roundId];
    }

    /// @dev Checks that `roundId` is a Finalized period of a usage program with enough generations and that the caller
    /// is its program's custodian; returns the program's id.
    function _checkSealing(uint256 roundId) private view returns (uint256 programId) {
        IRoundManager.Round memory r = rounds.round(roundId);
        programId = r.programId;
        if (_termsHashes[programId] == bytes32(0)) revert NotAUsagePeriod(roundId);
        if (r.phase != IRoundManager.RoundPhase.Finalized) revert UsagePeriodNotFinalized(roundId, r.phase);
        if (rounds.program(programId).custodian != msg.sender) revert NotUsageCustodian(roundId, msg.sender);
        uint64 minimum = _terms[programId].minGenerations;
        if (minimum == 0) minimum = 1;
        uint64 generations = generationsOf(roundId);
        if (generations < minimum) revert TooFewGenerations(roundId, generations, minimum);
    }

    /// @dev The rules apart from the artists: an operator, a positive cap, a weight in [0, 1] with its scores' hash.
    function _checkRules(UsageTermsConfig calldata terms) private pure {
        if (terms.operator == address(0)) revert ZeroOperator();
        if (terms.capMicros == 0) revert ZeroCap();
        if (terms.usageWeightBps > _FULL_WEIGHT_BPS) revert UsageWeightOutOfRange(terms.usageWeightBps);
        bool mixed = terms.usageWeightBps < _FULL_WEIGHT_BPS;
        if (mixed == (terms.qualityScoresHash == bytes32(0))) {
            revert QualityScoresHashMismatch(terms.usageWeightBps, terms.qualityScoresHash);
        }
    }
}
