// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {ZamaEthereumConfig} from "@fhevm/solidity/config/ZamaConfig.sol";
import {ERC7984} from "@openzeppelin/confidential-contracts/token/ERC7984/ERC7984.sol";
// solhint-disable-next-line max-line-length
import {ERC7984ERC20Wrapper} from "@openzeppelin/confidential-contracts/token/ERC7984/extensions/ERC7984ERC20Wrapper.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/**
 * @title RoyaltyToken
 * @notice The confidential royalty token: an ERC-7984 token (OpenZeppelin) that wraps a plain ERC-20 one to one
 * (up to 6 decimals; see {ERC7984ERC20Wrapper-rate}). A network wraps ERC-20 to fund pools; balances and
 * transfer amounts are encrypted; holders unwrap through a public decryption of the amount.
 */
contract RoyaltyToken is ERC7984ERC20Wrapper, ZamaEthereumConfig {
    constructor(
        IERC20 underlying_,
        string memory name_,
        string memory symbol_,
        string memory contractURI_
    ) ERC7984(name_, symbol_, contractURI_) ERC7984ERC20Wrapper(underlying_) {}
}
