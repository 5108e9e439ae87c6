// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {externalEuint64} from "@fhevm/solidity/lib/FHE.sol";

/**
 * @title ICustodianCalls
 * @notice What a program's custodian calls on the hub ({IHubCustody}) and on the distributor
 * ({IRoyaltySettlement}). The {CustodianCommittee} is such a custodian: it forwards what its members agreed on.
 */
interface IHubCustody {
    /// @notice The caller, a custodian named by program `programId`, accepts to serve it; see {ProgramRegistry}.
    function acceptProgram(uint256 programId) external;

    /// @notice Anchors the release record of finalized round `roundId`; see {RoundManager-anchorRelease}.
    function anchorRelease(uint256 roundId, bytes32 releaseHash) external;
}

/// @notice The custodian's side of the {RoyaltyDistributor}.
interface IRoyaltySettlement {
    /// @notice Credits encrypted shares of round `roundId`'s pool; see {RoyaltyDistributor-settle}. An empty input
    /// proof passes a handle the caller is already allowed to use.
    function settle(
        uint256 roundId,
        address[] calldata contributors,
        externalEuint64[] calldata shares,
        bytes[] calldata inputProofs
    ) external;

    /// @notice Declares the settlement of round `roundId` complete; see {RoyaltyDistributor-completeSettlement}.
    function completeSettlement(uint256 roundId) external;

    /// @notice The usage terms usage periods are settled by; see {RoyaltyDistributor-usageTerms}.
    function usageTerms() external view returns (address);
}

/// @notice The custodian's side of the {UsageTerms}.
interface IUsageSealing {
    /// @notice Whether program `programId` is a usage program; see {UsageTerms-isUsageProgram}.
    function isUsageProgram(uint256 programId) external view returns (bool);

    /// @notice Seals each artist's usage total of period `roundId` to that artist; see {UsageTerms-sealUsageTotals}.
    /// An empty input proof passes a handle the caller is already allowed to use.
    function sealUsageTotals(
        uint256 roundId,
        address[] calldata artists,
        externalEuint64[] calldata totals,
        bytes[] calldata inputProofs
    ) external;
}
