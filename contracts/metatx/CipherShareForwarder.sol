// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/**
 * @title CipherShareForwarder
 * @notice The trusted ERC-2771 forwarder of the royalty token (OpenZeppelin's `ERC2771Forwarder`): a relayer submits
 * a request signed (EIP-712, domain `CipherShareForwarder`, version `1`) by an address that holds no ETH, such as a
 * fresh anonymous payout address, and pays its gas. The relayer learns nothing but that address's own requests.
 */
contract CipherShareForwarder is ERC2771Forwarder {
    constructor() ERC2771Forwarder("CipherShareForwarder") {}
}
