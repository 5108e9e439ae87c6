import { ProgramKind } from "@ciphershare/protocol/chain/constants";
import { decodeTrainingTerms, type TrainingTerms } from "@ciphershare/protocol/records/training-terms";
import type { Hex } from "viem";
import { checkBlob } from "../contribute/keyBundle";
import { messageOf } from "./trainingData";

/** What the page needs of a program to train under it. */
export interface ProgramFacts {
  readonly kind: number;
  readonly termsHash: Hex;
}

/**
 * A training program's terms as every role reads them (`readTrainingProgram`): refused unless the program is of kind
 * Training and the blob fetched from the store hashes to its on-chain `termsHash`; then decoded (canonical form only).
 */
export async function fetchTrainingTerms(
  coprocessorUrl: string,
  programId: bigint,
  program: ProgramFacts,
  fetchFn?: typeof fetch,
): Promise<TrainingTerms> {
  if (program.kind !== ProgramKind.Training) {
    throw new Error(`Program ${programId} is not a training program (kind ${program.kind}).`);
  }
  const found = await checkBlob(coprocessorUrl, program.termsHash, fetchFn);
  if (found.status === "missing") {
    throw new Error(`The store has no terms ${program.termsHash} for program ${programId}.`);
  }
  if (found.status === "restricted") throw new Error(`The store refused to serve the terms ${program.termsHash}.`);
  if (found.status === "mismatch") {
    throw new Error(
      `The stored terms do not hash to the program's termsHash: served ${found.actualHash}, on-chain ${program.termsHash}.`,
    );
  }
  try {
    return decodeTrainingTerms(found.bytes);
  } catch (error) {
    throw new Error(`The program's terms are not valid: ${messageOf(error)}`);
  }
}
