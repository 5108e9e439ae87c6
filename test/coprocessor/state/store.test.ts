import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";

import { InvalidInputError } from "@ciphershare/protocol/errors";
import { StateLockedError, StateStoreError, StepConflictError } from "@ciphershare/coprocessor/state/errors";
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from "@ciphershare/coprocessor/state/schema";
import { openDatabase } from "@ciphershare/coprocessor/state/sqlite";
import { StateStore } from "@ciphershare/coprocessor/state/store";
import { type Hex } from "@ciphershare/protocol/hex";

const HASH_A = `0x${"aa".repeat(32)}` as Hex;
const HASH_B = `0x${"bb".repeat(32)}` as Hex;

/** Runs `script` (TypeScript, CommonJS) in a separate Node process; resolves with its output and exit. */
function runNode(script: string, onStdout?: (text: string) => void) {
  const child = spawn(process.execPath, ["--require", "tsx/cjs", "-e", script], {
    cwd: join(__dirname, "../../.."),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    stdout += text;
    onStdout?.(stdout);
  });
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  const exited = new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) =>
    child.once("exit", (code) => resolve({ stdout, stderr, code })),
  );
  return { child, exited };
}

const openStoreScript = (path: string, then: string) => `
  const { StateStore } = require("@ciphershare/coprocessor/state/store");
  try {
    const store = StateStore.open(${JSON.stringify(path)});
    console.log("opened");
    ${then}
  } catch (error) {
    console.log(error.name);
  }
`;

