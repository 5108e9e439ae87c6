import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import type { Address } from "@ciphershare/protocol/hex";
import {
  CLAIM_RELAY_PATH,
  ClaimRelayError,
  ClaimRelayer,
  parseClaimRequest,
} from "@ciphershare/coprocessor/roles/claim-relayer";
import { RelayLimiter, RelayRefusedError } from "@ciphershare/coprocessor/roles/relay-limits";

// The network's claim relayer: anonymous claims leave in batches at fixed times, never when a contributor asks.
describe("claim relayer: anonymous claims in batches at fixed times", () => {
  const A = "0x00000000000000000000000000000000000000a1" as Address;
  const B = "0x00000000000000000000000000000000000000b2" as Address;

  it("schedules every request at the next multiple of the interval, whatever the time of the request", () => {
    let now = 1_000_123;
    const relayer = new ClaimRelayer({ intervalMs: 60_000, now: () => now, submit: async () => {} });
    expect(relayer.enqueue({ to: A, rounds: [1n] }).scheduledAt).to.equal(1_020_000);
    now = 1_019_999;
    expect(relayer.enqueue({ to: B, rounds: [1n] }).scheduledAt).to.equal(1_020_000);
  });

  it("sends nothing before the batch, then every queued claim once; a repeated request changes nothing", async () => {
    const sent: string[] = [];
    const relayer = new ClaimRelayer({ intervalMs: 1000, submit: async ({ to }) => void sent.push(to) });
    relayer.enqueue({ to: A, rounds: [1n, 2n] });
    relayer.enqueue({ to: B, rounds: [1n] });
    expect(relayer.enqueue({ to: A, rounds: [1n, 2n] }).status).to.equal("queued");
    expect(sent).to.deep.equal([]);
    await relayer.flush();
    expect([...sent].sort()).to.deep.equal([A, B]);
    expect(relayer.status(A)).to.deep.equal({ status: "claimed" });
    expect(relayer.enqueue({ to: A, rounds: [1n, 2n] }).status).to.equal("claimed");
    await relayer.flush();
    expect(sent).to.have.length(2);
  });

  it("records a refused claim with the chain's reason, and lets it be queued again", async () => {
    const relayer = new ClaimRelayer({
      submit: async () => {
        throw new Error("AlreadyClaimed(1, 0xa1)");
      },
    });
    relayer.enqueue({ to: A, rounds: [1n] });
    await relayer.flush();
    expect(relayer.status(A)).to.deep.equal({ status: "failed", error: "AlreadyClaimed(1, 0xa1)" });
    expect(relayer.enqueue({ to: A, rounds: [1n] }).status).to.equal("queued");
    expect(relayer.status(B)).to.deep.equal({ status: "unknown" });
  });

  it("sends a batch in a random order (not the order of the requests)", async () => {
    const addresses = Array.from({ length: 12 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, "0")}` as Address);
    const orders = new Set<string>();
    for (let trial = 0; trial < 5; trial++) {
      const sent: string[] = [];
      const relayer = new ClaimRelayer({ submit: async ({ to }) => void sent.push(to) });
      for (const to of addresses) relayer.enqueue({ to, rounds: [1n] });
      await relayer.flush();
      orders.add(sent.join());
    }
    expect(orders.size).to.be.greaterThan(1);
  });

  it("parses { to, rounds } and refuses a bad address or round list, naming the field", () => {
    expect(parseClaimRequest({ to: A, rounds: ["1", 2] })).to.deep.equal({ to: A, rounds: [1n, 2n] });
    expect(() => parseClaimRequest({ to: "0x12", rounds: [1] }))
      .to.throw(ClaimRelayError)
      .with.property("message")
      .that.contains("`to`");
    expect(() => parseClaimRequest({ to: A, rounds: [] })).to.throw(/`rounds`/);
    expect(() => parseClaimRequest({ to: A, rounds: ["0"] })).to.throw(/integer ≥ 1/);
    expect(() => new ClaimRelayer({ intervalMs: 0, submit: async () => {} })).to.throw(/interval/);
  });

  it("an outsider cannot queue claims without bound: a full batch and a client over budget are refused", async () => {
    const relayer = new ClaimRelayer({
      submit: async () => {},
      maxQueued: 2,
      limiter: new RelayLimiter({ perKey: 3, total: 100, windowMs: 60_000 }),
    });
    relayer.enqueue({ to: A, rounds: [1n] });
    relayer.enqueue({ to: B, rounds: [1n] });
    expect(() => relayer.enqueue({ to: `0x${"c3".padStart(40, "0")}` as Address, rounds: [1n] }))
      .to.throw(RelayRefusedError)
      .with.property("status", 429);
    await relayer.flush();

    const server = createServer((req, res) => relayer.handle(req, res, () => res.writeHead(404).end()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const post = (i: number) =>
        fetch(`http://127.0.0.1:${port}${CLAIM_RELAY_PATH}`, {
          method: "POST",
          body: JSON.stringify({ to: `0x${(i + 16).toString(16).padStart(40, "0")}`, rounds: ["1"] }),
        });
      expect((await post(1)).status).to.equal(202);
      expect((await post(2)).status).to.equal(202);
      expect((await post(3)).status).to.equal(429); // the batch is full
      await relayer.flush();
      const overBudget = await post(4); // the fourth request of this client in the window
      expect(overBudget.status).to.equal(429);
      expect(overBudget.headers.get("retry-after")).to.not.equal(null);
      expect(((await overBudget.json()) as { error: string }).error).to.match(/Too many relayed requests from/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
