import { modelEnvelopeOf } from "@ciphershare/coprocessor/training/buyer";
import type { Hex } from "viem";
import { checkBlob } from "../contribute/keyBundle";
import { messageOf } from "./trainingData";

/** What the store holds of a round's model: the record `training unmask` published and the envelope it names. */
export interface FetchedModel {
  readonly recordHash: Hex;
  readonly envelopeHash: Hex;
  readonly envelope: Uint8Array;
}

/**
 * Fetches a model record (`ciphershare.training-model`) and the envelope of Enc_buyer(W) it names from the blob store,
 * each checked against its hash, as `buyer decrypt-model --model <hash>` reads them.
 */
export async function fetchModel(
  coprocessorUrl: string,
  recordHash: Hex,
  fetchFn?: typeof fetch,
): Promise<FetchedModel> {
  const fetchChecked = async (hash: Hex, what: string): Promise<Uint8Array> => {
    const found = await checkBlob(coprocessorUrl, hash, fetchFn);
    if (found.status === "match") return found.bytes;
    throw new Error(
      found.status === "missing"
        ? `The store has no ${what} ${hash}.`
        : found.status === "restricted"
          ? `The store refused to serve the ${what} ${hash}.`
          : `The store served another ${what} than ${hash} (its hash is ${found.actualHash}).`,
    );
  };
  const record = await fetchChecked(recordHash, "model record");
  let envelopeHash: Hex;
  try {
    envelopeHash = modelEnvelopeOf(record);
  } catch (error) {
    throw new Error(`${recordHash} is not a model record: ${messageOf(error)}`);
  }
  return { recordHash, envelopeHash, envelope: await fetchChecked(envelopeHash, "model envelope") };
}
