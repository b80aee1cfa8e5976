/**
 * Shared state: the one store contract, its in-memory default and the key layout.
 *
 * @module
 */
export { type WxMpStore, isThenable } from './store.js'
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js'
export { StoreKeys, type KeyKind } from './keys.js'
