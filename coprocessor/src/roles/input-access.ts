// Who may read a contribution ciphertext, from the chain: a blob whose hash some round revealed is an input of that
// round, and so is a blob stored as restricted to a round (`BlobPutOptions.round`: the queue's copies and partial
// results, usage batches, uploads before their reveal). Either is readable only by the round's program's coprocessor,
// its custodians (the committee's members when the committee contract custodies the program, else the lone custodian;
// a training program's inputs: its coprocessor only) and the input auditors its network named on-chain
// (`ProgramRegistry.setInputAuditors`); a queue worker reads with its own key and a read grant the round's coprocessor
// signed for it (`storage/read-grant.ts`). A committee member's partial decryption of a round's scores (Enc(φ)) is
// readable only by the committee: combined, the set's partials give every φ, which a private round releases to its
// custodians only; so is a member's partial decryption of a usage period's totals (combined, every artist's usage). Everything else in the store is public (the aggregate's partials included: the global model is
// public anyway, and the auditor recombines it).
//
// `WorkspaceInputAccess` is the guard the embedded network's blob server runs by default (`embedded-network.ts`): it
// reads the workspace's deployment when a request comes (none yet: nothing was revealed, everything is public).
import { existsSync, readFileSync } from "node:fs";
import { getContract } from "viem";
import { ProgramKind } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { custodianCommitteeAbi } from "@ciphershare/protocol/chain/abis";
import { sameAddress, sameHash, type Address, type Hex } from "@ciphershare/protocol/hex";
import type { ChainReader } from "../chain/clients";
import { contractsToRead, readProgram } from "../chain/contracts";
import { LocalDirectoryBlobStore } from "../storage/local-directory";
import { ReadGrantVerifier, type GrantAuthority } from "../storage/read-grant";
import { BlobAccessGuard, type BlobAccessCheck, type BlobReaders } from "../storage/blob-access";
import { blobAccessDomain } from "./input-requests";
import type { Workspace } from "./workspace";

export { blobAccessDomain };

export class ChainInputReaders implements BlobReaders, GrantAuthority {
  /**
   * @param restrictedRound The round a blob was restricted to when stored (`LocalDirectoryBlobStore.restrictedRound`):
   * copies and derivatives of a round's inputs (queue jobs' blobs, usage batches, uploads before their reveal).
   */
  constructor(
    private readonly deployment: Deployment,
    private readonly reader: ChainReader,
    private readonly restrictedRound: (hash: Hex) => Promise<bigint | undefined> = async () => undefined,
  ) {}

  async readersOf(hash: Hex): Promise<readonly Address[] | undefined> {
    const round = await this.roundOf(hash);
    if (round === undefined) return this.scoresPartialReaders(hash);
    return this.readersOfRound(round);
  }

  /** The round whose input `hash` is: revealed by it, or restricted to it when stored. */
  async roundOf(hash: Hex): Promise<bigint | undefined> {
    const { rounds } = contractsToRead(this.deployment, this.reader);
    const [revealedIn] = await rounds.read.firstRevealOf([hash]);
    if (revealedIn !== 0n) return revealedIn;
    return this.restrictedRound(hash);
  }

  /** A blob of a round's inputs may be granted to a queue worker by that round's coprocessor only. */
  async grantersOf(hash: Hex): Promise<{ round: bigint; granters: readonly Address[] } | undefined> {
    const round = await this.roundOf(hash);
    if (round === undefined) return undefined;
    const { rounds } = contractsToRead(this.deployment, this.reader);
    if (round > (await rounds.read.roundCount())) return { round, granters: [] };
    const program = await readProgram(this.deployment, this.reader, (await rounds.read.round([round])).programId);
    return { round, granters: [program.coprocessor] };
  }

