/**
 * Shared state: the one store contract, its in-memory default and the key layout.
 *
 * @module
 */
export { type WxMpStore, isThenable } from './store.js'
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js'
export { StoreKeys, type KeyKind } from './keys.js'
export { RedisStore, createRedisStore, redisAddress, type RedisStoreOptions, type RedisStoreLog } from './redis-store.js'
export { StoreTokenStore } from './store-token-store.js'
