import { expect } from "chai";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import { findReleaseAnchors } from "@ciphershare/protocol/records/release-anchor";

// Release anchors come from the hub's `ReleaseAnchored` logs (the contract lets only the program's accepted custodian
// anchor, once, after finalization): one getLogs query for the rounds asked about, no block scanning.
describe("records/release-anchor: ReleaseAnchored logs", () => {
  const HUB = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address;
  const hash = (byte: string) => `0x${byte.repeat(32)}` as Hex;

  function fakeClient(logs: { roundId: bigint; publication: bigint; releaseHash: Hex; blockNumber: bigint }[]) {
    const queries: unknown[] = [];
    const client = {
      getContractEvents: async (query: unknown) => {
        queries.push(query);
        return logs.map(({ blockNumber, ...args }) => ({ args, blockNumber }));
      },
    } as unknown as Parameters<typeof findReleaseAnchors>[0];
    return { client, queries };
  }

  it("maps each round to its anchor (publication, release hash, block), asking the hub for those rounds only", async () => {
    const { client, queries } = fakeClient([
      { roundId: 1n, publication: 1n, releaseHash: hash("aa"), blockNumber: 40n },
      { roundId: 3n, publication: 2n, releaseHash: hash("bb"), blockNumber: 90n },
    ]);
    const anchors = await findReleaseAnchors(client, HUB, { rounds: [1n, 3n], fromBlock: 7n });
    expect(anchors.get(1)).to.deep.equal({ round: 1, publication: 1, releaseHash: hash("aa"), blockNumber: 40n });
    expect(anchors.get(3)).to.deep.equal({ round: 3, publication: 2, releaseHash: hash("bb"), blockNumber: 90n });
    expect(anchors.has(2)).to.equal(false);
    expect(queries).to.have.length(1);
    expect(queries[0]).to.deep.include({
      address: HUB,
      eventName: "ReleaseAnchored",
      args: { roundId: [1n, 3n] },
      fromBlock: 7n,
    });
  });

  it("asks nothing when no round is asked about", async () => {
    const { client, queries } = fakeClient([]);
    expect((await findReleaseAnchors(client, HUB, { rounds: [] })).size).to.equal(0);
    expect(queries).to.have.length(0);
  });
});
