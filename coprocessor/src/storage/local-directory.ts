import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { type Hex } from "@ciphershare/protocol/hex";
import { assertBlobSize, BlobNotFoundError, normalizeBlobHash, verifyBlob, type BlobStore } from "./blob-store";

/** 1 GiB: a 100k-parameter update is ~10 MB at N=8192, a large model's aggregate a few hundred MB. */
export const DEFAULT_MAX_BLOB_BYTES = 2 ** 30;

/**
 * The embedded default store: blobs as files `<root>/<first two hex digits>/<hash>`, written to a
 * temporary file and renamed so a reader never sees half a blob. Reads are verified.
 */
export class LocalDirectoryBlobStore implements BlobStore {
  constructor(
    readonly root: string,
    readonly maxBlobBytes: number = DEFAULT_MAX_BLOB_BYTES,
  ) {}

  async put(bytes: Uint8Array): Promise<Hex> {
    assertBlobSize(bytes.length, this.maxBlobBytes);
    const hash = await keccak256(bytes);
    const path = this.pathOf(hash);
    if (await exists(path)) return hash;
    await mkdir(join(this.root, hash.slice(2, 4)), { recursive: true });
    const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, path);
    return hash;
  }

  async get(hash: Hex): Promise<Uint8Array> {
    const name = normalizeBlobHash(hash);
    let bytes: Uint8Array;
    try {
      assertBlobSize((await stat(this.pathOf(name))).size, this.maxBlobBytes);
      bytes = new Uint8Array(await readFile(this.pathOf(name)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        throw new BlobNotFoundError("No blob with this hash in the store.", { details: `${name} in ${this.root}` });
      }
      throw error;
    }
    return verifyBlob(name, bytes, this.root);
  }

  async has(hash: Hex): Promise<boolean> {
    return exists(this.pathOf(normalizeBlobHash(hash)));
  }

  private pathOf(hash: Hex): string {
    return join(this.root, hash.slice(2, 4), hash.slice(2));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
