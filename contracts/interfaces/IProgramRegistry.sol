// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/**
 * @title IProgramRegistry
 * @notice Royalty programs: a network (any address) names the coprocessor that values contributions, the key
 * custodian that decrypts the round outputs and settles payouts, the CKKS public key contributors encrypt under, the
 * valuation method, the ERC-7984 payout token and the terms every round of the program runs under. A program serves
 * nothing until its custodian has accepted it on-chain ({acceptProgram}).
 */
interface IProgramRegistry {
    /**
     * @notice What a program's rounds compute. Federated: contributors submit encrypted model updates (FedAvg and
     * encrypted Shapley). Training: data providers submit encrypted sufficient statistics and a ridge model is trained
     * on them that only the buyer ({ProgramConfig.buyerKeyHash}) can decrypt; the buyer's payment is the pool.
     * Usage: usage-metered royalties (operators report encrypted attributions).
     */
    enum ProgramKind {
        Federated,
        Training,
        Usage
    }

    /**
     * @notice What a network asks for when it creates a program ({createProgram}). Immutable once created.
     * @param coprocessor Publishes round results (aggregate and score commitments, exclusions).
     * @param custodian Holds the CKKS secret key; must accept the program before it can open rounds.
     * @param payoutToken ERC-7984 confidential token the royalties are paid in.
     * @param publicKeyHash keccak256 of the CKKS public key bundle contributors must encrypt under.
     * @param valuationMethod Valuation method id (docs/contracts.md: 1 = exact Shapley, 2 = sampled Shapley).
     * @param minContributors Fewest included contributions a round needs, else it is cancelled; 0 means
     * {DEFAULT_MIN_CONTRIBUTORS}.
     * @param maxCommitments Most commitments a round accepts (further commitments revert); 0 means
     * {DEFAULT_MAX_COMMITMENTS}; at most {MAX_COMMITMENTS_LIMIT}, so that every round stays publishable in one
     * transaction.
     * @param recoveryPeriod Seconds after a round's reveal deadline by which it must be finalized (else anyone may
     * expire it and the pool is refundable), and seconds after finalization by which the custodian must complete
     * settlement (else the network may recover the unallocated pool); 0 means {DEFAULT_RECOVERY_PERIOD}.
     * @param commitDeposit Wei each commitment must carry; refunded when the contribution is included (or the round is
     * cancelled without judging it), forfeited to the network when it is excluded. May be 0.
     * @param kind What the program's rounds compute ({ProgramKind}).
     * @param buyerKeyHash Training programs: keccak256 of the buyer's CKKS key bundle the trained model is encrypted
     * under (only the buyer decrypts it); must be non-zero for {ProgramKind.Training} and zero for every other kind.
     * @param termsHash keccak256 of the program's canonical JSON terms blob (published in the blob store; for a
     * training program `{features, outputs, lambda, dpEpsilon}`); may be zero when the kind has no terms blob.
     */
    struct ProgramConfig {
        address coprocessor;
        address custodian;
        address payoutToken;
        bytes32 publicKeyHash;
        uint32 valuationMethod;
        uint32 minContributors;
        uint32 maxCommitments;
        uint32 recoveryPeriod;
        uint96 commitDeposit;
        ProgramKind kind;
        bytes32 buyerKeyHash;
        bytes32 termsHash;
    }

    /**
     * @notice A royalty program: its creator (`network`, opens rounds and resolves challenges) and its
     * {ProgramConfig} with the defaults resolved (no zero `minContributors`, `maxCommitments` or `recoveryPeriod`).
     */
    struct Program {
        address network;
        uint32 valuationMethod;
        uint32 minContributors;
        uint32 maxCommitments;
        address coprocessor;
        uint96 commitDeposit;
        address custodian;
        uint32 recoveryPeriod;
        address payoutToken;
        bytes32 publicKeyHash;
        ProgramKind kind;
        bytes32 buyerKeyHash;
        bytes32 termsHash;
    }

    /**
     * @notice Who must consent before a program serves anything. Today one custodian (`memberCount` 1, `threshold`
     * 1); the custodian committee extends it to n members with a threshold t. The program is active once every
     * member has accepted (`acceptedCount == memberCount`).
     */
    struct Custody {
        uint32 memberCount;
        uint32 threshold;
        uint32 acceptedCount;
    }

