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
} from "@ciphershare/coprocessor/keys/keystore";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { rejectionOf } from "../../support/rejection";

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
    await rejectionOf(openKeystore(keystore, "wrong passphrase!"), KeystoreError, /Wrong passphrase/);
    const file = JSON.parse(keystore);
    const altered = [
      { ...file, metadata: { ...file.metadata, publicBundleHash: `0x${"cd".repeat(32)}` } },
      { ...file, metadata: { ...file.metadata, parameterSetId: "deep-v1" } },
      { ...file, ciphertext: flipBase64(file.ciphertext) },
      { ...file, cipher: { ...file.cipher, tag: flipBase64(file.cipher.tag) } },
      { ...file, kdf: { ...file.kdf, r: 4 } },
    ];
    for (const variant of altered) {
      await rejectionOf(openKeystore(JSON.stringify(variant), passphrase), KeystoreError, /Wrong passphrase|altered/);
    }
    await rejectionOf(openKeystore("{}", passphrase), KeystoreError, /not a CipherShare CKKS keystore/);
    await rejectionOf(openKeystore("nope", passphrase), KeystoreError, /not valid JSON/);
    await rejectionOf(
      openKeystore(JSON.stringify({ ...file, kdf: { ...file.kdf, N: 2 ** 30 } }), passphrase),
      KeystoreError,
      /out of bounds/,
    );
  });

  it("refuses short passphrases", async () => {
    await rejectionOf(sealKeystore(secret, "short", metadata, TEST_SCRYPT), InvalidInputError, /at least 8/);
  });

  it("writes the file with owner-only permissions and reads it back", async () => {
    const directory = mkdtempSync(join(tmpdir(), "ciphershare-keystore-"));
    try {
      const path = join(directory, "custodian.json");
      await writeKeystoreFile(path, await sealKeystore(secret, passphrase, metadata, TEST_SCRYPT));
      expect(statSync(path).mode & 0o777).to.equal(0o600);
      expect((await readKeystoreFile(path, passphrase)).secretKey).to.deep.equal(secret);
      await rejectionOf(readKeystoreFile(join(directory, "missing.json"), passphrase), InvalidInputError);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

function flipBase64(text: string): string {
  const bytes = Buffer.from(text, "base64");
  bytes[0] ^= 1;
  return bytes.toString("base64");
}
