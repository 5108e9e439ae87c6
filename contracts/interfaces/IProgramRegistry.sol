// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/**
 * @title IProgramRegistry
 * @notice Royalty programs: a network (any address) names the coprocessor that values contributions, the key
 * custodian that settles payouts, the CKKS public key contributors encrypt under, the valuation method and the
 * ERC-7984 payout token.
 */
interface IProgramRegistry {
    /**
     * @notice A royalty program.
     * @param network The creator; opens rounds and resolves challenges.
     * @param coprocessor Publishes round results (aggregate and score commitments).
     * @param custodian Holds the CKKS secret key; settles rounds with encrypted shares.
     * @param payoutToken ERC-7984 confidential token the royalties are paid in.
     * @param publicKeyHash keccak256 of the CKKS public key bundle contributors must encrypt under.
     * @param valuationMethod Valuation method id (docs/contracts.md: 1 = exact Shapley, 2 = sampled Shapley).
     */
    struct Program {
        address network;
        address coprocessor;
        address custodian;
        address payoutToken;
        bytes32 publicKeyHash;
        uint32 valuationMethod;
    }

    /// @notice `network` created program `programId`.
    event ProgramCreated(
        uint256 indexed programId,
        address indexed network,
        address indexed coprocessor,
        address custodian,
        address payoutToken,
        bytes32 publicKeyHash,
        uint32 valuationMethod
    );

    /// @notice No program has id `programId`.
    error ProgramNotFound(uint256 programId);

    /// @notice A program role (`role`: "coprocessor", "custodian" or "payoutToken") was given the zero address.
    error ProgramZeroAddress(string role);

    /// @notice The CKKS public key hash must not be zero.
    error ProgramZeroPublicKeyHash();

    /// @notice `caller` is not the network of program `programId`.
    error NotProgramNetwork(uint256 programId, address caller);

    /// @notice Number of programs created; ids run from 1 to this number.
    function programCount() external view returns (uint256);

    /// @notice Program `programId`; reverts with {ProgramNotFound} when it does not exist.
    function program(uint256 programId) external view returns (Program memory);
}
