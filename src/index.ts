/**
 * wx-mp-svr: a WeChat Official Account (微信公众号) message server kit.
 *
 * - Protocol core: signatures, safe-mode crypto, typed messages and replies (framework-free).
 * - Server: the Fastify plugin `wxMp` and `createServer`, with deadline and dedup.
 *
 * Official reference: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 *
 * @module
 */

// Protocol core
export * from './core/index.js'

// Server
export * from './server/index.js'

// Shared state: the store contract, its in-memory default and the key layout
export * from './store/index.js'

// Slow answers: the strategies and the words the kit says to the user meanwhile
export {
  slowReplyStrategies,
  isSlowReplyStrategy,
  defaultFetchWords,
  defaultSlowReplyTexts,
  type SlowReplyStrategy,
  type EffectiveStrategy,
  type SlowReplyTexts,
} from './slow-reply/strategy.js'

// WeChat API client (客服消息, menus, media, templates, users, QR codes) with the access-token 中控
export * from './api/index.js'

// WeChat emulator: act as WeChat's server against any callback URL
export * from './emulator/index.js'
