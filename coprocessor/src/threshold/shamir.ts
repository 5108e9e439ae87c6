import { MalformedShareError, ThresholdError } from "./errors";
import { cryptoRandomFill, invMod, mod, uniformResidues, type RandomFill } from "./modular";

/**
 * Shamir t-of-n sharing of RNS residue vectors, independently per prime: for every residue s (prime q),
 * a random polynomial f(x) = s + a_1·x + … + a_{t−1}·x^{t−1} over Z_q with uniform a_m, and member i
 * (x = i, 1 ≤ i ≤ n) gets f(i). Sharing per prime is sharing over Z_Q (CRT), and because it is linear it
 * commutes with the NTT: sharing the NTT-form key shares the key.
 *
 * Any t shares determine s; any t − 1 are uniform and independent of s (each a_m is uniform).
 */
export interface CommitteeShape {
  /** Shares needed to decrypt, 1 ≤ t ≤ n. */
  readonly threshold: number;
  /** Members (share holders), numbered 1…n, n ≤ 255. */
  readonly members: number;
}

export const MAX_COMMITTEE_MEMBERS = 255;

export function assertCommitteeShape({ threshold, members }: CommitteeShape): void {
  if (
    !Number.isInteger(members) ||
    members < 1 ||
    members > MAX_COMMITTEE_MEMBERS ||
    !Number.isInteger(threshold) ||
    threshold < 1 ||
    threshold > members
  ) {
    throw new ThresholdError("A committee needs 1 ≤ t ≤ n ≤ 255 members.", {
      details: `t = ${threshold}, n = ${members}`,
    });
  }
}

/**
 * Shares `secret` (prime-major residues, `degree` per prime) among `members`. Returns member i's residues
 * at index i − 1. The random coefficients are zeroed before returning; the caller wipes `secret`.
 */
export function shareResidues(
  secret: BigUint64Array,
  primes: readonly bigint[],
  degree: number,
  shape: CommitteeShape,
  random: RandomFill = cryptoRandomFill,
): BigUint64Array[] {
  assertCommitteeShape(shape);
  if (secret.length !== primes.length * degree) {
    throw new ThresholdError("The secret's residue count does not match primes × N.", {
      details: `${secret.length} ≠ ${primes.length} × ${degree}`,
    });
  }
  const { threshold, members } = shape;
  const shares = Array.from({ length: members }, () => new BigUint64Array(secret.length));
  primes.forEach((q, j) => {
    const block = (array: BigUint64Array) => array.subarray(j * degree, (j + 1) * degree);
    const coefficients = Array.from({ length: threshold - 1 }, () => uniformResidues(degree, q, random));
    const s = block(secret);
    for (let member = 1; member <= members; member++) {
      const x = BigInt(member);
      const out = block(shares[member - 1]);
      // Horner: ((a_{t−1}·x + a_{t−2})·x + … + a_1)·x + s.
      for (let c = 0; c < degree; c++) {
        let value = 0n;
        for (let m = threshold - 2; m >= 0; m--) value = ((value + coefficients[m][c]) * x) % q;
        out[c] = (value + s[c]) % q;
      }
    }
    for (const array of coefficients) array.fill(0n);
  });
  return shares;
}

/** Checks a decrypting set: distinct member numbers in 1…n, at least t of them. Returns it sorted. */
export function normalizeDecryptingSet(set: readonly number[], shape: CommitteeShape): number[] {
  assertCommitteeShape(shape);
  const sorted = [...set].sort((a, b) => a - b);
  const bad = sorted.find(
    (member, i) => !Number.isInteger(member) || member < 1 || member > shape.members || member === sorted[i - 1],
  );
  if (bad !== undefined) {
    throw new MalformedShareError("A decrypting set lists distinct members numbered 1…n.", {
      details: `set [${set.join(", ")}], n = ${shape.members}`,
    });
  }
  if (sorted.length < shape.threshold) {
    throw new MalformedShareError("The decrypting set has fewer members than the threshold.", {
      details: `${sorted.length} < t = ${shape.threshold}`,
    });
  }
  return sorted;
}

/**
 * Member `member`'s Lagrange coefficient at 0 for the decrypting set, modulo each prime:
 * λ_i = Π_{j ∈ S, j ≠ i} j / (j − i). Then Σ_{i∈S} λ_i·f(i) = f(0) = s for any polynomial of degree < |S|.
 */
export function lagrangeCoefficients(member: number, set: readonly number[], primes: readonly bigint[]): bigint[] {
  if (!set.includes(member)) {
    throw new MalformedShareError("The member is not in the decrypting set.", {
      details: `member ${member}, set [${set.join(", ")}]`,
    });
  }
  return primes.map((q) => {
    let numerator = 1n;
    let denominator = 1n;
    for (const other of set) {
      if (other === member) continue;
      numerator = (numerator * BigInt(other)) % q;
      denominator = mod(denominator * BigInt(other - member), q);
    }
    return (numerator * invMod(denominator, q)) % q;
  });
}
