import { formatEther, type Address } from "viem";

/** Shortens a wei amount for display next to an account. */
export function formatEth(wei: bigint): string {
  const eth = Number(formatEther(wei));
  return `${eth.toLocaleString("en-US", { maximumFractionDigits: 4 })} ETH`;
}

/** 0x1234…abcd, for places where the full address does not fit. */
export function shortAddress(address: Address): string {
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

/** 1.5 MiB, 320 KiB, 12 B. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Royalty token units (6 decimals, like the test USD it wraps) as a decimal string. */
export function formatTokenUnits(units: bigint, decimals = 6): string {
  const scale = 10n ** BigInt(decimals);
  const fraction = (units % scale).toString().padStart(decimals, "0").replace(/0+$/, "");
  return fraction === "" ? (units / scale).toString() : `${units / scale}.${fraction}`;
}
