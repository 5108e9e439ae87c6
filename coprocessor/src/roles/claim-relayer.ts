// The network's claim relayer (issue 11): anonymous claims are queued and submitted in batches at fixed times (every
// `intervalMs`, aligned to the clock, in a shuffled order), from the relayer's account, so neither the sender nor the
// time of a claim points to the contributor's own activity. `POST /api/relay-claim {to, rounds}` queues a claim and
// answers when it will be sent; `GET /api/relay-claim?to=0x…` tells its status.
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomInt } from "node:crypto";
import {
  CLAIM_RELAY_PATH,
  ClaimRelayError,
  parseClaimRequest,
  type ClaimRequest,
  type ClaimStatus,
} from "./relay-client";
import { RelayLimiter, RelayRefusedError, sendRefusal } from "./relay-limits";

export {
  CLAIM_RELAY_PATH,
  ClaimRelayError,
  parseClaimRequest,
  relayedClaimStatus,
  requestRelayedClaim,
  type ClaimRequest,
  type ClaimStatus,
} from "./relay-client";

export interface ClaimRelayerOptions {
  /** Sends one claim (all its chunks); throws when the chain refuses it. */
  readonly submit: (request: ClaimRequest) => Promise<void>;
  /** Batches leave at every multiple of this many milliseconds since the epoch (default 60 s). */
  readonly intervalMs?: number;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
  /**
   * Budget of claim requests per client network address and in total (default 20 per client, 200 in all, per 10
   * minutes): a claim for a wrong address costs the relayer as much gas as a right one, so the relay cannot filter
   * junk claims by their content, only by their rate.
   */
  readonly limiter?: RelayLimiter;
  /** Most claims waiting for one batch (default 500); more are refused until the batch has left. */
  readonly maxQueued?: number;
}

export class ClaimRelayer {
  readonly intervalMs: number;
  readonly #submit: ClaimRelayerOptions["submit"];
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  readonly #limiter: RelayLimiter;
  readonly #maxQueued: number;
  readonly #queue = new Map<string, ClaimRequest>();
  readonly #status = new Map<string, { status: ClaimStatus; error?: string }>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(options: ClaimRelayerOptions) {
    this.intervalMs = options.intervalMs ?? 60_000;
    if (!(this.intervalMs > 0)) throw new ClaimRelayError("The batch interval must be positive.", { details: "" });
    this.#submit = options.submit;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => {});
    this.#limiter = options.limiter ?? new RelayLimiter({ perKey: 20, total: 200, now: this.#now });
    this.#maxQueued = options.maxQueued ?? 500;
  }

  /** The next fixed batch time after `now` (a multiple of the interval). */
  nextBatchAt(now = this.#now()): number {
    return (Math.floor(now / this.intervalMs) + 1) * this.intervalMs;
  }

  /** Queues a claim for the next batch; a second request for a queued or claimed address changes nothing. */
  enqueue(request: ClaimRequest): { status: ClaimStatus; scheduledAt: number } {
    const key = request.to.toLowerCase();
    const known = this.#status.get(key);
    if (known?.status !== "failed" && known !== undefined)
      return { status: known.status, scheduledAt: this.nextBatchAt() };
    if (this.#queue.size >= this.#maxQueued) {
      throw new RelayRefusedError(
        "The relay's next batch is full; try again later.",
        429,
        this.nextBatchAt() - this.#now(),
        {
          details: `${this.#queue.size} claims queued`,
        },
      );
    }
    this.#queue.set(key, request);
    this.#status.set(key, { status: "queued" });
    return { status: "queued", scheduledAt: this.nextBatchAt() };
  }

  status(to: string): { status: ClaimStatus | "unknown"; error?: string } {
    return this.#status.get(to.toLowerCase()) ?? { status: "unknown" };
  }

  /** Sends every queued claim, one after the other, in a random order. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      const batch = [...this.#queue.values()];
      this.#queue.clear();
      for (let i = batch.length - 1; i > 0; i--) {
        const j = randomInt(i + 1);
        [batch[i], batch[j]] = [batch[j], batch[i]];
      }
      if (batch.length > 0) this.#log(`relaying a batch of ${batch.length} anonymous claims`);
      for (const request of batch) {
        const key = request.to.toLowerCase();
        try {
          await this.#submit(request);
          this.#status.set(key, { status: "claimed" });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          this.#status.set(key, { status: "failed", error: message });
          this.#log(`claim for ${request.to} failed: ${message}`);
        }
      }
    });
    return this.#flushing;
  }

  /** Flushes at every fixed batch time until {stop}. */
  start(): void {
    const schedule = () => {
      this.#timer = setTimeout(() => {
        void this.flush().finally(schedule);
      }, this.nextBatchAt() - this.#now());
      this.#timer.unref();
    };
    schedule();
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Connect-style middleware for {CLAIM_RELAY_PATH}. */
  readonly handle = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const url = new URL(req.url ?? "/", "http://relay");
    if (url.pathname !== CLAIM_RELAY_PATH) return next();
    const send = (status: number, body: unknown) => {
      res.statusCode = status;
      res.setHeader("Content-Type", "application/json");
      res.setHeader("Cache-Control", "no-store");
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET") {
      const to = url.searchParams.get("to") ?? "";
      return send(200, { to, ...this.status(to) });
    }
    if (req.method !== "POST") return send(405, { error: "POST { to, rounds } or GET ?to=0x…" });
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on("end", () => {
      try {
        if (body.length > 16_384) throw new ClaimRelayError("Request body too large.", { details: `${body.length}` });
        const request = parseClaimRequest(JSON.parse(body));
        const client = req.socket.remoteAddress ?? "unknown";
        this.#limiter.admit(client, `from ${client}`);
        const queued = this.enqueue(request);
        send(202, { to: request.to, rounds: request.rounds.map(String), ...queued });
      } catch (error) {
        if (error instanceof RelayRefusedError) return sendRefusal(res, error);
        send(400, { error: error instanceof Error ? error.message : String(error) });
      }
    });
  };
}
