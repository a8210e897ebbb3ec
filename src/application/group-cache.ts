import type { DirectoryStore } from './ports.js';
import type { GroupRecord } from './records.js';

/** A group and, transitively, every group it is nested in (cycle-safe), read on demand and cached. */
export class GroupCache {
  private readonly cache = new Map<string, Promise<GroupRecord | undefined>>();

  constructor(
    private readonly directory: Pick<DirectoryStore, 'group'>,
    private readonly tenantId: string,
  ) {}

  get(id: string): Promise<GroupRecord | undefined> {
    let pending = this.cache.get(id);
    if (!pending) {
      pending = this.directory.group(this.tenantId, id);
      this.cache.set(id, pending);
    }
    return pending;
  }

  /** Loads the groups and all their ancestors; afterwards `known` answers synchronously. */
  async loadWithAncestors(ids: Iterable<string>): Promise<void> {
    const pending = [...ids];
    const seen = new Set<string>();
    while (pending.length > 0) {
      const batch = pending.splice(0).filter((id) => !seen.has(id));
      for (const id of batch) seen.add(id);
      const groups = await Promise.all(batch.map((id) => this.get(id)));
      for (const group of groups) for (const parent of group?.memberOf ?? []) pending.push(parent.groupId);
    }
    for (const id of seen) {
      const group = await this.get(id);
      if (group) this.loaded.set(id, group);
    }
  }

  private loaded = new Map<string, GroupRecord>();

  known(id: string): GroupRecord | undefined {
    return this.loaded.get(id);
  }
}
