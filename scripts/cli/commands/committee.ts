// The custodian committee's side of `ciphershare custodian …` (`keygen --committee`, `accept --member K`,
// `run --member K`) and of `ciphershare network create-program --committee`: each member is its own process with its
// own keystore, journal and account.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { isAddress } from "viem";
import type { Address, Hex } from "@ciphershare/protocol/hex";
import type { ChainSigner } from "@ciphershare/coprocessor/chain/clients";
import {
  acceptCommitteeProgram,
  dealCommittee,
  memberRounds,
  registerCommittee,
  roundReleaseMembers,
  serveRoundAsMember,
  type MemberRoleOptions,
} from "@ciphershare/coprocessor/roles/committee-member";
import { openBlobStore, readJsonFile, writeJsonFile, type Workspace } from "@ciphershare/coprocessor/roles/workspace";
import { StateStore } from "@ciphershare/coprocessor/state/store";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { parseInteger, reporter, type RoleContext } from "../roleContext";

/** Development account of committee member k (1…3) on the embedded chain: accounts 17, 18, 19. */
export const memberAccount = (member: number): number => 16 + member;
export const MAX_DEV_MEMBERS = 3;

/** Member k's passphrase: `CIPHERSHARE_MEMBER_<k>_PASSPHRASE`, else the custodian's (a demo convenience). */
export function memberPassphrase(member: number, fallbackEnv: string): string {
  const value = process.env[`CIPHERSHARE_MEMBER_${member}_PASSPHRASE`] ?? process.env[fallbackEnv];
  if (value === undefined || value.length < 8) {
    throw new InvalidInputError(
      `Set CIPHERSHARE_MEMBER_${member}_PASSPHRASE (or ${fallbackEnv}) to member ${member}'s keystore passphrase (at least 8 characters).`,
    );
  }
  return value;
}

/** Where the committee's files live in a workspace. */
export function committeeFiles(ws: Workspace) {
  const dir = join(ws.home, "committee");
  return {
    /** The ceremony's public outcome: members, threshold, bundle hash, share commitments. */
    setup: join(ws.home, "committee.json"),
    keystore: (member: number) => join(dir, `member-${member}.keystore.json`),
    db: (member: number) => join(dir, `member-${member}.sqlite`),
    ensureDir: () => mkdirSync(dir, { recursive: true }),
  };
}

export interface CommitteeSetupFile {
  readonly members: Address[];
  readonly threshold: number;
  readonly publicBundleHash: Hex;
  readonly shareCommitments: Hex[];
}

/** `--members a,b,c` (addresses), or the development member accounts 1…3 when omitted. */
export function parseMembers(value: string | undefined, devAddress: (member: number) => Address): Address[] {
  const members =
    value === undefined
      ? Array.from({ length: MAX_DEV_MEMBERS }, (_, i) => devAddress(i + 1))
      : value.split(",").map((m) => m.trim());
  const bad = members.find((m) => !isAddress(m));
  if (bad !== undefined) throw new InvalidInputError("--members must be comma-separated addresses.", { details: bad });
  if (new Set(members.map((m) => m.toLowerCase())).size !== members.length) {
    throw new InvalidInputError("--members names a member twice.");
  }
  return members as Address[];
}

/** The dealer's ceremony: keys, bundle, one sealed share per member, the public setup file; the key is wiped. */
export async function committeeKeygen(
  ws: Workspace,
  members: readonly Address[],
  threshold: number,
  model: { dimension: number; classes: number },
  fallbackEnv: string,
): Promise<CommitteeSetupFile & { bundleBytes: number; contributorBundleBytes: number }> {
  if (threshold < 1 || threshold > members.length) {
    throw new InvalidInputError("--threshold must be between 1 and the number of members.", {
      details: `${threshold} of ${members.length}`,
    });
  }
  const files = committeeFiles(ws);
  files.ensureDir();
  const passphrases = members.map((_, i) => memberPassphrase(i + 1, fallbackEnv));
  const setup = await dealCommittee(
    openBlobStore(ws),
    members.map((_, i) => files.keystore(i + 1)),
    passphrases,
    threshold,
    model,
  );
  const file: CommitteeSetupFile = {
    members: [...members],
    threshold,
    publicBundleHash: setup.publicBundleHash,
    shareCommitments: [...setup.shareCommitments],
  };
  writeJsonFile(files.setup, file);
  writeJsonFile(ws.bundlePointerFile, { publicBundleHash: setup.publicBundleHash });
  return { ...file, bundleBytes: setup.bundleBytes, contributorBundleBytes: setup.contributorBundleBytes };
}

