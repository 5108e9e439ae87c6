// The usage dashboard (Network dashboard → Usage periods) in Chromium, on the shared local chain: a usage program
// bound to its terms (two artists, the browser's development account first), a period whose operator report counts
// 2,500 generations, run through the chain as the roles would (no CKKS: a junk report published as included; the
// custodian seals the artists' totals and settles shares directly). The page shows the period's public facts as they
// change, and the connected artist decrypts its own usage total and royalty, each by one EIP-712 signature.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, parseEther, toHex, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Deployment } from "@ciphershare/protocol/chain/deployment";
import { usageTermsConfig, usageTermsHash, type UsageTermsConfig } from "@ciphershare/protocol/chain/usage-terms";
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
import { setUsageTerms } from "@ciphershare/coprocessor/chain/usage-terms";
import { closeRound, finalizeRound, fundPool } from "@ciphershare/coprocessor/roles/network";
import type { ServedWebApp } from "@ciphershare/scripts/app/webServer";
import { devAccount } from "../../src/wallet/devAccounts";
import type { Browser } from "../support/browser";
import {
  ARTIFACTS,
  connectDevelopmentWallet,
  deployWithOpenRound,
  openChromiumPage,
  serveAppFor,
  stopAtFirstFailure,
} from "../support/e2e";

/** The browser artist: it only signs decryption requests (no transaction), so any development account will do. */
const ARTIST_INDEX = 3;
/** The node account that funds this file's fresh role accounts (no other browser test sends from it). */
const FUNDER = 10;
const GENERATIONS = 2500n;
const TOTALS = [1_234_567_890n, 0n]; // millionths: the browser artist's 1,234.56789; the other artist unused
const SHARES = [700_000n, 300_000n]; // base units (6 decimals): 0.7 and 0.3 of a pool of 1

