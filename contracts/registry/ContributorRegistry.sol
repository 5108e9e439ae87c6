// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {IContributorRegistry} from "../interfaces/IContributorRegistry.sol";

/**
 * @title ContributorRegistry
 * @notice Contributors register a pseudonymous address, optionally with a metadata URI (e.g. a profile or a
 * data-licence document). Registration is either direct (`register`) or gasless: the contributor signs an
 * EIP-712 `Register` message and anyone submits it (`registerWithSignature`); smart-contract wallets sign
 * through ERC-1271. Deregistering stops future commitments only.
 * @dev Deployable alone, and inherited by the {RoundManager} hub, whose commitments read it without an external
 * call. The metadata URI is emitted, never stored: the coprocessor and indexers read it from
 * {ContributorRegistered}. Signatures are single use through {Nonces} and expire at a deadline.
 */
contract ContributorRegistry is IContributorRegistry, EIP712, Nonces {
    /// @notice EIP-712 type of a gasless registration.
    bytes32 public constant REGISTER_TYPEHASH = keccak256(
        "Register(address contributor,string metadataURI,uint256 nonce,uint256 deadline)"
    );

    mapping(address contributor => uint64 timestamp) private _registeredAt;
    uint256 private _contributorCount;

    constructor() EIP712("CipherShare ContributorRegistry", "1") {}

    /// @notice Registers the caller with an optional `metadataURI` (may be empty).
    function register(string calldata metadataURI) external {
        _register(msg.sender, metadataURI);
    }

    /**
     * @notice Registers `contributor` on its behalf, with its EIP-712 `Register` signature; anyone may submit.
     * @param deadline Last timestamp the signature is valid at.
     * @param signature `contributor`'s signature (ECDSA, or ERC-1271 for contract wallets) over
     * `Register(contributor, metadataURI, nonces(contributor), deadline)`.
     */
    function registerWithSignature(
        address contributor,
        string calldata metadataURI,
        uint256 deadline,
        bytes calldata signature
    ) external {
        if (block.timestamp > deadline) revert RegistrationSignatureExpired(deadline, block.timestamp);
        bytes32 structHash = keccak256(
            abi.encode(REGISTER_TYPEHASH, contributor, keccak256(bytes(metadataURI)), _useNonce(contributor), deadline)
        );
        if (!SignatureChecker.isValidSignatureNow(contributor, _hashTypedDataV4(structHash), signature)) {
            revert InvalidRegistrationSignature(contributor);
        }
        _register(contributor, metadataURI);
    }

    /// @notice Deregisters the caller: it can no longer commit to rounds; its past commitments stay valid.
    function deregister() external {
        if (_registeredAt[msg.sender] == 0) revert ContributorNotRegistered(msg.sender);
        delete _registeredAt[msg.sender];
        unchecked {
            --_contributorCount;
        }
        emit ContributorDeregistered(msg.sender);
    }

    /// @inheritdoc IContributorRegistry
    function isRegistered(address contributor) external view returns (bool) {
        return _isRegistered(contributor);
    }

    /// @inheritdoc IContributorRegistry
    function registeredAt(address contributor) external view returns (uint64) {
        return _registeredAt[contributor];
    }

    /// @inheritdoc IContributorRegistry
    function contributorCount() external view returns (uint256) {
        return _contributorCount;
    }

    /// @notice The EIP-712 domain separator signatures are made under (chain id and this address included).
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _isRegistered(address contributor) internal view returns (bool) {
        return _registeredAt[contributor] != 0;
    }

    function _register(address contributor, string calldata metadataURI) private {
        if (_registeredAt[contributor] != 0) revert ContributorAlreadyRegistered(contributor);
        _registeredAt[contributor] = uint64(block.timestamp);
        ++_contributorCount;
        emit ContributorRegistered(contributor, msg.sender, metadataURI);
    }
}
