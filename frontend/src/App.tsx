import { lazy, Suspense, useEffect, useState } from "react";
import { useConnection } from "wagmi";
import { NetworkBanner } from "./components/NetworkBanner";
import { shortAddress } from "./format";
import { ConnectPage } from "./pages/ConnectPage";
import { PAGES, pageFromHash, type PageId } from "./routes";

// Pages past Connect load on first visit: the dashboard's charts alone are a third of the bundle.
const ContributePage = lazy(() => import("./pages/ContributePage").then((m) => ({ default: m.ContributePage })));
const RoyaltiesPage = lazy(() => import("./pages/RoyaltiesPage").then((m) => ({ default: m.RoyaltiesPage })));
const DashboardPage = lazy(() => import("./pages/DashboardPage").then((m) => ({ default: m.DashboardPage })));
const ProvidePage = lazy(() => import("./pages/ProvidePage").then((m) => ({ default: m.ProvidePage })));
const BuyerPage = lazy(() => import("./pages/BuyerPage").then((m) => ({ default: m.BuyerPage })));
const AuditPage = lazy(() => import("./pages/AuditPage").then((m) => ({ default: m.AuditPage })));

function useHashPage(): PageId {
  const [page, setPage] = useState(() => pageFromHash(window.location.hash));
  useEffect(() => {
    const onHashChange = () => setPage(pageFromHash(window.location.hash));
    window.addEventListener("hashchange", onHashChange);
    return () => window.removeEventListener("hashchange", onHashChange);
  }, []);
  return page;
}

export function App() {
  const page = useHashPage();
  const connection = useConnection();
  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href="#/connect">
          <span className="logo" aria-hidden>
            ◈
          </span>{" "}
          CipherShare
        </a>
        <nav aria-label="Pages">
          {PAGES.map(({ id, label }) => (
            <a
              key={id}
              href={`#/${id}`}
              className={id === page ? "active" : undefined}
              aria-current={id === page ? "page" : undefined}
            >
              {label}
            </a>
          ))}
        </nav>
        <div className="who" data-testid="header-account">
          {connection.address ? (
            <>
              <span className="dot ok" /> {shortAddress(connection.address)}
            </>
          ) : (
            <>
              <span className="dot" /> not connected
            </>
          )}
        </div>
      </header>
      <NetworkBanner />
      <main>
        <Suspense fallback={<p className="muted">Loading…</p>}>
          {page === "connect" && <ConnectPage />}
          {page === "contribute" && <ContributePage />}
          {page === "provide" && <ProvidePage />}
          {page === "buyer" && <BuyerPage />}
          {page === "royalties" && <RoyaltiesPage />}
          {page === "dashboard" && <DashboardPage />}
          {page === "audit" && <AuditPage />}
        </Suspense>
      </main>
      <footer>Raw model updates never leave this page unencrypted. Amounts stay encrypted on-chain.</footer>
    </div>
  );
}
