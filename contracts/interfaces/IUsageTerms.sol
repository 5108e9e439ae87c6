// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/**
 * @title IUsageTerms
 * @notice The terms of usage-metered royalty programs (docs/usage.md): who the artists are, in attribution order, and
 * the rules every period (round) of the program runs under. A program with usage terms pays its artists, never its
 * committers: the operator commits each period's usage report to the round, and the distributor settles the round's
 * pool to the artists named here. Terms are set once by the program's network before its custodian accepts the
 * program, so no round ever runs under terms the custodian did not read, and they never change.
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

    /**
     * @notice Sets the usage terms of program `programId`; only its network, once, before its custodian accepts it.
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
}
