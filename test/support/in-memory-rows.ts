// The directory's rows as the in-memory doubles share them: principals, groups and the seat ledger's chunk markers.
// On storage these are the rows every adapter reads and writes; here one instance stands for them, so a principal
// written through PrincipalWrites is what DirectoryStore reads, DirectoryQueries lists and LicensingQueries counts.
import type { GroupRecord, PrincipalRecord } from '../../src/application/records.js';

let etags = 0;
/** A fresh ETag, unique across every double (as storage's are per row). */
export const nextEtag = (): string => `W/"memory-${++etags}"`;

export class DirectoryRows {
  /** By `tenant/id`, in the order first written. */
  readonly principals = new Map<string, PrincipalRecord>();
  /** By `tenant/id`. */
  readonly groups = new Map<string, GroupRecord>();
  /** Marker row keys (`~r|<chunk>`) by principal partition, as the principal writer leaves them. */
  readonly markers = new Map<string, Set<string>>();
  /** Of those, the fences a resumed reservation put in place of markers that were missing (never proof of a chunk). */
  readonly fences = new Set<string>();

  /** The tenant's principals, soft-deleted ones included. */
  principalsOf(tenantId: string): PrincipalRecord[] {
    return [...this.principals.values()].filter((p) => p.tenantId === tenantId);
  }

  groupsOf(tenantId: string): GroupRecord[] {
    return [...this.groups.values()].filter((g) => g.tenantId === tenantId);
  }

  /** Test set-up: rows as storage would hold them (kept as given, ETag included). */
  addPrincipals(...records: readonly PrincipalRecord[]): void {
    for (const record of records) this.principals.set(`${record.tenantId}/${record.id}`, record);
  }

  addGroups(...records: readonly GroupRecord[]): void {
    for (const record of records) this.groups.set(`${record.tenantId}/${record.id}`, record);
  }

  markersIn(partition: string): Set<string> {
    let markers = this.markers.get(partition);
    if (!markers) {
      markers = new Set();
      this.markers.set(partition, markers);
    }
    return markers;
  }
}
