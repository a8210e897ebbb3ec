// What happens to a proxy address row (README "Addresses"), as pure functions of the row read: who lists it, who
// holds it, which claims are in flight. The Table adapter (proxies.ts) and the in-memory double apply the same
// transitions, so they differ only in how they store a row and detect a write that raced theirs.
import type { AddressRow, ClaimTicket, MailboxCheck } from '../application/records.js';

/** A row's content without the ETag it was read with: what a transition yields and a write stores. */
export type AddressState = Omit<AddressRow, 'etag'>;

/** The row of an address nobody lists yet. */
export const NO_ADDRESS_ROW: AddressRow = { users: [], holder: null, claims: [], etag: undefined };

/**
 * The addresses a registration touches (lowercased), each with whether the user lists it afterwards: those it
 * listed before and those it lists now.
 */
export function registration(
  previous: readonly string[],
  addresses: readonly string[],
): Map<string, boolean> {
  const after = new Set(addresses.map((a) => a.toLowerCase()));
  const touched = new Map<string, boolean>();
  for (const address of [...previous.map((a) => a.toLowerCase()), ...after])
    touched.set(address, after.has(address));
  return touched;
}

/** The row once `userId` lists the address (`lists`), or no longer does. */
export function listedBy(row: AddressState, userId: string, lists: boolean): AddressState {
  const others = row.users.filter((u) => u !== userId);
  return {
    users: lists ? [...others, userId] : others,
    // The user's row no longer lists the address (it is written first), so no mailbox of its holds it.
    holder: !lists && row.holder === userId ? null : row.holder,
    claims: row.claims,
  };
}

/** The row with `users` added to those listing it (an import's merge); holder and claims untouched. */
export function withListers(row: AddressState, users: Iterable<string>): AddressState {
  return { users: [...new Set([...row.users, ...users])], holder: row.holder, claims: row.claims };
}

/** Who shares the address: every user listing it once it is listed by more than one. */
export function sharers(row: AddressState): readonly string[] {
  return row.users.length > 1 ? row.users : [];
}

/** Claims whose work may still be running: a claim past its lease belongs to work that died. */
function live(claims: readonly ClaimTicket[], now: Date): ClaimTicket[] {
  return claims.filter((c) => Date.parse(c.until) > now.getTime());
}

/**
 * The row with `userId` holding the address and `ticket` in flight (replacing a ticket of the same id, dropping
 * dead ones); null when another user holds it, by its mailbox or a claim of its own.
 */
export function claimed(
  row: AddressState,
  userId: string,
  ticket: ClaimTicket,
  now: Date,
): AddressState | null {
  if (row.holder !== null && row.holder !== userId) return null;
  const claims = live(row.claims, now).filter((c) => c.id !== ticket.id);
  return { users: row.users, holder: userId, claims: [...claims, ticket] };
}

/**
 * What settling a row comes to once `ticketId` (if any) and dead claims are gone: the row `kept` with its holder,
 * or — when the address is held and no claim is in flight — a release that stands only if the holder's row, read
 * after this row, has no mailbox on it (`ask` names the holder whose row to read). `released` are the other users
 * listing the address, who may get a mailbox once it is let go.
 */
export type Settlement =
  | { readonly ask: null; readonly kept: AddressState }
  | {
      readonly ask: string;
      readonly kept: AddressState;
      readonly freed: AddressState;
      readonly released: readonly string[];
    };

export function settlement(row: AddressState, ticketId: string | null, now: Date): Settlement {
  const claims = live(row.claims, now).filter((c) => c.id !== ticketId);
  const kept = { users: row.users, holder: row.holder, claims };
  const holder = row.holder;
  if (holder === null || claims.length > 0) return { ask: null, kept };
  return {
    ask: holder,
    kept,
    freed: { users: row.users, holder: null, claims },
    released: row.users.filter((u) => u !== holder),
  };
}

/** Whether two rows say the same, so a transition that changed nothing is not written. */
export function sameState(a: AddressState, b: AddressState): boolean {
  return (
    a.holder === b.holder &&
    a.users.length === b.users.length &&
    a.users.every((u, i) => u === b.users[i]) &&
    a.claims.length === b.claims.length &&
    a.claims.every((c, i) => c.id === b.claims[i]?.id && c.until === b.claims[i]?.until)
  );
}

/**
 * The operations of a proxy address store that are the same whatever holds the rows: each is one read-modify-write
 * of an address row (`update`: read, apply the transition, write under the version read, again on a race).
 */
export abstract class AddressRows {
  protected abstract update(
    tenantId: string,
    address: string,
    change: (row: AddressRow) => AddressState | Promise<AddressState>,
  ): Promise<AddressState>;

  /**
   * Records that `userId` now lists `addresses` (and no longer `previous`). Returns, for every address touched, the
   * users listing it afterwards — callers flag users that share an address.
   */
  async register(
    tenantId: string,
    userId: string,
    previous: readonly string[],
    addresses: readonly string[],
  ): Promise<Map<string, readonly string[]>> {
    const result = new Map<string, readonly string[]>();
    for (const [address, lists] of registration(previous, addresses)) {
      const next = await this.update(tenantId, address, (row) => listedBy(row, userId, lists));
      result.set(address, next.users);
    }
    return result;
  }

  /**
   * Takes the mailbox claim on an address for `userId` before a row giving it a mailbox is written, with a ticket
   * that `settle` removes once that work is over. False when another user holds the address (its mailbox, or a
   * claim of its own in flight).
   */
  async claim(
    tenantId: string,
    address: string,
    userId: string,
    ticket: ClaimTicket,
    now: Date,
  ): Promise<boolean> {
    let taken = true;
    await this.update(tenantId, address, (row) => {
      const next = claimed(row, userId, ticket, now);
      taken = next !== null;
      return next ?? row;
    });
    return taken;
  }

  /**
   * Ends a claim in flight (`ticketId`, if any) and lets the address go if it is held for nothing: no other claim
   * is in flight and `holdsMailbox`, read after the address row, says its holder's row has no mailbox on it. The
   * release is written under the version of the row read, so a claim taken in between (which adds a ticket) fails
   * it and the decision is taken again. Returns the holder afterwards and, when the address was let go, the other
   * users listing it (they may now get a mailbox).
   */
  async settle(
    tenantId: string,
    address: string,
    ticketId: string | null,
    now: Date,
    holdsMailbox: MailboxCheck,
  ): Promise<{ holder: string | null; released: readonly string[] }> {
    let released: readonly string[] = [];
    const normalized = address.toLowerCase();
    const after = await this.update(tenantId, address, async (row) => {
      released = [];
      const settled = settlement(row, ticketId, now);
      if (settled.ask === null || (await holdsMailbox(settled.ask, normalized))) return settled.kept;
      released = settled.released;
      return settled.freed;
    });
    return { holder: after.holder, released };
  }
}
