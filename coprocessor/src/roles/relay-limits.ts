// The app server's relays pay gas for requests they cannot tell apart from an attacker's (an anonymous claim for a
// wrong address costs as much as a right one, by design; fresh keys cost nothing), so each relay keeps a budget of
// requests per key (an address, or a client's network address) and in total per sliding window, and refuses
// a request over budget before it costs anything.
import type { ServerResponse } from "node:http";
import { ClaimRelayError } from "./relay-client";

/** Why a relay refused a well-formed request: over budget (429, `retryAfterMs`) or not one it pays for (403). */
export class RelayRefusedError extends ClaimRelayError {
  override name = "RelayRefusedError";
  constructor(
    message: string,
    readonly status: 403 | 429,
    readonly retryAfterMs: number | undefined,
    options: { details?: string } = {},
  ) {
    super(message, options);
  }
}

export interface RelayLimits {
  /** Requests one key may make per window (default 6). */
  readonly perKey?: number;
  /** Requests admitted per window, all keys together (default 60). */
  readonly total?: number;
  /** The sliding window in milliseconds (default 10 minutes). */
  readonly windowMs?: number;
  readonly now?: () => number;
}

/** A sliding-window budget of requests per key and in total. */
export class RelayLimiter {
  private readonly perKey: number;
  private readonly total: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly byKey = new Map<string, number[]>();
  private all: number[] = [];

  constructor(limits: RelayLimits = {}) {
    this.perKey = limits.perKey ?? 6;
    this.total = limits.total ?? 60;
    this.windowMs = limits.windowMs ?? 10 * 60_000;
    this.now = limits.now ?? Date.now;
  }

  /** Counts a request of `key` (named `who` in the refusal), or throws a 429 `RelayRefusedError` over budget. */
  admit(key: string, who = key): void {
    const now = this.now();
    const recent = (times: number[]) => times.filter((t) => t > now - this.windowMs);
    this.all = recent(this.all);
    const mine = recent(this.byKey.get(key) ?? []);
    const refuse = (message: string, times: number[], limit: number): never => {
      throw new RelayRefusedError(message, 429, times[0] + this.windowMs - now, {
        details: `${times.length} requests in the last ${this.windowMs} ms, limit ${limit}`,
      });
    };
    if (mine.length >= this.perKey) refuse(`Too many relayed requests ${who}; try again later.`, mine, this.perKey);
    if (this.all.length >= this.total) refuse("The relay is busy; try again later.", this.all, this.total);
    mine.push(now);
    this.all.push(now);
    this.byKey.set(key, mine);
    for (const [other, times] of this.byKey) if (recent(times).length === 0) this.byKey.delete(other);
  }
}

/** Answers a refused request: its status, `Retry-After` (seconds) when over budget, and the reason. */
export function sendRefusal(res: ServerResponse, error: RelayRefusedError): void {
  res.statusCode = error.status;
  if (error.retryAfterMs !== undefined) res.setHeader("Retry-After", String(Math.ceil(error.retryAfterMs / 1000)));
  res.setHeader("Content-Type", "application/json");
  res.setHeader("Cache-Control", "no-store");
  res.end(JSON.stringify({ error: error.message }));
}
