// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {FHE, euint64, externalEuint64} from "@fhevm/solidity/lib/FHE.sol";
import {ZamaEthereumConfig} from "@fhevm/solidity/config/ZamaConfig.sol";

/// @title ChainProbe
/// @notice Test-only contract: stores one encrypted uint64 per account so tests of the off-chain fhEVM
/// client (encrypted inputs, user and public decryption against a separate `hardhat node`) have a real
/// contract to talk to. Not part of the protocol.
contract ChainProbe is ZamaEthereumConfig {
    mapping(address owner => euint64) private _values;

    /// @notice Emitted when `owner` stored a new encrypted value.
    event ValueStored(address indexed owner, euint64 value);

    /// @notice Emitted when `owner` made their value publicly decryptable.
    event ValueRevealed(address indexed owner, euint64 value);

    /// @notice Stores an encrypted value for the caller, readable by this contract and the caller only.
    function store(externalEuint64 encryptedValue, bytes calldata inputProof) external {
        euint64 value = FHE.fromExternal(encryptedValue, inputProof);
        _values[msg.sender] = value;
        FHE.allowThis(value);
        FHE.allow(value, msg.sender);
        emit ValueStored(msg.sender, value);
    }

    /// @notice Marks the caller's value publicly decryptable (the first step of a public decryption).
    function reveal() external {
        euint64 value = _values[msg.sender];
        FHE.makePubliclyDecryptable(value);
        emit ValueRevealed(msg.sender, value);
    }

    /// @notice The handle of `owner`'s encrypted value (zero if none was stored).
    function valueOf(address owner) external view returns (euint64) {
        return _values[owner];
    }
}
