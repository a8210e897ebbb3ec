// What happens to a proxy address row (README "Addresses"), as pure functions of the row read: who lists it, who
// holds it, which claims are in flight. The Table adapter (proxies.ts) and the in-memory double apply the same
// transitions, so they differ only in how they store a row and detect a write that raced theirs.
import type { AddressRow, ClaimTicket } from '../application/records.js';

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
