import { expect } from "chai";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  KeystoreError,
  openKeystore,
  readKeystoreFile,
  sealKeystore,
  TEST_SCRYPT,
  writeKeystoreFile,
} from "../../../coprocessor/src/custodian/keystore";
import { InvalidInputError } from "../../../coprocessor/src/errors/base";

describe("secret-key keystore (scrypt → AES-256-GCM)", () => {
  const secret = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff);
  const metadata = { parameterSetId: "fast-v1", publicBundleHash: `0x${"ab".repeat(32)}` as const };
  const passphrase = "correct horse battery staple";

  it("round-trips the secret key and its metadata", async () => {
    const keystore = await sealKeystore(secret, passphrase, metadata, TEST_SCRYPT);
    expect(keystore).to.not.include(Buffer.from(secret).toString("base64").slice(0, 40));
    const opened = await openKeystore(keystore, passphrase);
    expect(opened.secretKey).to.deep.equal(secret);
    expect(opened.metadata).to.deep.equal(metadata);
  });

  it("uses a fresh salt and IV each time", async () => {
    const a = JSON.parse(await sealKeystore(secret, passphrase, metadata, TEST_SCRYPT));
    const b = JSON.parse(await sealKeystore(secret, passphrase, metadata, TEST_SCRYPT));
    expect(a.kdf.salt).to.not.equal(b.kdf.salt);
    expect(a.cipher.iv).to.not.equal(b.cipher.iv);
  });

  it("fails with a clear error on a wrong passphrase or any altered field", async () => {
    const keystore = await sealKeystore(secret, passphrase, metadata, TEST_SCRYPT);
    await expectKeystoreError(openKeystore(keystore, "wrong passphrase!"), /Wrong passphrase/);
    const file = JSON.parse(keystore);
    const altered = [
      { ...file, metadata: { ...file.metadata, publicBundleHash: `0x${"cd".repeat(32)}` } },
      { ...file, metadata: { ...file.metadata, parameterSetId: "deep-v1" } },
      { ...file, ciphertext: flipBase64(file.ciphertext) },
      { ...file, cipher: { ...file.cipher, tag: flipBase64(file.cipher.tag) } },
      { ...file, kdf: { ...file.kdf, r: 4 } },
    ];
    for (const variant of altered) {
      await expectKeystoreError(openKeystore(JSON.stringify(variant), passphrase), /Wrong passphrase|altered/);
    }
    await expectKeystoreError(openKeystore("{}", passphrase), /not a CipherShare CKKS keystore/);
    await expectKeystoreError(openKeystore("nope", passphrase), /not valid JSON/);
    await expectKeystoreError(
      openKeystore(JSON.stringify({ ...file, kdf: { ...file.kdf, N: 2 ** 30 } }), passphrase),
      /out of bounds/,
    );
  });

  it("refuses short passphrases", async () => {
    let error: unknown;
    await sealKeystore(secret, "short", metadata, TEST_SCRYPT).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(InvalidInputError);
  });

  it("writes the file with owner-only permissions and reads it back", async () => {
    const directory = mkdtempSync(join(tmpdir(), "ciphershare-keystore-"));
    try {
      const path = join(directory, "custodian.json");
      await writeKeystoreFile(path, await sealKeystore(secret, passphrase, metadata, TEST_SCRYPT));
      expect(statSync(path).mode & 0o777).to.equal(0o600);
      expect((await readKeystoreFile(path, passphrase)).secretKey).to.deep.equal(secret);
      let error: unknown;
      await readKeystoreFile(join(directory, "missing.json"), passphrase).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(InvalidInputError);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

async function expectKeystoreError(promise: Promise<unknown>, message: RegExp): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(error).to.be.instanceOf(KeystoreError);
  expect((error as Error).message).to.match(message);
}

function flipBase64(text: string): string {
  const bytes = Buffer.from(text, "base64");
  bytes[0] ^= 1;
  return bytes.toString("base64");
}
