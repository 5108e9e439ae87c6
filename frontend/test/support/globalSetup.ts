import type { TestProject } from "vitest/node";
import { startLocalNode } from "@ciphershare/coprocessor/chain/localNode";

declare module "vitest" {
  export interface ProvidedContext {
    rpcUrl: string;
  }
}

/** One local chain for the whole run (the same fhEVM node every role process uses); tests read its URL with inject("rpcUrl"). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const chain = await startLocalNode();
  project.provide("rpcUrl", chain.rpcUrl);
  return () => chain.stop();
}
