// Who may read a contribution ciphertext, from the chain: a blob whose hash some round revealed is an input of that
// round, readable only by the round's program's coprocessor and its custodians (the committee's members when the
// committee contract custodies the program, else the lone custodian; a training program's inputs: its coprocessor
// only). A committee member's partial decryption of a
// round's scores (Enc(φ)) is readable only by the committee: combined, the set's partials give every φ, which a
// private round releases to its custodians only. Everything else in the store is public (the aggregate's partials
// included: the global model is public anyway, and the auditor recombines it).
import { ProgramKind } from "@ciphershare/protocol/chain/constants";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { custodianCommitteeAbi } from "@ciphershare/protocol/chain/abis";
import { sameAddress, sameHash, type Address, type Hex } from "@ciphershare/protocol/hex";
import type { ChainReader } from "../chain/clients";
import { contractsToRead, readProgram } from "../chain/contracts";
import type { BlobAccessDomain, BlobReaders } from "../storage/blob-access";
import { committeeToRead } from "./committee-member";

export class ChainInputReaders implements BlobReaders {
  constructor(
    private readonly deployment: Deployment,
    private readonly reader: ChainReader,
    /** Addresses every program lets read its inputs too (named auditors), if the operator opts in. */
    private readonly auditors: readonly Address[] = [],
  ) {}

  async readersOf(hash: Hex): Promise<readonly Address[] | undefined> {
    const { rounds } = contractsToRead(this.deployment, this.reader);
    const [roundId] = await rounds.read.firstRevealOf([hash]);
    if (roundId === 0n) return this.scoresPartialReaders(hash);
    const round = await rounds.read.round([roundId]);
    const program = await readProgram(this.deployment, this.reader, round.programId);
    // A training program's inputs are the providers' statistics under the program key: its custodian holds that key
    // and decrypts only the masked system, so it never reads them (docs/training.md).
    if (program.kind === ProgramKind.Training) return [program.coprocessor, ...this.auditors];
    const { committee } = this.deployment;
    const custodians =
      committee !== undefined && sameAddress(program.custodian, committee)
        ? await committeeToRead(this.deployment, this.reader).read.membersOf([round.programId])
        : [program.custodian];
    return [program.coprocessor, ...custodians, ...this.auditors];
  }

  /** The committee's members when `hash` is a member's published partial decryption of a round's scores. */
  private async scoresPartialReaders(hash: Hex): Promise<readonly Address[] | undefined> {
    if (this.deployment.committee === undefined) return undefined;
    const logs = await this.reader.getContractEvents({
      address: this.deployment.committee,
      abi: custodianCommitteeAbi,
      eventName: "DecryptionSharesSubmitted",
      fromBlock: BigInt(this.deployment.deployedAtBlock),
    });
    const submitted = logs.find((log) => log.args.shareHashes !== undefined && sameHash(log.args.shareHashes[1], hash));
    if (submitted === undefined) return undefined;
    const { rounds } = contractsToRead(this.deployment, this.reader);
    const round = await rounds.read.round([submitted.args.roundId!]);
    return committeeToRead(this.deployment, this.reader).read.membersOf([round.programId]);
  }
}

/** The EIP-712 domain of a deployment's signed blob requests. */
export function blobAccessDomain(deployment: Deployment): BlobAccessDomain {
  return { chainId: deployment.chainId, hub: deployment.rounds };
}