describe("Usage periods (Network dashboard) in Chromium", { timeout: 300_000 }, () => {
  const rpcUrl = inject("rpcUrl");
  const outDir = mkdtempSync(join(tmpdir(), "ciphershare-usage-dist-"));
  const home = mkdtempSync(join(tmpdir(), "ciphershare-usage-"));
  const artist = devAccount(ARTIST_INDEX).address;
  const junk: Hex = keccak256(toHex("usage dashboard test report"));
  let reader: ChainReader;
  let deployment: Deployment;
  let network: ChainSigner;
  let coprocessor: ChainSigner;
  let custodian: ChainSigner;
  let operator: ChainSigner;
  let terms: UsageTermsConfig;
  let app: ServedWebApp;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[] = [];

  const textOf = async (testId: string) => (await page.getByTestId(testId).textContent()) ?? "";
  const waitForText = (testId: string, text: string) =>
    page.getByTestId(testId).filter({ hasText: text }).waitFor({ timeout: 60_000 });

  beforeAll(async () => {
    reader = chainReader(rpcUrl, 31337);
    // Fresh accounts for the roles, funded by one node account: no nonce is shared with the other browser tests.
    const funder = chainSigner(reader, roleAccount(FUNDER));
    const fresh = async () => {
      const account = privateKeyToAccount(generatePrivateKey());
      await mined(reader, funder.wallet.sendTransaction({ to: account.address, value: parseEther("10") }));
      return chainSigner(reader, account);
    };
    [network, coprocessor, custodian, operator] = [await fresh(), await fresh(), await fresh(), await fresh()];
    const other = privateKeyToAccount(generatePrivateKey()).address;
    terms = usageTermsConfig({ operator: operator.address, artists: [artist, other], minGenerations: 100 });
    deployment = await deployWithOpenRound({
      reader,
      network,
      custodian,
      parties: {
        coprocessor: coprocessor.address,
        publicBundleHash: `0x${"b2".repeat(32)}`,
        usage: { termsHash: usageTermsHash(terms) },
      },
      minContributors: 1,
      seed: `0x${"bb".repeat(32)}`,
      configure: (deployed) => setUsageTerms(deployed, network, 1n, terms),
    });
    const { rounds } = contractsFor(deployment, operator);
    await mined(reader, rounds.write.register(["usage-dashboard-test:operator"]));
    await mined(reader, rounds.write.commitContribution([1n, sealOf(junk, operator.address), GENERATIONS]));

    app = await serveAppFor(
      rpcUrl,
      deployment,
      {
        RoundManager: deployment.rounds,
        RoyaltyDistributor: deployment.distributor,
        RoyaltyToken: deployment.token,
        UsageTerms: deployment.usageTerms,
      },
      { home, outDir },
      { relayer: network.account },
    );
    ({ browser, page, pageErrors } = await openChromiumPage());
    await connectDevelopmentWallet(page, app.url, ARTIST_INDEX, {
      then: { nav: "#/dashboard", ready: "usage-periods" },
    });
  }, 300_000);

  stopAtFirstFailure("usage", () => page);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    rmSync(outDir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  it("shows an open period's public facts: no generations counted before the report is included", async () => {
    await waitForText("usage-status-1", "open: the operator reports");
    expect(await textOf("usage-generations-1")).toBe("0");
  });

  it("follows the period to finalization: the report's generations and the public pool", async () => {
    await advanceChainPast(reader, (await readRound(deployment, reader, 1n)).commitDeadline);
    await mined(reader, contractsFor(deployment, operator).rounds.write.revealContribution([1n, junk, "local:"]));
    await advanceChainPast(reader, (await readRound(deployment, reader, 1n)).revealDeadline);
    await closeRound(deployment, network, 1n);
    await mined(
      reader,
      contractsFor(deployment, coprocessor).rounds.write.publishResults([
        1n,
        `0x${"a2".repeat(32)}`,
        `0x${"5d".repeat(32)}`,
        keccak256(junk),
        "0x00",
      ]),
    );
    await waitForText("usage-status-1", "totals published: dispute window");
    const fhevm = await FhevmClient.connect(rpcUrl);
    try {
      await fundPool(deployment, network, fhevm, 1n, SHARES[0] + SHARES[1]);
      await advanceChainPast(reader, (await readRound(deployment, reader, 1n)).disputeDeadline);
      await finalizeRound(deployment, network, 1n);
    } finally {
      fhevm.destroy();
    }
    await waitForText("usage-status-1", "finalized: the custodian releases the totals");
    expect(await textOf("usage-generations-1")).toBe("2,500");
    await waitForText("usage-pool-1", "1");
    // Nothing is sealed yet: the artist's buttons say so.
    expect(await page.getByTestId("my-usage-decrypt-1").isDisabled()).toBe(true);
  });

  it("the artist decrypts its own usage total and royalty once the custodian sealed and settled them", async () => {
    const fhevm = await FhevmClient.connect(rpcUrl);
    try {
      const totals = await fhevm.encryptUint64(deployment.usageTerms!, custodian.address, TOTALS);
      await mined(
        reader,
        contractsFor(deployment, custodian).usageTerms!.write.sealUsageTotals([
          1n,
          [...terms.artists],
          totals.handles,
          [totals.inputProof],
        ]),
      );
      const shares = await fhevm.encryptUint64(deployment.distributor, custodian.address, SHARES);
      const { distributor } = contractsFor(deployment, custodian);
      await mined(reader, distributor.write.settle([1n, [...terms.artists], shares.handles, [shares.inputProof]]));
      await mined(reader, distributor.write.completeSettlement([1n]));
    } finally {
      fhevm.destroy();
    }
    await waitForText("usage-status-1", "settled: artists claim");
    await page.getByTestId("my-usage-decrypt-1").click();
    await waitForText("my-usage-clear-1", "1,234.567890");
    expect(await textOf("my-usage-clear-1")).toContain("of 2500 generations");
    await page.getByTestId("my-royalty-decrypt-1").click();
    await waitForText("my-royalty-clear-1", `(${SHARES[0]} base units)`);
    await page.screenshot({ path: join(ARTIFACTS, "usage-01-my-usage.png"), fullPage: true });
  });

  it("raised no error in the page", () => {
    expect(pageErrors).toEqual([]);
  });
});
