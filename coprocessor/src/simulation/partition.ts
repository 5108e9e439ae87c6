import { CipherShareError, InvalidInputError } from "@ciphershare/protocol/errors";
import { labelCounts } from "@ciphershare/protocol/records/dataset";
import type { SeededRandom } from "../random/seeded-random";

/** Row indices of each client's local data; disjoint, each client's list in increasing order. */
export type Partition = number[][];

export interface DirichletPartitionOptions {
  clients: number;
  /** Concentration: small (0.1–0.5) gives clients dominated by a few labels, large (100) is near IID. */
  alpha: number;
  /** Redraw until every client holds at least this many rows (default 10). */
  minPerClient?: number;
}

/**
 * Label-skewed non-IID split (Hsu et al. 2019, the usual FL benchmark): for every class, the class's
 * rows are shuffled and cut among the clients by proportions drawn from Dirichlet(alpha). Every row goes
 * to exactly one client. Deterministic given the random generator's seed.
 */
export function dirichletPartition(
  labels: ArrayLike<number>,
  classes: number,
  options: DirichletPartitionOptions,
  random: SeededRandom,
): Partition {
  const { clients, alpha } = options;
  const minPerClient = options.minPerClient ?? 10;
  assertClients(clients, labels.length);
  if (!(alpha > 0)) throw new InvalidInputError("Dirichlet alpha must be positive.", { details: `alpha: ${alpha}` });
  if (minPerClient * clients > labels.length) {
    throw new InvalidInputError("Not enough rows for the minimum per client.", {
      details: `${clients} clients × ${minPerClient} > ${labels.length} rows`,
    });
  }
  const rowsByClass = groupByClass(labels, classes);
  for (let attempt = 0; attempt < 1000; attempt++) {
    const partition: Partition = Array.from({ length: clients }, () => []);
    for (const rows of rowsByClass) {
      const shuffled = random.shuffle([...rows]);
      const shares = random.nextDirichlet(clients, alpha);
      let start = 0;
      let cumulative = 0;
      shares.forEach((share, client) => {
        cumulative += share;
        const end = client === clients - 1 ? shuffled.length : Math.round(cumulative * shuffled.length);
        for (let i = start; i < end; i++) partition[client].push(shuffled[i]);
        start = end;
      });
    }
    if (partition.every((rows) => rows.length >= minPerClient)) return partition.map((rows) => rows.sort(byNumber));
  }
  throw new CipherShareError("Could not draw a Dirichlet partition with enough rows per client.", {
    details: `clients ${clients}, alpha ${alpha}, minPerClient ${minPerClient}: raise alpha or lower the minimum`,
  });
}

/**
 * Pathological non-IID split (McMahan et al. 2017): rows sorted by label are cut into
 * `clients × shardsPerClient` equal shards, and each client gets `shardsPerClient` random shards, so
 * it sees about that many digits.
 */
export function shardPartition(
  labels: ArrayLike<number>,
  classes: number,
  options: { clients: number; shardsPerClient: number },
  random: SeededRandom,
): Partition {
  const { clients, shardsPerClient } = options;
  assertClients(clients, labels.length);
  const shardCount = clients * shardsPerClient;
  if (!Number.isInteger(shardsPerClient) || shardsPerClient < 1 || shardCount > labels.length) {
    throw new InvalidInputError("Shards per client must be a positive integer with at least one row per shard.", {
      details: `shardsPerClient ${shardsPerClient}, clients ${clients}, rows ${labels.length}`,
    });
  }
  const sorted = groupByClass(labels, classes).flat();
  const shardOrder = random.shuffle(Array.from({ length: shardCount }, (_, i) => i));
  return Array.from({ length: clients }, (_, client) => {
    const rows: number[] = [];
    for (const shard of shardOrder.slice(client * shardsPerClient, (client + 1) * shardsPerClient)) {
      const start = Math.floor((shard * sorted.length) / shardCount);
      const end = Math.floor(((shard + 1) * sorted.length) / shardCount);
      rows.push(...sorted.slice(start, end));
    }
    return rows.sort(byNumber);
  });
}

/**
 * How far the clients' label distributions are from the global one: the mean over clients of the total
 * variation distance (0 = every client IID-like, near 1 = disjoint labels).
 */
export function labelSkew(labels: ArrayLike<number>, classes: number, partition: Partition): number {
  const global = normalize(labelCounts(labels, classes));
  const distances = partition.map((rows) => {
    const local = normalize(
      labelCounts(
        rows.map((row) => labels[row]),
        classes,
      ),
    );
    return 0.5 * local.reduce((sum, p, label) => sum + Math.abs(p - global[label]), 0);
  });
  return distances.reduce((sum, d) => sum + d, 0) / distances.length;
}

function groupByClass(labels: ArrayLike<number>, classes: number): number[][] {
  const rowsByClass: number[][] = Array.from({ length: classes }, () => []);
  for (let row = 0; row < labels.length; row++) rowsByClass[labels[row]].push(row);
  return rowsByClass;
}

function assertClients(clients: number, rows: number): void {
  if (!Number.isInteger(clients) || clients < 1 || clients > rows) {
    throw new InvalidInputError("The number of clients must be a positive integer no larger than the rows.", {
      details: `clients ${clients}, rows ${rows}`,
    });
  }
}

function normalize(counts: number[]): number[] {
  const total = counts.reduce((sum, x) => sum + x, 0);
  return counts.map((x) => (total === 0 ? 0 : x / total));
}

const byNumber = (a: number, b: number) => a - b;
