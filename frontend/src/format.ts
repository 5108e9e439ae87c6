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
