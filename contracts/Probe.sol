// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {FHE, euint64, externalEuint64} from "@fhevm/solidity/lib/FHE.sol";
import {ZamaEthereumConfig} from "@fhevm/solidity/config/ZamaConfig.sol";

contract Probe is ZamaEthereumConfig {
    euint64 public value;

    function set(externalEuint64 v, bytes calldata proof) external {
        value = FHE.fromExternal(v, proof);
        FHE.allowThis(value);
        FHE.allow(value, msg.sender);
    }
}
