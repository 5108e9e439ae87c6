import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InvalidInputError } from "@ciphershare/protocol/errors";
import { keccak256 } from "@ciphershare/protocol/hashing/keccak";
import { type Hex } from "@ciphershare/protocol/hex";
import {
  assertBlobSize,
  BlobNotFoundError,
  normalizeBlobHash,
  verifyBlob,
  type BlobPutOptions,
  type BlobStore,
} from "./blob-store";

/** 1 GiB: a 100k-parameter update is ~10 MB at N=8192, a large model's aggregate a few hundred MB. */
export const DEFAULT_MAX_BLOB_BYTES = 2 ** 30;

/**
 * The embedded default store: blobs as files `<root>/<first two hex digits>/<hash>`, written to a
 * temporary file and renamed so a reader never sees half a blob. Reads are verified. A new blob stored for a round
 * (`BlobPutOptions.round`) gets a marker `<root>/restricted/<hash>` holding the round, written before the blob, which
 * the guarded HTTP front end reads (`restrictedRound`).
 */
export class LocalDirectoryBlobStore implements BlobStore {
  constructor(
    readonly root: string,
    readonly maxBlobBytes: number = DEFAULT_MAX_BLOB_BYTES,
  ) {}

  async put(bytes: Uint8Array, options: BlobPutOptions = {}): Promise<Hex> {
    assertBlobSize(bytes.length, this.maxBlobBytes);
    const hash = await keccak256(bytes);
    const path = this.pathOf(hash);
    if (await exists(path)) return hash;
    if (options.round !== undefined) {
      if (options.round < 1n) throw new InvalidInputError("A blob can be restricted to a round ≥ 1 only.");
      await atomicWrite(
        join(this.root, "restricted"),
        this.markerOf(hash),
        new TextEncoder().encode(`${options.round}`),
      );
    }
    await atomicWrite(join(this.root, hash.slice(2, 4)), path, bytes);
    return hash;
  }

  /** The round a blob was restricted to when it was stored, if any. */
  async restrictedRound(hash: Hex): Promise<bigint | undefined> {
    try {
      const text = await readFile(this.markerOf(normalizeBlobHash(hash)), "utf8");
      return /^[0-9]{1,40}$/.test(text) ? BigInt(text) : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
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

  private markerOf(hash: Hex): string {
    return join(this.root, "restricted", hash.slice(2));
  }

  private pathOf(hash: Hex): string {
    return join(this.root, hash.slice(2, 4), hash.slice(2));
  }
}

/** Writes `bytes` to `path` (in `dir`) through a temporary file and a rename: no reader sees half of it. */
async function atomicWrite(dir: string, path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dir, { recursive: true });
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temporary, bytes);
  await rename(temporary, path);
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
