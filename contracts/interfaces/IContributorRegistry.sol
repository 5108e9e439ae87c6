// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

/**
 * @title IContributorRegistry
 * @notice Pseudonymous contributors of CipherShare: an address that registered itself (directly or through an
 * EIP-712 signature relayed by anyone) may commit contributions to royalty rounds.
 */
interface IContributorRegistry {
    /// @notice `contributor` registered; `submitter` sent the transaction (differs from `contributor` when gasless).
    /// @dev The metadata URI lives only in this event and in calldata, never in storage.
    event ContributorRegistered(address indexed contributor, address indexed submitter, string metadataURI);

    /// @notice `contributor` deregistered: it can no longer commit to rounds (past commitments stay valid).
    event ContributorDeregistered(address indexed contributor);

    /// @notice `contributor` is already registered.
    error ContributorAlreadyRegistered(address contributor);

    /// @notice `contributor` is not registered.
    error ContributorNotRegistered(address contributor);

    /// @notice The gasless registration signature expired at `deadline` (the block time is `timestamp`).
    error RegistrationSignatureExpired(uint256 deadline, uint256 timestamp);

    /// @notice The gasless registration signature is not `contributor`'s signature of the registration.
    error InvalidRegistrationSignature(address contributor);

    /// @notice Whether `contributor` is currently registered.
    function isRegistered(address contributor) external view returns (bool);

    /// @notice Block timestamp of `contributor`'s current registration, 0 when not registered.
    function registeredAt(address contributor) external view returns (uint64);

    /// @notice Number of currently registered contributors.
    function contributorCount() external view returns (uint256);
}
