import { createContext, useContext } from "react";
import type { RuntimeConfig } from "./config/runtime";
import type { DevWalletProvider } from "./wallet/devProvider";

export interface AppContextValue {
  readonly runtime: RuntimeConfig;
  readonly devWallet: DevWalletProvider | null;
}

const AppContext = createContext<AppContextValue | null>(null);

export const AppContextProvider = AppContext.Provider;

export function useAppContext(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error("useAppContext outside AppContextProvider");
  return value;
}
