import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../e2e/processes";

describe("cli: buyer keygen (training programs)", function () {
  const home = mkdtempSync(join(tmpdir(), "ciphershare-buyer-"));

  it("refuses without a passphrase and refuses a model larger than training supports", async () => {
    const bare = await run(["buyer", "keygen", "--home", home, "--features", "4", "--outputs", "2"], {
      CIPHERSHARE_BUYER_PASSPHRASE: "",
    });
    expect(bare.code).to.equal(1);
    expect(bare.stderr).to.contain("CIPHERSHARE_BUYER_PASSPHRASE");
    const large = await run(["buyer", "keygen", "--home", home, "--features", "785", "--outputs", "10"], {
      CIPHERSHARE_BUYER_PASSPHRASE: "a long enough passphrase",
    });
    expect(large.code).to.equal(1);
    expect(large.stderr).to.contain("d = 785 (at most 256)");
  });

  it("generates the buyer's keys, seals the secret key and publishes the bundle", async () => {
    const result = await run(["buyer", "keygen", "--home", home, "--features", "4", "--outputs", "2", "--json"], {
      CIPHERSHARE_BUYER_PASSPHRASE: "a long enough passphrase",
    });
    expect(result.code, result.stderr).to.equal(0);
    const lines = result.stdout.trim().split("\n");
    const keys = JSON.parse(lines[lines.length - 1]) as { publicBundleHash: string; galoisSteps: number };
    expect(keys.publicBundleHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(keys.galoisSteps).to.be.above(0);
    const pointer = JSON.parse(readFileSync(join(home, "buyer-bundle.json"), "utf8")) as Record<string, unknown>;
    expect(pointer).to.deep.equal({ publicBundleHash: keys.publicBundleHash, features: 4, outputs: 2 });
    expect(existsSync(join(home, "buyer.keystore.json"))).to.equal(true);
  });
});
