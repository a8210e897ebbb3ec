/** The licensing engine: pure rules over plain data (see README.md in this folder). */
export * from './catalog.js';
export * from './effective.js';
export * from './evaluate.js';
export * from './failures.js';
export * from './healing.js';
export * from './ids.js';
export * from './invariants.js';
export * from './lifecycle.js';
export * from './membership-rules.js';
export * from './model.js';
export * from './reference.js';
export * from './seats.js';
export * from './sources.js';
export * from './status.js';
export * from './subscriptions.js';
export * from './tenant.js';
export * from './validation.js';
