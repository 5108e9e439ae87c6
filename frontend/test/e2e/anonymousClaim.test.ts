// "Claim anonymously" on My royalties, in Chromium, on the shared local chain: the page generates a fresh payout
// address (its key encrypted in localStorage), the development wallet seals it; the test settles the round as the
// roles would (no CKKS: junk contributions published as included, shares settled by the custodian account); then,
// with nothing but the fresh key, the page claims through the app server's relayer (a fixed-time batch), decrypts the
// fresh address's balance by its own signature, transfers and unwraps by signature through the forwarder.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { concat, encodeFunctionData, getAddress, keccak256, toHex, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { anonymousPayoutsAbi, royaltyTokenAbi } from "@ciphershare/protocol/chain/abis";
import { forwardRequestTypedData } from "@ciphershare/protocol/chain/forwarder";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { sealOf } from "@ciphershare/protocol/round/inputs";
import {
  advanceChainPast,
  chainReader,
  chainSigner,
  mined,
  roleAccount,
  type ChainReader,
  type ChainSigner,
} from "@ciphershare/coprocessor/chain/clients";
import { contractsFor, readRound } from "@ciphershare/coprocessor/chain/contracts";
import { FhevmClient } from "@ciphershare/coprocessor/chain/fhevmClient";
import { closeRound, finalizeRound, fundPool } from "@ciphershare/coprocessor/roles/network";
import { FORWARD_RELAY_PATH } from "@ciphershare/coprocessor/roles/relay-client";
import type { ServedWebApp } from "@ciphershare/scripts/app/webServer";
import { devAccount } from "../../src/wallet/devAccounts";
import { vaultStorageKey } from "../../src/royalties/anonymous/payoutVault";
import type { Browser } from "../support/browser";
import {
  ARTIFACTS,
  connectDevelopmentWallet,
  deployWithOpenRound,
  openChromiumPage,
  serveAppFor,
  stopAtFirstFailure,
} from "../support/e2e";

/** The browser contributor: a development-wallet account no other browser test sends from. */
const BROWSER_ACCOUNT_INDEX = 6;
/** Accounts 12…16 of the node: this file's network, coprocessor, custodian, relayer and second contributor. */
const [NETWORK, COPROCESSOR, CUSTODIAN, RELAYER, OTHER] = [12, 13, 14, 15, 16];
const PASSPHRASE = "correct horse battery staple";
const TOKENS = 1_000_000n; // 6 decimals
const SHARES = [700n * TOKENS, 300n * TOKENS];