    /// @notice `network` created program `programId` (its terms are readable with {program}).
    event ProgramCreated(
        uint256 indexed programId,
        address indexed network,
        address indexed coprocessor,
        address custodian,
        address payoutToken,
        bytes32 publicKeyHash,
        uint32 valuationMethod,
        ProgramKind kind,
        bytes32 buyerKeyHash,
        bytes32 termsHash
    );

    /// @notice `custodian` accepted to serve program `programId` (after reading its terms).
    event ProgramAccepted(uint256 indexed programId, address indexed custodian);

    /// @notice The network of program `programId` named `auditors` as the addresses (besides its coprocessor and
    /// custodians) the blob store serves the program's input ciphertexts to; an empty list names none.
    event InputAuditorsNamed(uint256 indexed programId, address[] auditors);

    /// @notice No program has id `programId`.
    error ProgramNotFound(uint256 programId);

    /// @notice A program role (`role`: "coprocessor", "custodian" or "payoutToken") was given the zero address.
    error ProgramZeroAddress(string role);

    /// @notice The CKKS public key hash must not be zero.
    error ProgramZeroPublicKeyHash();

    /// @notice A training program must name the buyer's key bundle (`buyerKeyHash` non-zero).
    error ProgramZeroBuyerKeyHash();

    /// @notice Only a training program names a buyer key; a program of kind `kind` was given `buyerKeyHash`.
    error ProgramUnexpectedBuyerKeyHash(ProgramKind kind, bytes32 buyerKeyHash);

    /// @notice A round cap of `maxCommitments` is above the publishable limit `limit`.
    error ProgramCapAboveLimit(uint256 maxCommitments, uint256 limit);

    /// @notice A minimum of `minContributors` included contributions can never be met under a cap of `maxCommitments`.
    error ProgramMinimumAboveCap(uint256 minContributors, uint256 maxCommitments);

    /// @notice `caller` is not the network of program `programId`.
    error NotProgramNetwork(uint256 programId, address caller);

    /// @notice `caller` is not a custodian of program `programId`.
    error NotProgramCustodian(uint256 programId, address caller);

    /// @notice `custodian` already accepted program `programId`.
    error ProgramAlreadyAccepted(uint256 programId, address custodian);

    /// @notice Program `programId` is not active: not every custodian has accepted it yet.
    error ProgramNotActive(uint256 programId);

    /// @notice Program `programId` is active: its input auditors are part of the terms its custodians accepted.
    error InputAuditorsFixed(uint256 programId);

    /// @notice `count` input auditors were named; a program names at most `limit`.
    error InputAuditorsAboveLimit(uint256 count, uint256 limit);

    /// @notice Input auditor number `index` of the list is the zero address or repeats an earlier one (`auditor`).
    error InputAuditorInvalid(uint256 index, address auditor);

    /**
     * @notice Names the auditors of program `programId`'s inputs: besides its coprocessor and custodians, the
     * addresses whose signed requests the blob store serves the program's input ciphertexts to (they may re-run the
     * round's computation; an unnamed auditor checks hashes and the release math from public data). Only the network,
     * and only before the program is active, so that its custodians accept them with the other terms and its
     * contributors know who reads their ciphertexts. Replaces any earlier list.
     */
    function setInputAuditors(uint256 programId, address[] calldata auditors) external;

    /// @notice The input auditors of program `programId` ({setInputAuditors}); empty when none were named.
    function inputAuditors(uint256 programId) external view returns (address[] memory);

    /// @notice Number of programs created; ids run from 1 to this number.
    function programCount() external view returns (uint256);

    /// @notice Program `programId`; reverts with {ProgramNotFound} when it does not exist.
    function program(uint256 programId) external view returns (Program memory);

    /// @notice Custody of program `programId`: members, threshold, how many accepted.
    function custodyOf(uint256 programId) external view returns (Custody memory);

    /// @notice The custodians of program `programId` (today exactly one: `program(programId).custodian`).
    function custodians(uint256 programId) external view returns (address[] memory);

    /// @notice Whether `custodian` is a custodian of program `programId` and accepted it.
    function hasAccepted(uint256 programId, address custodian) external view returns (bool);

    /// @notice Whether program `programId` is active: every custodian accepted it, so it can open rounds.
    function isProgramActive(uint256 programId) external view returns (bool);
}
