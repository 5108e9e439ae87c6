import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { WagmiProvider } from "wagmi";
import { App } from "./App";
import { loadRuntimeConfig } from "./config/runtime";
import { AppContextProvider } from "./context";
import { createAppWallets } from "./wagmi";
import "./styles.css";

const root = createRoot(document.getElementById("root")!);

loadRuntimeConfig()
  .then((runtime) => {
    const wallets = createAppWallets(runtime);
    const queryClient = new QueryClient();
    root.render(
      <StrictMode>
        <WagmiProvider config={wallets.config}>
          <QueryClientProvider client={queryClient}>
            <AppContextProvider value={{ runtime, devWallet: wallets.devWallet }}>
              <App />
            </AppContextProvider>
          </QueryClientProvider>
        </WagmiProvider>
      </StrictMode>,
    );
  })
  .catch((error: unknown) => {
    root.render(
      <div className="fatal" role="alert">
        <h1>CipherShare cannot start</h1>
        <p>{error instanceof Error ? error.message : String(error)}</p>
      </div>,
    );
  });