export function readCommitteeSetup(ws: Workspace): CommitteeSetupFile {
  return readJsonFile<CommitteeSetupFile>(
    committeeFiles(ws).setup,
    "committee setup",
    "run `ciphershare custodian keygen --committee` first.",
  );
}

/** The network registers the workspace's committee for program `programId`. */
export async function registerWorkspaceCommittee(
  ws: Workspace,
  deployment: Deployment,
  network: ChainSigner,
  programId: bigint,
): Promise<CommitteeSetupFile> {
  const setup = readCommitteeSetup(ws);
  await registerCommittee(deployment, network, programId, setup.members, setup.threshold, setup.shareCommitments);
  return setup;
}

/** Member `member` accepts program `programId` with its own share. */
export async function committeeAccept(ctx: RoleContext, member: number, programId: bigint, force?: boolean) {
  const path = committeeFiles(ctx.ws).keystore(member);
  if (!existsSync(path)) throw new InvalidInputError(`No keystore for member ${member}.`, { details: path });
  return acceptCommitteeProgram(ctx.deployment(), ctx.signer, programId, readFileSync(path, "utf8"), { force });
}

/** `custodian run --member K`: serves the committee programs' finalized rounds as member K until stopped. */
export async function committeeRun(
  ctx: RoleContext,
  member: number,
  options: { once?: boolean; interval: string; json?: boolean },
  fallbackEnv: string,
): Promise<void> {
  const secret = memberPassphrase(member, fallbackEnv);
  const say = reporter(options);
  const files = committeeFiles(ctx.ws);
  files.ensureDir();
  const state = StateStore.open(files.db(member));
  const fhevm = await ctx.fhevm();
  const role: MemberRoleOptions = {
    deployment: ctx.deployment(),
    signer: ctx.signer,
    state,
    store: ctx.store,
    storeForUri: ctx.storeForUri,
    fhevm,
    keystorePath: files.keystore(member),
    passphrase: secret,
    log: (line) => say.say(`[member ${member}] ${line}`),
  };
  let stopping = false;
  process.on("SIGTERM", () => (stopping = true));
  process.on("SIGINT", () => (stopping = true));
  const outcomes: Record<string, string> = {};
  /** Per round served: the members whose partial decryptions released it, and those dropped as silent. */
  const releasedBy: Record<string, number[]> = {};
  const silent: Record<string, number[]> = {};
  try {
    for (;;) {
      for (const roundId of await memberRounds(role)) {
        const outcome = await serveRoundAsMember(role, roundId);
        outcomes[String(roundId)] = outcome;
        const seen = await roundReleaseMembers(role.deployment, ctx.signer.reader, roundId);
        if (seen.silent.length > 0) silent[String(roundId)] = [...seen.silent];
        if (outcome === "released" || outcome === "settled") releasedBy[String(roundId)] = [...seen.decryptingSet];
      }
      if (options.once || stopping) break;
      await new Promise((resolve) => setTimeout(resolve, parseInteger(options.interval, "--interval", 10)));
      if (stopping) break;
    }
    const silentLine = Object.entries(silent).map(([round, members]) => `round ${round}: member ${members.join(", ")}`);
    say.result(
      { member, rounds: outcomes, releasedBy, silent },
      `member ${member}: ${JSON.stringify(outcomes)}${silentLine.length > 0 ? `; dropped as silent: ${silentLine.join("; ")}` : ""}`,
    );
  } finally {
    fhevm.destroy();
    state.close();
  }
}