// Each step waits on the chain and the relay: a loaded machine needs more than the project's default 180 s.
describe("Claim anonymously (My royalties) in Chromium", { timeout: 300_000 }, () => {
  const rpcUrl = inject("rpcUrl");
  const outDir = mkdtempSync(join(tmpdir(), "ciphershare-anon-dist-"));
  const home = mkdtempSync(join(tmpdir(), "ciphershare-anon-"));
  const account = devAccount(BROWSER_ACCOUNT_INDEX).address;
  let reader: ChainReader;
  let deployment: Deployment;
  let contributors: ChainSigner[];
  let app: ServedWebApp;
  let browser: Browser;
  let page: Page;
  let payTo: Address;
  let pageErrors: string[] = [];
  const signer = (index: number) => chainSigner(reader, roleAccount(index));

  const textOf = async (testId: string) => (await page.getByTestId(testId).textContent()) ?? "";
  /** Clicks an action of the card and waits for its outcome (the test id that appears, or the card's error). */
  const act = async (button: string, outcome: string) => {
    // The card clears its last error when an action starts (a click is a discrete event: React renders it at once).
    await page.getByTestId(button).click();
    await page.locator(`[data-testid="${outcome}"], [data-testid="anon-error"]`).first().waitFor({ timeout: 120_000 });
    if (outcome !== "anon-error" && (await page.getByTestId("anon-error").count()) > 0) {
      throw new Error(`${button}: ${await textOf("anon-error")}`);
    }
  };

  beforeAll(async () => {
    reader = chainReader(rpcUrl, 31337);
    const network = signer(NETWORK);
    deployment = await deployWithOpenRound({
      reader,
      network,
      custodian: signer(CUSTODIAN),
      parties: { coprocessor: roleAccount(COPROCESSOR).address, publicBundleHash: `0x${"b1".repeat(32)}` },
      minContributors: 2,
      seed: `0x${"ba".repeat(32)}`,
    });
    // Both contributors register and commit (the browser account too: sealing is what the page does).
    contributors = [chainSigner(reader, devAccount(BROWSER_ACCOUNT_INDEX)), signer(OTHER)];
    for (const [i, contributor] of contributors.entries()) {
      const { rounds } = contractsFor(deployment, contributor);
      await mined(reader, rounds.write.register([`anon-test:${i}`]));
      await mined(reader, rounds.write.commitContribution([1n, sealOf(junk(i), contributor.address), 10n]));
    }
    app = await serveAppFor(
      rpcUrl,
      deployment,
      {
        RoundManager: deployment.rounds,
        RoyaltyDistributor: deployment.distributor,
        RoyaltyToken: deployment.token,
        AnonymousPayouts: deployment.anonymousPayouts,
        CipherShareForwarder: deployment.forwarder,
      },
      { home, outDir },
      { relayer: roleAccount(RELAYER), relayIntervalMs: 2_000 },
    );
    ({ browser, page, pageErrors } = await openChromiumPage());
    await connectDevelopmentWallet(page, app.url, BROWSER_ACCOUNT_INDEX, {
      then: { nav: "#/royalties", ready: "anon" },
    });
  }, 300_000);

  stopAtFirstFailure("anon", () => page);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    rmSync(outDir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  it("generates and seals a fresh payout address; its key is stored only encrypted and exports after the passphrase", async () => {
    await page.getByTestId("anon-passphrase").fill(PASSPHRASE);
    await page.getByTestId("anon-round").fill("1");
    await act("anon-seal", "anon-payto");
    await page.getByTestId("anon-note").filter({ hasText: "Sealed" }).waitFor();
    payTo = getAddress((await textOf("anon-payto")).trim());
    const { anonymousPayouts, rounds } = contractsFor(deployment, contributors[0]);
    expect(await anonymousPayouts.read.isSealed([1n, account])).toBe(true);
    expect(await rounds.read.isRegistered([payTo])).toBe(false);

    await act("anon-export-plain", "anon-plain-key");
    const privateKey = (await textOf("anon-plain-key")).trim() as Hex;
    expect(privateKeyToAccount(privateKey).address).toBe(payTo);
    const stored = (await page.evaluate((key) => localStorage.getItem(key), vaultStorageKey(account)))!.toLowerCase();
    const exported = (await page.getByTestId("anon-export-json").inputValue()).toLowerCase();
    for (const text of [stored, exported]) {
      expect(text).toContain("aes-gcm");
      expect(text).not.toContain(privateKey.slice(2).toLowerCase());
      expect(text).not.toContain(payTo.slice(2).toLowerCase());
    }

    await page.getByTestId("anon-passphrase").fill("not the passphrase");
    await act("anon-export-plain", "anon-error");
    expect(await textOf("anon-error")).toContain("Wrong passphrase");
    await page.getByTestId("anon-passphrase").fill(PASSPHRASE);
    await page.screenshot({ path: join(ARTIFACTS, "anon-01-sealed.png"), fullPage: true });
  });

  it("refuses to claim before the round is settled, and a round without a payout key has nothing to claim", async () => {
    await act("anon-claim", "anon-error");
    expect(await textOf("anon-error")).toContain("RoundNotClaimable");
    expect(await textOf("anon-error")).toContain("not settled");
    await page.getByTestId("anon-round").fill("2");
    await act("anon-claim", "anon-error");
    expect(await textOf("anon-error")).toContain("Nothing to claim");
    await page.getByTestId("anon-round").fill("1");
  });

  it("claims through the relayer's batch; the fresh key decrypts exactly its share", async () => {
    await settleRound();
    await act("anon-claim", "anon-claim-status");
    await page.getByTestId("anon-claim-status").filter({ hasText: "claimed:" }).waitFor({ timeout: 60_000 });
    const [paid] = await reader.getContractEvents({
      address: deployment.anonymousPayouts,
      abi: anonymousPayoutsAbi,
      eventName: "AnonymousClaimPaid",
      args: { to: payTo },
      fromBlock: BigInt(deployment.deployedAtBlock),
    });
    const tx = await reader.getTransaction({ hash: paid.transactionHash });
    expect(getAddress(tx.from)).toBe(roleAccount(RELAYER).address);
    await act("anon-decrypt", "anon-balance");
    expect(await textOf("anon-balance")).toContain(`(${SHARES[0]} base units)`);
  });

  it("transfers and unwraps by signature through the forwarder; the fresh address never holds ETH", async () => {
    const recipient = privateKeyToAccount(generatePrivateKey()).address;
    await page.getByTestId("anon-recipient").fill(recipient);
    await page.getByTestId("anon-amount").fill("200");
    await act("anon-transfer", "anon-spent");
    expect(await textOf("anon-spent")).toContain("Sent 200 confidentially");
    await page.getByTestId("anon-amount").fill("100");
    await act("anon-unwrap", "anon-spent");
    await page.getByTestId("anon-spent").filter({ hasText: "Unwrapped 100" }).waitFor();
    const { underlying } = contractsFor(deployment, contributors[0]);
    expect(await underlying.read.balanceOf([recipient])).toBe(100n * TOKENS);
    await act("anon-decrypt", "anon-balance");
    expect(await textOf("anon-balance")).toContain(`(${SHARES[0] - 300n * TOKENS} base units)`);
    expect(await reader.getBalance({ address: payTo })).toBe(0n);
    await page.screenshot({ path: join(ARTIFACTS, "anon-02-spent.png"), fullPage: true });

    await act("anon-claim", "anon-error");
    expect(await textOf("anon-error")).toContain("already claimed");
  });

  it("pays no gas for an outsider's fresh key that never held royalty tokens", async () => {
    const outsider = privateKeyToAccount(generatePrivateKey());
    const request = {
      from: outsider.address,
      to: deployment.token,
      value: 0n,
      gas: 3_000_000n,
      nonce: 0n,
      deadline: Math.floor(Date.now() / 1000) + 3600,
      data: encodeFunctionData({
        abi: royaltyTokenAbi,
        functionName: "confidentialTransfer",
        args: [outsider.address, `0x${"11".repeat(32)}`, "0x00"],
      }),
    };
    const signature = await outsider.signTypedData(
      forwardRequestTypedData({ chainId: 31337, forwarder: deployment.forwarder, request }),
    );
    const relayer = roleAccount(RELAYER).address;
    const nonceBefore = await reader.getTransactionCount({ address: relayer });
    const response = await fetch(`${app.url}${FORWARD_RELAY_PATH}`, {
      method: "POST",
      body: JSON.stringify({
        from: request.from,
        to: request.to,
        value: "0",
        gas: "3000000",
        deadline: String(request.deadline),
        data: request.data,
        signature,
      }),
    });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: string }).error).toContain("never held royalty tokens");
    expect(await reader.getTransactionCount({ address: relayer })).toBe(nonceBefore);
  });

  it("raised no error in the page", () => {
    expect(pageErrors).toEqual([]);
  });

  function junk(i: number): Hex {
    return keccak256(toHex(`anonymous claim test contribution ${i}`));
  }

  /** Reveal, close, publish both as included, fund, finalize, settle SHARES as the custodian, complete. */
  async function settleRound(): Promise<void> {
    await advanceChainPast(reader, (await readRound(deployment, reader, 1n)).commitDeadline);
    for (const [i, contributor] of contributors.entries()) {
      await mined(
        reader,
        contractsFor(deployment, contributor).rounds.write.revealContribution([1n, junk(i), "local:"]),
      );
    }
    const network = signer(NETWORK);
    await advanceChainPast(reader, (await readRound(deployment, reader, 1n)).revealDeadline);
    await closeRound(deployment, network, 1n);
    await mined(
      reader,
      contractsFor(deployment, signer(COPROCESSOR)).rounds.write.publishResults([
        1n,
        `0x${"a1".repeat(32)}`,
        `0x${"5c".repeat(32)}`,
        keccak256(concat([junk(0), junk(1)])),
        "0x0000",
      ]),
    );
    const fhevm = await FhevmClient.connect(rpcUrl);
    try {
      await fundPool(deployment, network, fhevm, 1n, SHARES[0] + SHARES[1]);
      await advanceChainPast(reader, (await readRound(deployment, reader, 1n)).disputeDeadline);
      await finalizeRound(deployment, network, 1n);
      const custodian = signer(CUSTODIAN);
      const shares = await fhevm.encryptUint64(deployment.distributor, custodian.address, SHARES);
      const { distributor } = contractsFor(deployment, custodian);
      await mined(
        reader,
        distributor.write.settle([1n, contributors.map((c) => c.address), shares.handles, [shares.inputProof]]),
      );
      await mined(reader, distributor.write.completeSettlement([1n]));
    } finally {
      fhevm.destroy();
    }
  }
});
