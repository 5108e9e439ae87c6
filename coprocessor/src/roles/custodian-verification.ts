// The custodian's rule before any decryption: recompute, then decrypt only what matched. For the standing
// publication of a round of a program it accepted, the custodian recomputes both outputs from the committed inputs
// (`recompute.ts`, the auditor's deterministic code) and records the verdict in its journal. A mismatch found while
// the dispute window is open is challenged on-chain (`challengeResults`, with the verdict as evidence); a
// publication that did not match is never decrypted, whether or not the challenge could still be filed.
import { encodeFunctionData } from "viem";
import { roundManagerAbi } from "@ciphershare/protocol/chain/abis";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { sameHash, type Hex } from "@ciphershare/protocol/hex";
import { encodeJsonRecord } from "@ciphershare/protocol/records/json";
import { readRound, type RoundState } from "../chain/contracts";
import { signerTransactionDriver } from "../chain/transactionDriver";
import { publicationStep, runOnChainStep, runStep } from "../state/journal";
import type { StateStore } from "../state/store";
import { CustodianError, type CustodianRoleOptions } from "./custodian";
import { recomputePublication, type PublicationVerdict } from "./recompute";

const NAMESPACE = "custodian";

function verificationKey(round: number, publication: number): string {
  return `round:${round}:publication:${publication}:verification`;
}

/** The recorded verdict on publication `publication` of round `round`, if the custodian recomputed it. */
export function verificationOf(state: StateStore, round: number, publication: number): PublicationVerdict | undefined {
  return state.getValue(NAMESPACE, verificationKey(round, publication)) as PublicationVerdict | undefined;
}

/** Recomputes the standing publication once (journaled `p<n>:verify-outputs`) and returns the recorded verdict. */
export async function verifyStep(options: CustodianRoleOptions, roundId: bigint): Promise<PublicationVerdict> {
  const { state } = options;
  const round = Number(roundId);
  const { publication } = await readRound(options.deployment, options.signer.reader, roundId);
  await runStep(state, { round, step: publicationStep(publication, "verify-outputs") }, async () => {
    const verdict = await recomputePublication(
      {
        deployment: options.deployment,
        reader: options.signer.reader,
        store: options.store,
        storeForUri: options.storeForUri ?? (() => options.store),
        fetchTimeoutMs: options.fetchTimeoutMs,
        workers: options.workers,
      },
      roundId,
    );
    if (verdict.publication !== publication) {
      throw new CustodianError("The standing publication changed while the custodian recomputed it.", {
        details: `round ${round}: publication ${publication} → ${verdict.publication}`,
      });
    }
    state.setValue(NAMESPACE, verificationKey(round, publication), { ...verdict } as never);
    options.log?.(
      `round ${round}: publication ${publication} ${verdict.matches ? "verified" : "DOES NOT MATCH"}: ${verdict.detail}`,
    );
    return keccak256(encodeJsonRecord(verdict));
  });
  const verdict = verificationOf(state, round, publication);
  if (verdict === undefined) throw new CustodianError(`No verdict recorded for round ${round}.`);
  return verdict;
}

/**
 * Challenges a publication the custodian could not reproduce (journaled `p<n>:challenge`): the verdict goes to the
 * store as evidence, its hash and address on-chain with `challengeResults`. Returns the evidence hash.
 */
export async function challengeStep(
  options: Pick<CustodianRoleOptions, "state" | "signer" | "deployment" | "store" | "log">,
  verdict: PublicationVerdict,
): Promise<Hex> {
  const { state, signer, deployment, store } = options;
  const evidence = await store.put(encodeJsonRecord({ kind: "ciphershare.challenge", version: 1, ...verdict }));
  await runOnChainStep(
    state,
    { round: verdict.round, step: publicationStep(verdict.publication, "challenge") },
    signerTransactionDriver(signer, {
      to: deployment.rounds,
      data: encodeFunctionData({
        abi: roundManagerAbi,
        functionName: "challengeResults",
        args: [BigInt(verdict.round), evidence, `blob:${evidence}`],
      }),
    }),
  );
  options.log?.(`round ${verdict.round}: challenged publication ${verdict.publication} (evidence ${evidence})`);
  return evidence;
}

/**
 * Throws unless the custodian recomputed the round's standing publication and both outputs matched the hashes the
 * round lists now: the last check before any decryption.
 */
export function requireVerified(state: StateStore, round: RoundState): void {
  const verdict = verificationOf(state, Number(round.id), round.publication);
  if (
    verdict === undefined ||
    !verdict.matches ||
    !sameHash(verdict.published.aggregate, round.aggregateHash) ||
    !sameHash(verdict.published.scores, round.scoresHash)
  ) {
    throw new CustodianError("The custodian decrypts only outputs it recomputed byte for byte.", {
      details: `round ${round.id} publication ${round.publication}: ${verdict === undefined ? "not recomputed" : verdict.detail}`,
    });
  }
}
