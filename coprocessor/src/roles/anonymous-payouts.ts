// Anonymous royalty claims for the contributor role (issue 11): a fresh payout address per round, generated and kept
// in the contributor's payout keystore, sealed on-chain as an encrypted address (AnonymousPayouts.sealPayout); once
// the round is settled, a claim for that address is sent by someone else (the network's relayer, or a relayer
// account on the embedded chain), never by the contributor's own account; the fresh address decrypts its balance by
// signing with its own key, and spends it by signature through the forwarder (ERC-2771).
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { bytesToHex, hexToBytes } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { CipherShareError } from "@ciphershare/protocol/errors";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import { mined, type ChainReader, type ChainSigner } from "../chain/clients";
import { contractsFor, contractsToRead } from "../chain/contracts";
import { viemAccountSigner, type FhevmClient } from "../chain/fhevmClient";
import { openPayoutKeystore, sealPayoutKeystore, type ScryptParameters } from "../keys/keystore";
import { writeJsonFile } from "./workspace";

export class AnonymousPayoutError extends CipherShareError {
  override name = "AnonymousPayoutError";
}

/** Entries a claim chunk scans by default: the largest paying chunk that fits one transaction is 110 (bench:chain). */
export const CLAIM_CHUNK_ENTRIES = 100;

/** One fresh payout address and its key, by round. */
export interface PayoutKey {
  readonly round: string;
  readonly address: Address;
  readonly privateKey: Hex;
}

/** The variable the contributor's keystore passphrase travels in (payout keys are sealed with it). */
export const CONTRIBUTOR_PASSPHRASE_ENV = "CIPHERSHARE_CONTRIBUTOR_PASSPHRASE";

/**
 * The payout keystore: `payout-keys.json` in the contributor's directory (mode 0600), one entry per round, each key
 * sealed with the contributor's passphrase (coprocessor/src/keys/keystore.ts: scrypt, AES-256-GCM, the round
 * authenticated). Neither the key nor the payout address is written in clear: a stolen file links nothing.
 */
export function payoutKeystorePath(contributorDir: string): string {
  return join(contributorDir, "payout-keys.json");
}

interface PayoutKeystoreFile {
  version: 2;
  keys: { round: string; keystore: string }[];
}

function readPayoutKeystoreFile(contributorDir: string): PayoutKeystoreFile {
  const path = payoutKeystorePath(contributorDir);
  if (!existsSync(path)) return { version: 2, keys: [] };
  const file = JSON.parse(readFileSync(path, "utf8")) as Partial<PayoutKeystoreFile>;
  if (file.version !== 2 || !Array.isArray(file.keys)) {
    throw new AnonymousPayoutError("The payout keystore is not a version-2 (encrypted) payout keystore.", {
      details: path,
    });
  }
  return file as PayoutKeystoreFile;
}

async function openPayoutKey(entry: { round: string; keystore: string }, passphrase: string): Promise<PayoutKey> {
  const secret = await openPayoutKeystore(entry.keystore, passphrase, entry.round);
  try {
    const privateKey = bytesToHex(secret);
    return { round: entry.round, address: privateKeyToAccount(privateKey).address, privateKey };
  } finally {
    secret.fill(0);
  }
}

/** Every payout key of the contributor, decrypted with its passphrase (a wrong one gives a `KeystoreError`). */
export async function readPayoutKeys(contributorDir: string, passphrase: string): Promise<PayoutKey[]> {
  const keys: PayoutKey[] = [];
  for (const entry of readPayoutKeystoreFile(contributorDir).keys) keys.push(await openPayoutKey(entry, passphrase));
  return keys;
}

/** The payout key of `roundId`, or an error telling how to create one. */
export async function payoutKeyOf(contributorDir: string, roundId: bigint, passphrase: string): Promise<PayoutKey> {
  const entry = readPayoutKeystoreFile(contributorDir).keys.find((k) => k.round === roundId.toString());
  if (entry === undefined) {
    throw new AnonymousPayoutError(`No payout address sealed for round ${roundId}: run \`contributor seal-payout\`.`, {
      details: payoutKeystorePath(contributorDir),
    });
  }
  return openPayoutKey(entry, passphrase);
}

/** The payout key of `roundId`, generated (and stored, encrypted) if the contributor has none yet. */
async function payoutKeyFor(
  contributorDir: string,
  roundId: bigint,
  passphrase: string,
  scrypt?: ScryptParameters,
): Promise<PayoutKey> {
  const file = readPayoutKeystoreFile(contributorDir);
  const round = roundId.toString();
  const existing = file.keys.find((k) => k.round === round);
  if (existing !== undefined) return openPayoutKey(existing, passphrase);
  const privateKey = generatePrivateKey();
  const secret = hexToBytes(privateKey);
  const keystore = await sealPayoutKeystore(secret, passphrase, round, scrypt);
  secret.fill(0);
  const path = payoutKeystorePath(contributorDir);
  writeJsonFile(path, { version: 2, keys: [...file.keys, { round, keystore }] } satisfies PayoutKeystoreFile);
  chmodSync(path, 0o600);
  return { round, address: privateKeyToAccount(privateKey).address, privateKey };
}

