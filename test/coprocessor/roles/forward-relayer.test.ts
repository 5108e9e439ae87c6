import { expect } from "chai";
import { encodeFunctionData } from "viem";
import { royaltyTokenAbi } from "@ciphershare/protocol/chain/abis";
import type { Address } from "@ciphershare/protocol/hex";
import { MAX_FORWARD_GAS, parseForwardRequest } from "@ciphershare/coprocessor/roles/forward-relayer";
import { ClaimRelayError } from "@ciphershare/coprocessor/roles/relay-client";

// The forwarder relay pays gas for a fresh payout address's own spending only: royalty-token transfers and unwraps.
describe("forwarder relay: which signed requests it submits", () => {
  const TOKEN = "0x00000000000000000000000000000000000000c0" as Address;
  const FROM = "0x00000000000000000000000000000000000000f1" as Address;
  const handle = `0x${"11".repeat(32)}` as const;
  const transfer = encodeFunctionData({
    abi: royaltyTokenAbi,
    functionName: "confidentialTransfer",
    args: [FROM, handle, "0x00"],
  });
  const request = {
    from: FROM,
    to: TOKEN,
    value: "0",
    gas: "3000000",
    deadline: "1900000000",
    data: transfer,
    signature: "0x12",
  };

  it("accepts a transfer or an unwrap of the royalty token, numbers as decimals", () => {
    expect(parseForwardRequest(request, TOKEN)).to.deep.include({
      from: FROM,
      gas: 3_000_000n,
      deadline: 1_900_000_000,
    });
    const unwrap = encodeFunctionData({
      abi: royaltyTokenAbi,
      functionName: "unwrap",
      args: [FROM, FROM, handle, "0x00"],
    });
    expect(parseForwardRequest({ ...request, data: unwrap }, TOKEN).data).to.equal(unwrap);
  });

  it("refuses another contract, another function, ETH, too much gas and malformed fields, naming them", () => {
    const refused = (body: unknown, pattern: RegExp) =>
      expect(() => parseForwardRequest(body, TOKEN)).to.throw(ClaimRelayError, pattern);
    refused({ ...request, to: FROM }, /royalty token only/);
    const approve = encodeFunctionData({ abi: royaltyTokenAbi, functionName: "setOperator", args: [FROM, 1] });
    refused({ ...request, data: approve }, /`confidentialTransfer` and `unwrap`/);
    refused({ ...request, value: "1" }, /no ETH/);
    refused({ ...request, gas: String(MAX_FORWARD_GAS + 1n) }, /at most/);
    refused({ ...request, from: "0x12" }, /`from`/);
    refused({ ...request, deadline: "soon" }, /`deadline`/);
    refused({ ...request, signature: "zz" }, /`signature`/);
  });
});
