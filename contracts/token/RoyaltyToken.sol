// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {FHE, euint64, externalEuint64} from "@fhevm/solidity/lib/FHE.sol";
import {ZamaEthereumConfig} from "@fhevm/solidity/config/ZamaConfig.sol";
import {ERC7984} from "@openzeppelin/confidential-contracts/token/ERC7984/ERC7984.sol";
// solhint-disable-next-line max-line-length
import {ERC7984ERC20Wrapper} from "@openzeppelin/confidential-contracts/token/ERC7984/extensions/ERC7984ERC20Wrapper.sol";
import {IERC7984} from "@openzeppelin/confidential-contracts/interfaces/IERC7984.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/**
 * @title RoyaltyToken
 * @notice The confidential royalty token: an ERC-7984 token (OpenZeppelin) that wraps a plain ERC-20 one to one
 * (up to 6 decimals; see {ERC7984ERC20Wrapper-rate}). A network wraps ERC-20 to fund pools; balances and
 * transfer amounts are encrypted; holders unwrap through a public decryption of the amount.
 *
 * Meta-transactions (ERC-2771): a holder without ETH (a fresh anonymous payout address) sets operators, transfers and
 * unwraps by signing a request that the trusted forwarder ({CipherShareForwarder}) relays; the token then acts for
 * the signer (`_msgSender()`). Encrypted inputs of forwarded calls are bound to this token and the *forwarder* (the
 * fhEVM checks the input against the calling account): a replayed input can only move its replayer's own balance.
 */
contract RoyaltyToken is ERC7984ERC20Wrapper, ERC2771Context, ZamaEthereumConfig {
    constructor(
        IERC20 underlying_,
        string memory name_,
        string memory symbol_,
        string memory contractURI_,
        address trustedForwarder_
    ) ERC7984(name_, symbol_, contractURI_) ERC7984ERC20Wrapper(underlying_) ERC2771Context(trustedForwarder_) {}

    /// @inheritdoc ERC7984
    function setOperator(address operator, uint48 until) public virtual override(ERC7984, IERC7984) {
        _setOperator(_msgSender(), operator, until);
    }

    /// @inheritdoc ERC7984
    function confidentialTransfer(
        address to,
        externalEuint64 encryptedAmount,
        bytes calldata inputProof
    ) public virtual override(ERC7984, IERC7984) returns (euint64) {
        return _transfer(_msgSender(), to, FHE.fromExternal(encryptedAmount, inputProof));
    }

    /// @inheritdoc ERC7984
    function confidentialTransfer(
        address to,
        euint64 amount
    ) public virtual override(ERC7984, IERC7984) returns (euint64) {
        address sender = _msgSender();
        require(FHE.isAllowed(amount, sender), ERC7984UnauthorizedUseOfEncryptedAmount(amount, sender));
        return _transfer(sender, to, amount);
    }

    /// @inheritdoc ERC7984ERC20Wrapper
    function unwrap(address from, address to, euint64 amount) public virtual override returns (bytes32) {
        address sender = _msgSender();
        require(FHE.isAllowed(amount, sender), ERC7984UnauthorizedUseOfEncryptedAmount(amount, sender));
        return _unwrap(from, to, amount);
    }

    /**
     * @notice Whether `spender` may move `holder`'s tokens. Inside a call relayed by the trusted forwarder, the
     * forwarder as spender stands for the request's signer: `from == msg.sender || isOperator(from, msg.sender)`
     * checks of ERC-7984 (transfers from, unwraps) then hold exactly when they hold for the signer. The forwarder is
     * never an operator in its own right.
     */
    function isOperator(
        address holder,
        address spender
    ) public view virtual override(ERC7984, IERC7984) returns (bool) {
        if (spender == msg.sender && isTrustedForwarder(spender)) {
            address signer = _msgSender();
            return holder == signer || super.isOperator(holder, signer);
        }
        return super.isOperator(holder, spender);
    }
}