  /** Who computes on round `roundId`'s inputs; nobody for a round that does not exist. */
  async readersOfRound(roundId: bigint): Promise<readonly Address[]> {
    const { rounds } = contractsToRead(this.deployment, this.reader);
    if (roundId > (await rounds.read.roundCount())) return [];
    const round = await rounds.read.round([roundId]);
    const program = await readProgram(this.deployment, this.reader, round.programId);
    const auditors = await rounds.read.inputAuditors([round.programId]);
    // A training program's inputs are the providers' statistics under the program key: its custodian holds that key
    // and decrypts only the masked system, so it never reads them (docs/training.md).
    if (program.kind === ProgramKind.Training) return [program.coprocessor, ...auditors];
    const { committee } = this.deployment;
    const custodians =
      committee !== undefined && sameAddress(program.custodian, committee)
        ? await this.committee().read.membersOf([round.programId])
        : [program.custodian];
    return [program.coprocessor, ...custodians, ...auditors];
  }

  private committee() {
    return getContract({ address: this.deployment.committee!, abi: custodianCommitteeAbi, client: this.reader });
  }

  /**
   * The committee's members when `hash` is a member's published partial decryption of a round's scores or of a usage
   * period's totals.
   */
  private async scoresPartialReaders(hash: Hex): Promise<readonly Address[] | undefined> {
    if (this.deployment.committee === undefined) return undefined;
    const logs = await this.reader.getContractEvents({
      address: this.deployment.committee,
      abi: custodianCommitteeAbi,
      eventName: "DecryptionSharesSubmitted",
      fromBlock: BigInt(this.deployment.deployedAtBlock),
    });
    // A federated round's shares are [aggregate, scores]: the scores' are guarded. A usage period's one share is of
    // its per-artist totals, which only the committee learns (the release record publishes their sum): guarded too.
    const guarded = (shares: readonly Hex[]) => shares[shares.length === 1 ? 0 : 1];
    const submitted = logs.find(
      (log) => log.args.shareHashes !== undefined && sameHash(guarded(log.args.shareHashes), hash),
    );
    if (submitted === undefined) return undefined;
    const { rounds } = contractsToRead(this.deployment, this.reader);
    const round = await rounds.read.round([submitted.args.roundId!]);
    return this.committee().read.membersOf([round.programId]);
  }
}

/**
 * The access guard of a workspace's blob server: `BlobAccessGuard(ChainInputReaders)` over the deployment its
 * `deployment.json` names, read at each request (a blob server starts before `network deploy`). Without a
 * deployment, or while the deployment's hub has no code on this chain (a file left from an earlier chain), no round
 * has revealed anything and every blob is public.
 */
export class WorkspaceInputAccess implements BlobAccessCheck {
  private current: { readonly hub: Address; readonly guard: BlobAccessGuard } | undefined;

  constructor(
    private readonly ws: Pick<Workspace, "deploymentFile" | "blobsDir">,
    private readonly reader: ChainReader,
  ) {}

  async check(hash: Hex, headers: Readonly<Record<string, string | string[] | undefined>>): Promise<void> {
    const guard = await this.guard();
    await guard?.check(hash, headers);
  }

  private async guard(): Promise<BlobAccessGuard | undefined> {
    if (!existsSync(this.ws.deploymentFile)) return undefined;
    const deployment = JSON.parse(readFileSync(this.ws.deploymentFile, "utf8")) as Deployment;
    if (this.current !== undefined && sameAddress(this.current.hub, deployment.rounds)) return this.current.guard;
    const code = await this.reader.getCode({ address: deployment.rounds });
    if (code === undefined || code === "0x") return undefined;
    const store = new LocalDirectoryBlobStore(this.ws.blobsDir);
    const readers = new ChainInputReaders(deployment, this.reader, (hash) => store.restrictedRound(hash));
    const domain = blobAccessDomain(deployment);
    const grants = new ReadGrantVerifier(readers, domain, async (hash) =>
      (await store.has(hash)) ? store.get(hash) : undefined,
    );
    const guard = new BlobAccessGuard(readers, domain, undefined, grants);
    this.current = { hub: deployment.rounds, guard };
    return guard;
  }
}
