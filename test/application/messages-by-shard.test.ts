// How the webhook splits a POST's changes into queue messages (messagesByShard): by principal shard, so a message's
// principals share partitions; no message over the limit; every change kept, a principal's changes together and in
// order; inside a message, principals in their order of arrival.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CHANGES_PER_MESSAGE, type Change, messagesByShard } from '../../src/application/messages.js';
import { shardOf } from '../../src/storage/keys.js';

const subject = (change: Change) =>
  change.type === 'member' ? change.memberId : change.type === 'user' ? change.userId : '';

describe('messagesByShard', () => {
  it('splits by shard range, keeping every change and each principal’s changes together and in order', () => {
    const principals = Array.from({ length: 600 }, () => randomUUID());
    const groups = Array.from({ length: 10 }, () => randomUUID());
    const changes: Change[] = [];
    for (let i = 0; i < 700; i++) {
      const memberId = principals[(i * 7) % principals.length] ?? '';
      const groupId = groups[i % groups.length] ?? '';
      changes.push({ type: 'member', op: i % 3 === 0 ? 'remove' : 'add', groupId, memberId, sequence: i });
    }
    changes.push({ type: 'user', op: 'softDelete', userId: principals[0] ?? '', sequence: 1000 });

    const messages = messagesByShard(changes);

    expect(messages.length).toBe(Math.ceil(changes.length / CHANGES_PER_MESSAGE));
    for (const message of messages) expect(message.length).toBeLessThanOrEqual(CHANGES_PER_MESSAGE);
    expect(messages.flat().length).toBe(changes.length);
    // Shard ranges follow one another: a shard is split between two messages at most at their boundary.
    for (let i = 1; i < messages.length; i++) {
      const before = Math.max(...(messages[i - 1] ?? []).map((c) => shardOf(subject(c))));
      const after = Math.min(...(messages[i] ?? []).map((c) => shardOf(subject(c))));
      expect(before).toBeLessThanOrEqual(after);
    }
    const messageOf = new Map<string, number>();
    messages.forEach((message, i) => {
      for (const change of message) {
        const id = subject(change);
        expect(messageOf.get(id) ?? i, `${id} is split between messages`).toBe(i);
        messageOf.set(id, i);
      }
      // Inside a message, each principal's changes in their order, principals in their order of arrival.
      const firstSeen = (id: string) => changes.findIndex((c) => subject(c) === id);
      const order = [...new Set(message.map(subject))];
      expect(order).toEqual([...order].sort((a, b) => firstSeen(a) - firstSeen(b)));
      for (const id of order) {
        expect(message.filter((c) => subject(c) === id)).toEqual(changes.filter((c) => subject(c) === id));
      }
    });
  });

  it('keeps a small POST in one message, in arrival order', () => {
    const changes: Change[] = Array.from({ length: 5 }, (_, i) => ({
      type: 'member',
      op: 'add',
      groupId: randomUUID(),
      memberId: randomUUID(),
      sequence: i,
    }));
    expect(messagesByShard(changes)).toEqual([changes]);
  });
});
