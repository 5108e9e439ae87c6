// The coordinator's side of job-scoped read grants (storage/read-grant.ts): a worker announces its own address in its
// BullMQ name; for each fan-out the coordinator signs, as the program's coprocessor, one grant per connected worker
// naming that worker, the round, the blobs the jobs need and an expiry, stores it (a public blob) and puts the grants'
// hashes into the jobs. A worker that joins after the fan-out has no grant: its reads of the round's inputs are refused
// and the job is retried on another worker.
import type { Queue } from "bullmq";
import type { LocalAccount } from "viem";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import type { BlobAccessDomain } from "../storage/blob-access";
import type { BlobStore } from "../storage/blob-store";
import { DEFAULT_GRANT_LIFETIME, encodeReadGrant, signReadGrant } from "../storage/read-grant";

/** Grants for `workers` to read `blobs`: worker address (lowercase) → the grant's hash in the store. */
export type ReadGrantIssuer = (workers: readonly Address[], blobs: readonly Hex[]) => Promise<Record<string, Hex>>;

export interface ReadGrantIssuerOptions {
  /** The program's coprocessor (the coordinator's chain account). */
  readonly account: Pick<LocalAccount, "signTypedData">;
  readonly domain: BlobAccessDomain;
  /** Where the grants go (the store the workers read). */
  readonly store: BlobStore;
  readonly round: bigint;
  /** Seconds; default `DEFAULT_GRANT_LIFETIME`. */
  readonly lifetime?: number;
}

export function readGrantIssuer(options: ReadGrantIssuerOptions): ReadGrantIssuer {
  return async (workers, blobs) => {
    const grants: Record<string, Hex> = {};
    if (blobs.length === 0) return grants;
    const expiresAt = Math.floor(Date.now() / 1000) + (options.lifetime ?? DEFAULT_GRANT_LIFETIME);
    for (const worker of workers) {
      const signed = await signReadGrant(options.account, options.domain, {
        worker,
        round: options.round,
        blobs,
        expiresAt,
      });
      grants[worker.toLowerCase()] = await options.store.put(encodeReadGrant(signed));
    }
    return grants;
  };
}

/** A worker's BullMQ name: `host:pid`, then `:0x…` when it reads with its own key. */
export function queueWorkerName(id: string, address: Address | undefined): string {
  return address === undefined ? id : `${id}:${address}`;
}

/** The addresses the queue's connected workers announced in their names. */
export async function queueWorkerAddresses(queue: Queue): Promise<Address[]> {
  const addresses = new Set<string>();
  for (const worker of await queue.getWorkers()) {
    const name = (worker as { rawname?: string }).rawname ?? "";
    const match = /:(0x[0-9a-fA-F]{40})$/.exec(name);
    if (match) addresses.add(match[1].toLowerCase());
  }
  return [...addresses] as Address[];
}
