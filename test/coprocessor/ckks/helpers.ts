import { CkksContext } from "../../../coprocessor/src/ckks/index";

let shared: Promise<CkksContext> | undefined;
/** One fast-v1 context for the whole test run (creating one costs ~0.4 s). */
export function fastContext(): Promise<CkksContext> {
  shared ??= CkksContext.create("fast-v1");
  return shared;
}
