export const PAGES = [
  { id: "connect", label: "Connect" },
  { id: "contribute", label: "Contribute" },
  { id: "provide", label: "Provide data" },
  { id: "buyer", label: "Buy a model" },
  { id: "royalties", label: "My royalties" },
  { id: "dashboard", label: "Network dashboard" },
  { id: "audit", label: "Audit" },
] as const;

export type PageId = (typeof PAGES)[number]["id"];

/** `#/dashboard` → "dashboard"; anything unknown lands on Connect. */
export function pageFromHash(hash: string): PageId {
  const id = hash.replace(/^#\/?/, "").split(/[/?]/)[0];
  return PAGES.find((page) => page.id === id)?.id ?? "connect";
}