describe("state/store", () => {
  let directory: string;
  before(() => {
    directory = mkdtempSync(join(tmpdir(), "ciphershare-state-"));
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  describe("migrations", () => {
    it("creates the schema at the latest version and does not reapply it on reopen", () => {
      const path = join(directory, "migrate.sqlite");
      const store = StateStore.open(path);
      expect(store.schemaVersion).to.equal(LATEST_SCHEMA_VERSION);
      store.close();

      const reopened = StateStore.open(path);
      expect(reopened.schemaVersion).to.equal(LATEST_SCHEMA_VERSION);
      reopened.close();
      const db = openDatabase(path);
      const versions = db.prepare("SELECT version FROM schema_version ORDER BY version").all();
      expect(versions.map((row) => row.version)).to.deep.equal(MIGRATIONS.map((migration) => migration.version));
      expect(db.prepare("PRAGMA journal_mode").get()).to.deep.equal({ journal_mode: "wal" });
      db.close();
    });

    it("applies only pending migrations, each atomically", () => {
      const path = join(directory, "upgrade.sqlite");
      StateStore.open(path).close();
      const next = LATEST_SCHEMA_VERSION + 1;
      const v2 = { version: next, description: "blobs", sql: "CREATE TABLE blobs (hash TEXT PRIMARY KEY);" };
      const upgraded = StateStore.open(path, { migrations: [...MIGRATIONS, v2] });
      expect(upgraded.schemaVersion).to.equal(next);
      upgraded.close();

      // A migration that fails half-way leaves no trace: neither its first table nor its version.
      const broken = {
        version: next + 1,
        description: "broken",
        sql: "CREATE TABLE half (x INTEGER); CREATE TABLE blobs (hash TEXT);",
      };
      expect(() => StateStore.open(path, { migrations: [...MIGRATIONS, v2, broken] })).to.throw(/already exists/);
      const db = openDatabase(path);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
      expect(tables.map((row) => row.name)).to.deep.equal([
        "blobs",
        "released_scores",
        "schema_version",
        "settings",
        "steps",
      ]);
      expect(db.prepare("SELECT MAX(version) AS v FROM schema_version").get()).to.deep.equal({ v: next });
      db.close();
    });

    it("refuses a database written by a newer schema", () => {
      const path = join(directory, "future.sqlite");
      StateStore.open(path).close();
      const db = openDatabase(path);
      db.prepare("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)").run(LATEST_SCHEMA_VERSION + 1, 0);
      db.close();
      expect(() => StateStore.open(path)).to.throw(StateStoreError, /newer CipherShare/);
    });
  });

  describe("step journal", () => {
    let store: StateStore;
    let clock = 1_000;
    beforeEach(() => {
      store = StateStore.open(":memory:", { now: () => ++clock });
    });
    afterEach(() => store.close());

    it("records intent → sent → confirmed with timestamps and typed fields", () => {
      const intent = store.recordIntent(2, "publish-scores", { inputHash: HASH_A });
      expect(intent).to.include({ round: 2, step: "publish-scores", status: "intent", inputHash: HASH_A, attempts: 1 });
      const sent = store.recordSent(2, "publish-scores", { txHash: HASH_B, rawTransaction: "0x02f8", nonce: 9 });
      expect(sent).to.include({ status: "sent", txHash: HASH_B, rawTransaction: "0x02f8", nonce: 9 });
      const confirmed = store.recordConfirmed(2, "publish-scores", { outputHash: HASH_A, blockNumber: 17 });
      expect(confirmed).to.include({ status: "confirmed", txHash: HASH_B, outputHash: HASH_A, blockNumber: 17 });
      expect(confirmed.createdAt).to.equal(intent.createdAt);
      expect(confirmed.updatedAt).to.be.greaterThan(sent.updatedAt);
      expect(store.listSteps(2)).to.deep.equal([confirmed]);
      expect(store.unfinishedSteps()).to.deep.equal([]);
    });

    it("returns the journaled step when an intent is recorded again, and refuses other inputs", () => {
      store.recordIntent(1, "aggregate", { inputHash: HASH_A });
      store.recordSent(1, "aggregate", { txHash: HASH_B, rawTransaction: "0x01", nonce: 0 });
      expect(store.recordIntent(1, "aggregate", { inputHash: HASH_A }).status).to.equal("sent");
      expect(() => store.recordIntent(1, "aggregate", { inputHash: HASH_B })).to.throw(
        StepConflictError,
        /other inputs/,
      );
    });

    it("refuses transitions that would run a step twice", () => {
      store.recordIntent(1, "pay");
      store.recordConfirmed(1, "pay", { outputHash: HASH_A });
      expect(() => store.recordSent(1, "pay", { txHash: HASH_B, rawTransaction: "0x01", nonce: 1 })).to.throw(
        StepConflictError,
        /from confirmed to sent/,
      );
      expect(() => store.restartStep(1, "pay")).to.throw(StepConflictError);
      // Confirming again with the same output is harmless (a resumed process re-reading a receipt).
      expect(store.recordConfirmed(1, "pay", { outputHash: HASH_A }).status).to.equal("confirmed");
      expect(() => store.recordSent(5, "never-started", { txHash: HASH_B, rawTransaction: "0x", nonce: 0 })).to.throw(
        StateStoreError,
        /no recorded intent/,
      );
    });

    it("restarts a failed step as a new attempt with its transaction fields cleared", () => {
      store.recordIntent(1, "submit");
      store.recordSent(1, "submit", { txHash: HASH_B, rawTransaction: "0x01", nonce: 3 });
      store.recordFailed(1, "submit", "reverted");
      const restarted = store.restartStep(1, "submit");
      expect(restarted).to.include({ status: "intent", attempts: 2, txHash: null, rawTransaction: null, nonce: null });
    });

    it("lists unfinished steps of every round, oldest first", () => {
      store.recordIntent(1, "a");
      store.recordIntent(2, "b");
      store.recordConfirmed(1, "a");
      store.recordIntent(1, "c");
      expect(store.unfinishedSteps().map((record) => `${record.round}/${record.step}`)).to.deep.equal(["2/b", "1/c"]);
    });

    it("names bad step keys", () => {
      expect(() => store.recordIntent(-1, "x")).to.throw(InvalidInputError, /non-negative integer/);
      expect(() => store.recordIntent(1.5, "x")).to.throw(InvalidInputError);
      expect(() => store.recordIntent(1, "")).to.throw(InvalidInputError, /needs a name/);
    });

    it("rolls a transaction back when its work throws", () => {
      expect(() =>
        store.transaction(() => {
          store.recordIntent(9, "half-done");
          throw new Error("crash inside the transaction");
        }),
      ).to.throw(/crash inside/);
      expect(store.getStep(9, "half-done")).to.equal(undefined);
    });
  });

  describe("settings", () => {
    it("stores JSON values by namespace and key, durably", () => {
      const path = join(directory, "settings.sqlite");
      const store = StateStore.open(path);
      store.setValue("contracts", "registry", "0x5FbDB2315678afecb367f032d93F642f64180aa3");
      store.setValue("round", "1", { weights: [0.25, 0.75], done: false });
      store.setValue("round", "1", { weights: [0.5, 0.5], done: true });
      store.setValue("tmp", "x", 1);
      store.deleteValue("tmp", "x");
      store.close();

      const reopened = StateStore.open(path);
      expect(reopened.getValue<string>("contracts", "registry")).to.equal("0x5FbDB2315678afecb367f032d93F642f64180aa3");
      expect(reopened.getValue("round", "1")).to.deep.equal({ weights: [0.5, 0.5], done: true });
      expect(reopened.getValue("tmp", "x")).to.equal(undefined);
      reopened.close();
    });
  });

  describe("released scores", () => {
    const A = "0x00000000000000000000000000000000000000a1";
    const B = "0x00000000000000000000000000000000000000b2";

    it("keeps a round's φ per contributor in commit order, exactly, across a reopen", () => {
      const path = join(directory, "scores.sqlite");
      const store = StateStore.open(path);
      expect(store.scoresOf(1)).to.equal(undefined);
      const phi = [4.5e-3 + 1e-17, -1.25e-3];
      store.recordScores(1, [
        { contributor: B, phi: phi[0] },
        { contributor: A, phi: phi[1] },
      ]);
      store.recordScores(2, [{ contributor: A, phi: 0 }]);
      store.close();

      const reopened = StateStore.open(path);
      expect(reopened.scoresOf(1)).to.deep.equal([
        { contributor: B, phi: phi[0] },
        { contributor: A, phi: phi[1] },
      ]);
      expect(reopened.scoresOf(2)).to.deep.equal([{ contributor: A, phi: 0 }]);
      // Recording a round again replaces its scores (a release re-run after a crash).
      reopened.recordScores(1, [{ contributor: A, phi: 1 }]);
      expect(reopened.scoresOf(1)).to.deep.equal([{ contributor: A, phi: 1 }]);
      reopened.close();
    });

    it("refuses a score that is not a finite number, recording nothing of the round", () => {
      const store = StateStore.open(":memory:");
      expect(() =>
        store.recordScores(3, [
          { contributor: A, phi: 1 },
          { contributor: B, phi: Number.NaN },
        ]),
      ).to.throw(InvalidInputError, /finite/);
      expect(store.scoresOf(3)).to.equal(undefined);
      store.close();
    });
  });

  describe("one owner per database", function () {
    this.timeout(60_000);

    it("refuses a second connection while the first is open, and allows it after close", () => {
      const path = join(directory, "owner.sqlite");
      const owner = StateStore.open(path);
      expect(() => StateStore.open(path)).to.throw(StateLockedError, /in use by another process/);
      owner.close();
      StateStore.open(path).close();
    });

    it("refuses another process, and a SIGKILLed owner leaves no stale lock; no ExperimentalWarning", async () => {
      const path = join(directory, "process-owner.sqlite");
      let announced: () => void = () => undefined;
      const ownerOpened = new Promise<void>((resolve) => (announced = resolve));
      const owner = runNode(openStoreScript(path, "setInterval(() => {}, 1000);"), (stdout) => {
        if (stdout.includes("opened")) announced();
      });
      await ownerOpened;

      const contender = await runNode(openStoreScript(path, "store.close();")).exited;
      expect(contender.stdout.trim()).to.equal("StateLockedError");

      owner.child.kill("SIGKILL");
      const ownerExit = await owner.exited;
      expect(ownerExit.stderr).to.not.contain("ExperimentalWarning");

      const successor = await runNode(openStoreScript(path, "store.close();")).exited;
      expect(successor.stdout.trim()).to.equal("opened");
      expect(successor.stderr).to.not.contain("ExperimentalWarning");
    });
  });
});
