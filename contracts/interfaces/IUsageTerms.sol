// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {euint64, externalEuint64} from "@fhevm/solidity/lib/FHE.sol";
import {IProgramRegistry} from "./IProgramRegistry.sol";
import {IRoundManager} from "./IRoundManager.sol";

/**
 * @title IUsageTerms
 * @notice The terms of usage-metered royalty programs (docs/usage.md): who the artists are, in attribution order, and
 * the rules every period (round) of the program runs under. A program with usage terms pays its artists, never its
 * committers: the operator commits each period's usage report to the round, and the distributor settles the round's
 * pool to the artists named here. Terms are set once by the program's network before its custodian accepts the
 * program, so no round ever runs under terms the custodian did not read, and they never change. The program must have
 * been created as a {IProgramRegistry.ProgramKind.Usage} program whose `termsHash` is the hash of exactly these terms.
 *
 * Each artist's usage total of a released period is sealed here by the custodian ({sealUsageTotals}): an euint64 of
 * the total in millionths ({USAGE_TOTAL_SCALE}) that only that artist (and this contract) may decrypt.
 */
interface IUsageTerms {
    /**
     * @notice A usage program's terms, bound by `termsHash = keccak256(abi.encode(terms))`.
     * @param operator The model operator: the one account whose usage report counts (it is never paid).
     * @param minGenerations Fewest generations a period needs to be settled (a period of one generation would
     * reveal that generation's attribution); at least 1 is always required.
     * @param capMicros Per-generation cap on the sum of a generation's attribution vector, in millionths (1e6 = 1).
     * @param usageWeightBps Weight of usage in the split, in basis points: 10000 = pure usage, 7000 = 70 % usage and
     * 30 % Shapley quality.
     * @param qualityScoresHash keccak256 of the published quality scores file (a JSON array of the artists' Shapley
     * scores, in attribution order) the mix uses; zero exactly when `usageWeightBps` is 10000.
     * @param artists The payees, in attribution order: slot i of every attribution vector is `artists[i]`.
     */
    struct UsageTermsConfig {
        address operator;
        uint64 minGenerations;
        uint64 capMicros;
        uint16 usageWeightBps;
        bytes32 qualityScoresHash;
        address[] artists;
    }

    /// @notice `network` set the usage terms `termsHash` of program `programId`: `artistCount` artists, `operator`.
    event UsageTermsSet(
        uint256 indexed programId,
        address indexed network,
        bytes32 termsHash,
        address operator,
        uint256 artistCount
    );

    /// @notice The custodian sealed `artist`'s encrypted usage total `total` of period (round) `roundId`.
    event UsageTotalSealed(uint256 indexed roundId, address indexed artist, euint64 total);

    /// @notice Program `programId` is of kind `kind`, not Usage: it takes no usage terms.
    error NotAUsageProgramKind(uint256 programId, IProgramRegistry.ProgramKind kind);
    /// @notice The terms hash to `given`, but program `programId` was created with the terms hash `recorded`.
    error UsageTermsHashMismatch(uint256 programId, bytes32 recorded, bytes32 given);
    /// @notice Round `roundId` is not a period of a usage program (its program has no usage terms).
    error NotAUsagePeriod(uint256 roundId);
    /// @notice Round `roundId` is in phase `phase`; usage totals are sealed only once it is Finalized.
    error UsagePeriodNotFinalized(uint256 roundId, IRoundManager.RoundPhase phase);
    /// @notice `caller` is not the custodian of period `roundId`'s program.
    error NotUsageCustodian(uint256 roundId, address caller);
    /// @notice Period `roundId` has `generations` counted generations, fewer than its terms' minimum `minimum`.
    error TooFewGenerations(uint256 roundId, uint64 generations, uint64 minimum);
    /// @notice `account` is not an artist of period `roundId`'s program.
    error NotAnArtistOfPeriod(uint256 roundId, address account);
    /// @notice `artist`'s usage total of period `roundId` is already sealed (each total is sealed once).
    error UsageTotalAlreadySealed(uint256 roundId, address artist);
    /// @notice A batch of `artists` artists came with `totals` totals.
    error UsageTotalsLengthMismatch(uint256 artists, uint256 totals);
    /// @notice A batch of totals needs `expected` input proofs ({TOTALS_PER_PROOF} totals each); `given` were given.
    error UsageTotalsProofCountMismatch(uint256 expected, uint256 given);
    /// @notice A batch of totals must name at least one artist.
    error EmptyUsageTotals(uint256 roundId);

