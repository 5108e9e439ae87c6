import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root: artifacts, test-artifacts and the frontend live below it. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
