import { expect } from "chai";
import type { Address } from "@ciphershare/protocol/hex";
import { ClaimRelayError, ClaimRelayer, parseClaimRequest } from "@ciphershare/coprocessor/roles/claim-relayer";

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
});