    /// @notice `caller` is not the network of program `programId`.
    error NotUsageNetwork(uint256 programId, address caller);
    /// @notice Program `programId` is already active (its custodian accepted it): its terms can no longer be set.
    error ProgramAlreadyActive(uint256 programId);
    /// @notice Program `programId` already has the usage terms `termsHash`; terms never change.
    error UsageTermsAlreadySet(uint256 programId, bytes32 termsHash);
    /// @notice `count` artists is outside [1, `limit`].
    error ArtistCountOutOfRange(uint256 count, uint256 limit);
    /// @notice Artist `index` is the zero address.
    error ZeroArtist(uint256 index);
    /// @notice `artist` is listed twice (at `index` the second time).
    error DuplicateArtist(address artist, uint256 index);
    /// @notice The operator must be a nonzero address.
    error ZeroOperator();
    /// @notice The operator `operator` is also listed as an artist: the one who reports usage is never paid by it.
    error OperatorIsArtist(address operator);
    /// @notice The per-generation cap must be positive.
    error ZeroCap();
    /// @notice A usage weight of `usageWeightBps` basis points is above 10000.
    error UsageWeightOutOfRange(uint256 usageWeightBps);
    /// @notice A mix (usage weight `usageWeightBps` below 10000) needs its quality scores' hash, and pure usage none.
    error QualityScoresHashMismatch(uint256 usageWeightBps, bytes32 qualityScoresHash);

    /// @notice Most artists a usage program may name (settled in batches; sealed payouts scanned in chunks).
    function MAX_ARTISTS() external view returns (uint256);

    /// @notice Scale of a sealed usage total: the euint64 holds round(total × 10^6), millionths like `capMicros`.
    function USAGE_TOTAL_SCALE() external view returns (uint64);

    /// @notice Sealed totals per input proof: an fhEVM input proof packs at most 2048 bits, i.e. 32 euint64.
    function TOTALS_PER_PROOF() external view returns (uint256);

    /**
     * @notice Sets the usage terms of program `programId`; only its network, once, before its custodian accepts it,
     * and only for a program created with kind Usage and `termsHash == keccak256(abi.encode(terms))`.
     * @return termsHash keccak256(abi.encode(terms)).
     */
    function setTerms(uint256 programId, UsageTermsConfig calldata terms) external returns (bytes32 termsHash);

    /// @notice Whether program `programId` has usage terms (pays artists, not committers).
    function isUsageProgram(uint256 programId) external view returns (bool);

    /// @notice The usage terms of program `programId` (all zero and no artists when it has none).
    function termsOf(uint256 programId) external view returns (UsageTermsConfig memory);

    /// @notice keccak256(abi.encode(terms)) of program `programId` (zero when it has none).
    function termsHashOf(uint256 programId) external view returns (bytes32);

    /// @notice Whether `account` is an artist of program `programId`.
    function isArtist(uint256 programId, address account) external view returns (bool);

    /// @notice Number of artists of program `programId` (0 when it has no usage terms).
    function artistCount(uint256 programId) external view returns (uint256);

    /**
     * @notice Generations of usage period (round) `roundId` that count: the sample count of the operator's report
     * commitment if the round's standing publication includes it, else 0.
     */
    function generationsOf(uint256 roundId) external view returns (uint64);

    /**
     * @notice Seals the released usage totals of period `roundId` to their artists: only the program's custodian, once
     * the round is Finalized and has at least the terms' minimum generations; each artist at most once, in batches.
     * Each total is decryptable by its artist alone (and usable by this contract); nobody else, the custodian, the
     * operator and the network included, is allowed on it.
     * @param artists Artists of the program, each not sealed before.
     * @param totals Encrypted totals in millionths ({USAGE_TOTAL_SCALE}), inputs for this contract and the custodian;
     * `totals[i]` belongs to `inputProofs[i / TOTALS_PER_PROOF]`.
     */
    function sealUsageTotals(
        uint256 roundId,
        address[] calldata artists,
        externalEuint64[] calldata totals,
        bytes[] calldata inputProofs
    ) external;

    /// @notice `artist`'s sealed usage total of period `roundId` (the zero handle until sealed).
    function usageTotalOf(uint256 roundId, address artist) external view returns (euint64);

    /// @notice How many artists' usage totals of period `roundId` are sealed.
    function sealedTotalCount(uint256 roundId) external view returns (uint256);
}
