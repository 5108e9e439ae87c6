// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {FHE, euint64, externalEuint64} from "@fhevm/solidity/lib/FHE.sol";
import {ZamaEthereumConfig} from "@fhevm/solidity/config/ZamaConfig.sol";
import {IERC7984} from "@openzeppelin/confidential-contracts/interfaces/IERC7984.sol";

/// @title PushPayoutMock
/// @notice Benchmark baseline, not part of CipherShare: pays royalties by pushing one ERC-7984 transfer per recipient
/// from this contract's balance. Every transfer reads and rewrites that balance, so the transfers form one dependent
/// chain whose HCU depth grows with each payout; the {RoyaltyDistributor}'s assigned credits avoid the chain.
contract PushPayoutMock is ZamaEthereumConfig {
    /// @notice Token paid out of this contract's balance.
    IERC7984 public immutable token;

    constructor(IERC7984 token_) {
        token = token_;
    }

    /// @notice Transfers `amounts[i]` (in input proof `inputProofs[i / 32]`) to `recipients[i]`, in order.
    function payAll(
        address[] calldata recipients,
        externalEuint64[] calldata amounts,
        bytes[] calldata inputProofs
    ) external {
        for (uint256 i = 0; i < recipients.length; ++i) {
            euint64 amount = FHE.fromExternal(amounts[i], inputProofs[i / 32]);
            FHE.allowTransient(amount, address(token));
            token.confidentialTransfer(recipients[i], amount);
        }
    }
}
