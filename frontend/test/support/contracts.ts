import { concatHex, numberToHex, parseAbi, size, toFunctionSelector, type Hex } from "viem";

/** What the hand-assembled test contracts answer to (any selector gets the same treatment). */
export const testContractAbi = parseAbi([
  "function commit(bytes32 hash)",
  "error RoundClosed(uint64 round, uint8 phase)",
]);

/** Init code that deploys `runtime`: codecopy(0, 11, len); return(0, len) — 11 bytes, then the code. */
function deployable(runtime: Hex): Hex {
  return concatHex(["0x60", numberToHex(size(runtime), { size: 1 }), "0x80600b6000396000f3", runtime]);
}

/**
 * A contract whose every call reverts with RoundClosed(3, 2), assembled by hand so the tests need no
 * compiler: mstore(0, selector << 224); mstore(4, 3); mstore(0x24, 2); revert(0, 0x44).
 */
export function revertingContractBytecode(): Hex {
  const selector = toFunctionSelector("RoundClosed(uint64,uint8)");
  return deployable(concatHex(["0x63", selector, "0x60e01b600052", "0x6003600452", "0x6002602452", "0x60446000fd"]));
}

/** A contract that accepts every call and does nothing (STOP). */
export function acceptingContractBytecode(): Hex {
  return deployable("0x00");
}
