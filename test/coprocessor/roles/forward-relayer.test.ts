import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { encodeFunctionData } from "viem";
import { royaltyTokenAbi } from "@ciphershare/protocol/chain/abis";
import type { Address } from "@ciphershare/protocol/hex";
import {
  MAX_FORWARD_GAS,
  forwardRelayHandler,
  parseForwardRequest,
} from "@ciphershare/coprocessor/roles/forward-relayer";
import { ClaimRelayError, FORWARD_RELAY_PATH } from "@ciphershare/coprocessor/roles/relay-client";
import { RelayLimiter, RelayRefusedError } from "@ciphershare/coprocessor/roles/relay-limits";

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

// The relay pays every request's gas: an outsider with fresh keys of its own must not be able to drain it.
describe("forwarder relay: an outsider cannot drain the relayer's gas", () => {
  const A = "0x00000000000000000000000000000000000000a1" as Address;
  const B = "0x00000000000000000000000000000000000000b2" as Address;

  it("admits a few requests per address and per window, then refuses with a time to retry", () => {
    let now = 1_000_000;
    const limiter = new RelayLimiter({ perKey: 2, total: 3, windowMs: 60_000, now: () => now });
    limiter.admit(A);
    now += 10_000;
    limiter.admit(A);
    const refusal = (() => {
      try {
        limiter.admit(A);
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).to.be.instanceOf(RelayRefusedError);
    expect(refusal).to.include({ status: 429, retryAfterMs: 50_000 });
    limiter.admit(B);
    expect(() => limiter.admit("0x00000000000000000000000000000000000000c3")).to.throw(/busy/);
    now += 50_001;
    limiter.admit(A);
  });

  it("answers 429 with Retry-After once an address is over budget, before the relay is asked", async () => {
    const relayed: string[] = [];
    const TOKEN = "0x00000000000000000000000000000000000000c0" as Address;
    const handler = forwardRelayHandler(
      TOKEN,
      async (request) => {
        relayed.push(request.from);
        return { hash: `0x${"00".repeat(32)}` };
      },
      new RelayLimiter({ perKey: 1, total: 10, windowMs: 60_000 }),
    );
    const server = createServer((req, res) => handler(req, res, () => res.writeHead(404).end()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const body = JSON.stringify({
        from: A,
        to: TOKEN,
        value: "0",
        gas: "3000000",
        deadline: "1900000000",
        data: encodeFunctionData({
          abi: royaltyTokenAbi,
          functionName: "confidentialTransfer",
          args: [B, `0x${"11".repeat(32)}`, "0x00"],
        }),
        signature: "0x12",
      });
      const post = () => fetch(`http://127.0.0.1:${port}${FORWARD_RELAY_PATH}`, { method: "POST", body });
      expect((await post()).status).to.equal(200);
      const refused = await post();
      expect(refused.status).to.equal(429);
      expect(Number(refused.headers.get("retry-after"))).to.be.within(1, 60);
      expect(((await refused.json()) as { error: string }).error).to.match(/Too many relayed requests/);
      expect(relayed).to.deep.equal([A]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
