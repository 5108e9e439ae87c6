// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IProgramRegistry} from "../interfaces/IProgramRegistry.sol";

/**
 * @title ProgramRegistry
 * @notice Royalty programs. Any address may create one and becomes its network. Program ids start at 1.
 * @dev Abstract: the {RoundManager} inherits it so that rounds read their program without an external call.
 * Programs are immutable once created; a network that needs another coprocessor or key creates a new program.
 */
abstract contract ProgramRegistry is IProgramRegistry {
    mapping(uint256 programId => Program) private _programs;
    uint256 private _programCount;

    /**
     * @notice Creates a royalty program with the caller as its network.
     * @param coprocessor Address that will publish round results.
     * @param custodian Address that will settle rounds with encrypted shares.
     * @param publicKeyHash keccak256 of the CKKS public key bundle contributors must encrypt under.
     * @param valuationMethod Valuation method id (documented in docs/contracts.md).
     * @param payoutToken ERC-7984 token royalties are paid in.
     * @return programId Id of the new program.
     */
    function createProgram(
        address coprocessor,
        address custodian,
        bytes32 publicKeyHash,
        uint32 valuationMethod,
        address payoutToken
    ) external returns (uint256 programId) {
        if (coprocessor == address(0)) revert ProgramZeroAddress("coprocessor");
        if (custodian == address(0)) revert ProgramZeroAddress("custodian");
        if (payoutToken == address(0)) revert ProgramZeroAddress("payoutToken");
        if (publicKeyHash == bytes32(0)) revert ProgramZeroPublicKeyHash();
        programId = ++_programCount;
        _programs[programId] = Program({
            network: msg.sender,
            coprocessor: coprocessor,
            custodian: custodian,
            payoutToken: payoutToken,
            publicKeyHash: publicKeyHash,
            valuationMethod: valuationMethod
        });
        emit ProgramCreated(programId, msg.sender, coprocessor, custodian, payoutToken, publicKeyHash, valuationMethod);
    }

    /// @inheritdoc IProgramRegistry
    function programCount() external view returns (uint256) {
        return _programCount;
    }

    /// @inheritdoc IProgramRegistry
    function program(uint256 programId) external view returns (Program memory) {
        return _program(programId);
    }

    function _program(uint256 programId) internal view returns (Program storage p) {
        p = _programs[programId];
        if (p.network == address(0)) revert ProgramNotFound(programId);
    }

    function _checkNetwork(uint256 programId) internal view {
        address network = _program(programId).network;
        if (msg.sender != network) revert NotProgramNetwork(programId, msg.sender);
    }
}
