// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {IProgramRegistry} from "../interfaces/IProgramRegistry.sol";

/**
 * @title ProgramRegistry
 * @notice Royalty programs. Any address may create one and becomes its network; the custodian it names must accept
 * it on-chain ({acceptProgram}) before it can open rounds, so nobody can make a custodian serve a program (and
 * decrypt its outputs) without its consent. Program ids start at 1.
 * @dev Abstract: the {RoundManager} inherits it so that rounds read their program without an external call.
 * Programs are immutable once created; a network that needs another coprocessor, key or terms creates a new program.
 * Custody is kept apart from {Program} (a {Custody} record, a member list and a per-member state) so that a custodian
 * committee (n members, threshold t) extends it without changing the program record.
 */
abstract contract ProgramRegistry is IProgramRegistry {
    /// @notice Minimum included contributions per round when a program asks for 0.
    uint32 public constant DEFAULT_MIN_CONTRIBUTORS = 3;
    /// @notice Commitment cap per round when a program asks for 0.
    uint32 public constant DEFAULT_MAX_COMMITMENTS = 2_000;
    /// @notice Largest commitment cap a program may set: a round of that many commitments, all included, publishes
    /// in one transaction far below the 2^24 gas cap (measured by `npm run bench:chain`: `publishMaxCommitments`).
    uint32 public constant MAX_COMMITMENTS_LIMIT = 4_000;
    /// @notice Recovery period when a program asks for 0.
    uint32 public constant DEFAULT_RECOVERY_PERIOD = 30 days;
    /// @notice Most input auditors a program may name ({setInputAuditors}).
    uint256 public constant MAX_INPUT_AUDITORS = 16;

    enum CustodianState {
        None,
        Named,
        Accepted
    }

    mapping(uint256 programId => Program) private _programs;
    uint256 private _programCount;
    mapping(uint256 programId => Custody) private _custody;
    mapping(uint256 programId => address[]) private _custodians;
    mapping(uint256 programId => mapping(address custodian => CustodianState)) private _custodianStates;
    mapping(uint256 programId => address[]) private _inputAuditors;

    /**
     * @notice Creates a royalty program with the caller as its network. It opens no round until its custodian has
     * accepted it.
     * @param config Roles, key, valuation method and round terms; zero terms take their defaults.
     * @return programId Id of the new program.
     */
    function createProgram(ProgramConfig calldata config) external returns (uint256 programId) {
        if (config.coprocessor == address(0)) revert ProgramZeroAddress("coprocessor");
        if (config.custodian == address(0)) revert ProgramZeroAddress("custodian");
        if (config.payoutToken == address(0)) revert ProgramZeroAddress("payoutToken");
        if (config.publicKeyHash == bytes32(0)) revert ProgramZeroPublicKeyHash();
        if (config.kind == ProgramKind.Training) {
            if (config.buyerKeyHash == bytes32(0)) revert ProgramZeroBuyerKeyHash();
        } else if (config.buyerKeyHash != bytes32(0)) {
            revert ProgramUnexpectedBuyerKeyHash(config.kind, config.buyerKeyHash);
        }
        uint32 minContributors = _orDefault(config.minContributors, DEFAULT_MIN_CONTRIBUTORS);
        uint32 maxCommitments = _orDefault(config.maxCommitments, DEFAULT_MAX_COMMITMENTS);
        if (maxCommitments > MAX_COMMITMENTS_LIMIT) revert ProgramCapAboveLimit(maxCommitments, MAX_COMMITMENTS_LIMIT);
        if (minContributors > maxCommitments) revert ProgramMinimumAboveCap(minContributors, maxCommitments);

        programId = ++_programCount;
        _programs[programId] = Program({
            network: msg.sender,
            valuationMethod: config.valuationMethod,
            minContributors: minContributors,
            maxCommitments: maxCommitments,
            coprocessor: config.coprocessor,
            commitDeposit: config.commitDeposit,
            custodian: config.custodian,
            recoveryPeriod: _orDefault(config.recoveryPeriod, DEFAULT_RECOVERY_PERIOD),
            payoutToken: config.payoutToken,
            publicKeyHash: config.publicKeyHash,
            kind: config.kind,
            buyerKeyHash: config.buyerKeyHash,
            termsHash: config.termsHash
        });
        _custody[programId] = Custody({memberCount: 1, threshold: 1, acceptedCount: 0});
        _custodians[programId].push(config.custodian);
        _custodianStates[programId][config.custodian] = CustodianState.Named;
        emit ProgramCreated(
            programId,
            msg.sender,
            config.coprocessor,
            config.custodian,
            config.payoutToken,
            config.publicKeyHash,
            config.valuationMethod,
            config.kind,
            config.buyerKeyHash,
            config.termsHash
        );
    }

    /**
     * @notice The caller, a custodian named by program `programId`, accepts to serve it. Once every custodian has
     * accepted, the program is active and its network can open rounds.
     */
    function acceptProgram(uint256 programId) external {
        _program(programId);
        mapping(address => CustodianState) storage states = _custodianStates[programId];
        CustodianState state = states[msg.sender];
        if (state == CustodianState.None) revert NotProgramCustodian(programId, msg.sender);
        if (state == CustodianState.Accepted) revert ProgramAlreadyAccepted(programId, msg.sender);
        states[msg.sender] = CustodianState.Accepted;
        ++_custody[programId].acceptedCount;
        emit ProgramAccepted(programId, msg.sender);
    }

    /// @inheritdoc IProgramRegistry
    function setInputAuditors(uint256 programId, address[] calldata auditors) external {
        _checkNetwork(programId);
        if (_isActive(programId)) revert InputAuditorsFixed(programId);
        if (auditors.length > MAX_INPUT_AUDITORS) revert InputAuditorsAboveLimit(auditors.length, MAX_INPUT_AUDITORS);
        for (uint256 i = 0; i < auditors.length; ++i) {
            if (auditors[i] == address(0)) revert InputAuditorInvalid(i, auditors[i]);
            for (uint256 j = 0; j < i; ++j) {
                if (auditors[j] == auditors[i]) revert InputAuditorInvalid(i, auditors[i]);
            }
        }
        _inputAuditors[programId] = auditors;
        emit InputAuditorsNamed(programId, auditors);
    }

    /// @inheritdoc IProgramRegistry
    function inputAuditors(uint256 programId) external view returns (address[] memory) {
        _program(programId);
        return _inputAuditors[programId];
    }

    /// @inheritdoc IProgramRegistry
    function programCount() external view returns (uint256) {
        return _programCount;
    }

    /// @inheritdoc IProgramRegistry
    function program(uint256 programId) external view returns (Program memory) {
        return _program(programId);
    }

    /// @inheritdoc IProgramRegistry
    function custodyOf(uint256 programId) external view returns (Custody memory) {
        _program(programId);
        return _custody[programId];
    }

    /// @inheritdoc IProgramRegistry
    function custodians(uint256 programId) external view returns (address[] memory) {
        _program(programId);
        return _custodians[programId];
    }

    /// @inheritdoc IProgramRegistry
    function hasAccepted(uint256 programId, address custodian) external view returns (bool) {
        return _custodianStates[programId][custodian] == CustodianState.Accepted;
    }

    /// @inheritdoc IProgramRegistry
    function isProgramActive(uint256 programId) external view returns (bool) {
        _program(programId);
        return _isActive(programId);
    }

    function _program(uint256 programId) internal view returns (Program storage p) {
        p = _programs[programId];
        if (p.network == address(0)) revert ProgramNotFound(programId);
    }

    function _checkNetwork(uint256 programId) internal view returns (Program storage p) {
        p = _program(programId);
        if (msg.sender != p.network) revert NotProgramNetwork(programId, msg.sender);
    }

    /// @dev Reverts unless the caller is a custodian of `programId` that accepted it.
    function _checkCustodian(uint256 programId) internal view {
        if (_custodianStates[programId][msg.sender] != CustodianState.Accepted) {
            revert NotProgramCustodian(programId, msg.sender);
        }
    }

    function _isActive(uint256 programId) internal view returns (bool) {
        Custody storage custody = _custody[programId];
        return custody.acceptedCount == custody.memberCount;
    }

    function _orDefault(uint32 value, uint32 fallbackValue) private pure returns (uint32) {
        return value == 0 ? fallbackValue : value;
    }
}
