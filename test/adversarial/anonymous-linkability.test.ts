// Attack: link a payout address to its contributor from chain data alone. An observer who knows everything public
// (every transaction's sender, calldata and gas, every event of every contract) watches a round where four
// contributors seal payout addresses and the relayer claims for each address. The test runs the same round twice
// from one chain snapshot, with the same four payout addresses assigned to the contributors in two different ways,
// and compares what the observer sees: identical up to fresh ciphertexts (encrypted inputs and handles are random
// bytes of fixed size). Whatever a script computes from the public record, it computes the same in both worlds, so
// it cannot tell the two assignments apart: it does no better than chance among the sealed set.
import { expect } from "chai";
import type { Signer } from "ethers";
import { ethers, network } from "hardhat";
import { latestTimestamp } from "@ciphershare/scripts/lib/chain";
import {
  closeAndPublish,
  commitAll,
  deployScenario,
  finalize,
  fundPool,
  openRound,
  revealAll,
  sealPayout,
  settle,
  type Scenario,
} from "../contracts/fixtures";

interface Observed {
  from: string;
  to: string | null;
  selector: string;
  calldataBytes: number;
  /** Gas without the calldata's intrinsic cost (ciphertexts are random bytes: their zero bytes vary run to run). */
  executionGas: bigint;
  logs: { address: string; topics: readonly string[]; dataBytes: number }[];
}

describe("anonymous claims: linkability from public chain data", () => {
  let s: Scenario;
  const payTo = [0, 1, 2, 3].map((i) => ethers.getAddress(ethers.zeroPadValue(ethers.toBeHex(0xa11ce0 + i), 20)));

  before(async () => {
    s = await deployScenario();
  });

  /** Every transaction from `fromBlock` on, as a public observer records it (ciphertext contents left out). */
  async function observe(fromBlock: number): Promise<Observed[]> {
    const seen: Observed[] = [];
    const latest = await ethers.provider.getBlockNumber();
    for (let n = fromBlock; n <= latest; n++) {
      const block = await ethers.provider.getBlock(n, true);
      for (const tx of block!.prefetchedTransactions) {
        const receipt = (await ethers.provider.getTransactionReceipt(tx.hash))!;
        seen.push({
          from: tx.from,
          to: tx.to,
          selector: tx.data.slice(0, 10),
          calldataBytes: ethers.dataLength(tx.data),
          executionGas: receipt.gasUsed - calldataGas(tx.data),
          logs: receipt.logs.map((log) => ({
            address: log.address,
            topics: log.topics.map((topic, k) => (k === 0 ? topic : publicTopic(topic))),
            dataBytes: ethers.dataLength(log.data),
          })),
        });
      }
    }
    return seen;
  }

  /** One round: contributors[i] seals payTo[assignment[i]], shares 100·(i+1); the relayer claims payTo in order. */
  async function runRound(assignment: readonly number[], start: bigint) {
    const contributors: Signer[] = s.contributors.slice(0, 4);
    await network.provider.send("evm_setNextBlockTimestamp", [Number(start)]);
    await network.provider.send("evm_mine", []);
    const fromBlock = (await ethers.provider.getBlockNumber()) + 1;
    const roundId = await openRound(s);
    const hashes = await commitAll(s, roundId, contributors);
    for (const [i, contributor] of contributors.entries()) {
      await sealPayout(s, roundId, contributor, payTo[assignment[i]]);
    }
    await revealAll(s, roundId, contributors, hashes);
    await closeAndPublish(s, roundId);
    await finalize(s, roundId);
    await fundPool(s, roundId, 1000n);
    await settle(s, roundId, contributors, [100n, 200n, 300n, 400n]);
    await s.distributor.connect(s.custodian).completeSettlement(roundId);
    for (const to of payTo) await s.anonymousPayouts.connect(s.outsider).claim(to, [roundId], 100n);
    return observe(fromBlock);
  }

  it("sees the same record whichever contributor owns which payout address", async () => {
    const start = (await latestTimestamp()) + 10n;
    const snapshot = (await network.provider.send("evm_snapshot", [])) as string;
    const first = await runRound([0, 1, 2, 3], start);
    await network.provider.send("evm_revert", [snapshot]);
    const second = await runRound([2, 0, 3, 1], start);

    expect(second.length).to.equal(first.length);
    for (const [i, seen] of first.entries()) {
      expect(second[i], `transaction ${i} (${seen.selector} from ${seen.from})`).to.deep.equal(seen);
    }
    // The payout addresses appear only in the claims (calldata and AnonymousClaimPaid) and the token transfers they
    // cause: never in a seal, a settlement or anything a contributor sent.
    const named = (o: Observed) => o.logs.some((log) => log.topics.some((t) => payTo.includes(topicAddress(t))));
    expect(first.some(named), "the claims name their addresses").to.equal(true);
    const claimSelector = s.anonymousPayouts.interface.getFunction("claim").selector;
    for (const seen of first) {
      if (seen.selector !== claimSelector) expect(named(seen), seen.selector).to.equal(false);
    }
  });
});

/**
 * An indexed argument as the observer compares it: addresses and counters as they are; a full 32-byte value is a
 * ciphertext handle (ERC-7984 indexes transferred amounts), random in each world, compared by its presence only.
 */
function publicTopic(topic: string): string {
  return BigInt(topic) < 2n ** 160n ? topic : "<handle>";
}

/** Intrinsic gas of calldata (EIP-2028): 4 per zero byte, 16 per other byte. */
function calldataGas(data: string): bigint {
  return ethers.getBytes(data).reduce((gas, byte) => gas + (byte === 0 ? 4n : 16n), 0n);
}

/** The address an indexed `address` topic holds (or a non-address). */
function topicAddress(topic: string): string {
  return ethers.isHexString(topic, 32) && topic.startsWith("0x000000000000000000000000")
    ? ethers.getAddress(ethers.dataSlice(topic, 12))
    : "";
}
