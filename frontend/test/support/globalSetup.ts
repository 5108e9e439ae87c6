import type { TestProject } from "vitest/node";
import { startHardhatNode } from "./processes";

declare module "vitest" {
  export interface ProvidedContext {
    rpcUrl: string;
  }
}

/** One local chain for the whole run; tests read its URL with inject("rpcUrl"). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const chain = await startHardhatNode();
  project.provide("rpcUrl", chain.rpcUrl);
  return () => chain.stop();
}