/**
 * Generates (once per round) a fresh payout address, keeps its key in the contributor's payout keystore (sealed with
 * `passphrase`), and seals the address
 * for round `roundId`: an encrypted address input bound to the contributor and the anonymous payouts contract.
 */
export async function sealPayoutAddress(
  deployment: Deployment,
  contributor: ChainSigner,
  fhevm: FhevmClient,
  contributorDir: string,
  roundId: bigint,
  passphrase: string,
  scrypt?: ScryptParameters,
): Promise<{ payTo: Address; sealed: "sealed" | "already-sealed"; index: bigint }> {
  const { anonymousPayouts, rounds } = contractsFor(deployment, contributor);
  const key = await payoutKeyFor(contributorDir, roundId, passphrase, scrypt);
  if (await rounds.read.isRegistered([key.address])) {
    throw new AnonymousPayoutError("The generated payout address is a registered contributor: refusing to seal it.", {
      details: key.address,
    });
  }
  if (await anonymousPayouts.read.isSealed([roundId, contributor.address])) {
    return {
      payTo: key.address,
      sealed: "already-sealed",
      index: await sealedIndexOf(deployment, contributor, roundId),
    };
  }
  const input = fhevm.createEncryptedInput(deployment.anonymousPayouts, contributor.address).addAddress(key.address);
  const encrypted = await input.encrypt();
  const toHex = (bytes: Uint8Array): Hex => `0x${Buffer.from(bytes).toString("hex")}`;
  await mined(
    contributor.reader,
    anonymousPayouts.write.sealPayout([roundId, toHex(encrypted.handles[0]), toHex(encrypted.inputProof)]),
  );
  return { payTo: key.address, sealed: "sealed", index: await sealedIndexOf(deployment, contributor, roundId) };
}

async function sealedIndexOf(deployment: Deployment, reader: ChainSigner, roundId: bigint): Promise<bigint> {
  const { anonymousPayouts } = contractsToRead(deployment, reader.reader);
  const count = await anonymousPayouts.read.sealedCount([roundId]);
  for (let i = 0n; i < count; i++) {
    const [contributor] = await anonymousPayouts.read.sealedEntry([roundId, i]);
    if (contributor.toLowerCase() === reader.address.toLowerCase()) return i;
  }
  throw new AnonymousPayoutError("The seal is not on-chain.", { details: `round ${roundId}, ${reader.address}` });
}

/**
 * Claims for `to` over `roundIds` as `submitter` (anyone but the contributor: a relayer), in chunks of `chunk` entries
 * until the chunk that pays; a claim already in progress for the same rounds is continued. Returns the number of
 * transactions sent.
 */
export async function claimForAddress(
  deployment: Deployment,
  submitter: ChainSigner,
  to: Address,
  roundIds: readonly bigint[],
  chunk = CLAIM_CHUNK_ENTRIES,
): Promise<{ transactions: number }> {
  const { anonymousPayouts } = contractsFor(deployment, submitter);
  if (roundIds.length === 0) throw new AnonymousPayoutError("A claim needs at least one round.", { details: to });
  let transactions = 0;
  for (;;) {
    await mined(submitter.reader, anonymousPayouts.write.claim([to, [...roundIds], BigInt(chunk)]));
    transactions += 1;
    const [roundsHash] = await anonymousPayouts.read.claimProgress([to]);
    if (BigInt(roundsHash) === 0n) return { transactions };
  }
}

/** Whether `to` has claimed (or is claiming) every round of `roundIds`. */
export async function isClaimedBy(
  deployment: Deployment,
  reader: ChainReader,
  to: Address,
  roundIds: readonly bigint[],
): Promise<boolean> {
  const { anonymousPayouts } = contractsToRead(deployment, reader);
  for (const roundId of roundIds) if (!(await anonymousPayouts.read.isClaimed([roundId, to]))) return false;
  return true;
}

/** The royalty-token balance of a fresh payout address, decrypted by signing with its own key. */
export async function payoutBalance(
  deployment: Deployment,
  reader: ChainReader,
  fhevm: FhevmClient,
  key: PayoutKey,
): Promise<bigint> {
  const { token } = contractsToRead(deployment, reader);
  const handle = await token.read.confidentialBalanceOf([key.address]);
  return fhevm.userDecryptUint64(handle, deployment.token, viemAccountSigner(privateKeyToAccount(key.privateKey)));
}
