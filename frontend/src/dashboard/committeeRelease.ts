// Which custodian committee members released a round, as the rounds table says it: read from the committee contract
// (`releaseOf`: the decrypting set's and the silent members' bitmaps; `committeeOf`: n and t). Pure: no chain here.

/** A round's release on the committee contract, as `releaseOf` returns it (the fields this view needs). */
export interface CommitteeReleaseState {
  /** Bitmap of the decrypting set (bit k: member k). */
  readonly joined: number;
  readonly joinedCount: number;
  readonly submittedCount: number;
  /** Bitmap of the members dropped as silent (joined a set, published no shares before its deadline). */
  readonly silent: number;
}

/** A program's committee, as `committeeOf` returns it; `memberCount` 0: the program has no committee. */
export interface CommitteeShape {
  readonly memberCount: number;
  readonly threshold: number;
}

/** The member numbers whose bits are set, ascending. */
export function bitmapMembers(bitmap: number): number[] {
  const members: number[] = [];
  for (let k = 1; k < 32; k++) if ((bitmap & (1 << k)) !== 0) members.push(k);
  return members;
}

/**
 * The rounds table's "Released by" cell: "released by member 1, 3 (2 of 3)" for an anchored committee release
 * (plus the members dropped as silent), the progress of a pending one, "custodian" for a single custodian's
 * release, "–" before anything happened.
 */
export function releasedByLabel(
  anchored: boolean,
  committee: CommitteeShape | undefined,
  release: CommitteeReleaseState | undefined,
): string {
  if (committee === undefined || committee.memberCount === 0 || release === undefined) {
    return anchored ? "custodian" : "–";
  }
  const silent = bitmapMembers(release.silent);
  const silentNote = silent.length === 0 ? "" : `; member ${silent.join(", ")} silent`;
  const set = bitmapMembers(release.joined);
  if (anchored) return `released by member ${set.join(", ")} (${set.length} of ${committee.memberCount})${silentNote}`;
  if (release.joinedCount === 0) return silent.length === 0 ? "–" : `releasing${silentNote}`;
  if (release.joinedCount < committee.threshold) {
    return `releasing: member ${set.join(", ")} joined (${release.joinedCount} of ${committee.threshold} needed)${silentNote}`;
  }
  return `releasing: member ${set.join(", ")}, ${release.submittedCount} of ${committee.threshold} shares in${silentNote}`;
}
