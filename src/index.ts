/**
 * wx-mp-svr: a WeChat Official Account (微信公众号) message server kit.
 *
 * This entry holds what a bot author uses: the server, the handler types, messages and replies,
 * errors, configuration, the API client and the emulator for tests. The rest lives on subpaths
 * that load only what they need:
 *
 * - `wx-mp-svr/core`: the protocol alone (signatures, crypto, XML, messages, replies, the
 *   callback protocol) with no HTTP framework, logger or emulator loaded.
 * - `wx-mp-svr/api`: the whole API client (token stores, transport, every API group).
 * - `wx-mp-svr/emulator`: the WeChat emulator (verdicts, problems, push inputs).
 *
 * Official reference: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 *
 * @module
 */

// ---------------------------------------------------------------------------------------------
// Run a bot: a ready server, the Fastify plugin, or the framework-free endpoint under both.

export { createServer, defaultHttpLimits, type CreateServerOptions, type HttpLimits } from './server/create-server.js'
export { wxMp } from './server/plugin.js'
export { createCallbackHandler, type CallbackHandler, type CallbackHandlerRuntime, type WxMpOptions } from './server/callback-handler.js'

// Cloud functions: the same endpoint as a fetch handler, Tencent SCF, Aliyun FC or AWS Lambda
// (also at `wx-mp-svr/serverless`, without Fastify).
export { createFetchHandler, createScfHandler, createFcHandler, createLambdaHandler, type ServerlessOptions } from './serverless/index.js'

// ---------------------------------------------------------------------------------------------
// Handlers: what the callbacks receive and may return.

export type {
  Handlers,
  HandlerContext,
  HandlerResult,
  LateReply,
  LateReplyHandler,
  Log,
  MaybePromise,
  OtherEvent,
  OnMessage,
  OnSubscribe,
  OnEvent,
  OnError,
} from './server/handlers.js'

// ---------------------------------------------------------------------------------------------
// The protocol: messages, replies, signatures, crypto, XML and the callback protocol (also at
// `wx-mp-svr/core`, without Fastify).

export * from './core/index.js'

// ---------------------------------------------------------------------------------------------
// Configuration: the WX_MP_* settings, the logger.

export { resolveConfig, defaults, unknownVariables, type EnvBackedOptions, type ResolvedConfig, type SettingDefaults } from './server/config.js'
export { settings, DEFAULT_SLOW_PLACEHOLDER, type Setting, type SettingKind } from './server/settings.js'
export { createLogger, redactPaths, type CreateLoggerOptions } from './server/logger.js'

// ---------------------------------------------------------------------------------------------
// Slow answers: how an answer that misses WeChat's 5 s still reaches the user, and what the kit
// says to the user meanwhile.

export {
  slowReplyStrategies,
  isSlowReplyStrategy,
  defaultFetchWords,
  defaultSlowReplyTexts,
  type SlowReplyStrategy,
  type EffectiveStrategy,
  type SlowReplyTexts,
} from './slow-reply/strategy.js'

// ---------------------------------------------------------------------------------------------
// Shared state: the one store contract (dedup, pending answers, quotas, the access token), its
// in-memory default, the key layout, and the Redis adapter for several instances.

export * from './store/index.js'

// ---------------------------------------------------------------------------------------------
// Building blocks of the endpoint, for custom adapters: the callback's HTTP semantics and the
// dispatcher (dedup and deadline).

export { Callback, BODY_LIMIT_BYTES, refusalResponse, type CallbackOptions, type CallbackRequest, type CallbackResponse } from './server/callback.js'
export {
  Dispatcher,
  type DispatcherOptions,
  type DispatchResult,
  type Outcome,
  type DedupFailurePolicy,
  type BackgroundWork,
} from './server/dispatcher.js'
export { dedupParts } from './server/dedup-key.js'

// ---------------------------------------------------------------------------------------------
// The WeChat API client (客服消息, menus, media, templates, users, QR codes) with the access-token
// 中控. Everything else of it is at `wx-mp-svr/api`.

export { WxMpApi, WX_MP_API_BASE_URL, type WxMpApiOptions } from './api/client.js'
export { WxMpApiError, isWxMpApiError, type WxMpApiErrorCode } from './api/errors.js'
export { MemoryTokenStore, type TokenStore, type StoredToken } from './api/token-store.js'
export type { CustomMessage } from './api/custom-message.js'
export type { Menu, MenuButton } from './api/menu.js'

// ---------------------------------------------------------------------------------------------
// Testing: drive a bot the way WeChat does. Verdicts, problems and push inputs are at
// `wx-mp-svr/emulator`.

export { createEmulator, type Emulator, type EmulatorOptions, type SendResult } from './emulator/emulator.js'
export { emulatorModes, type EmulatorMode } from './emulator/envelope.js'
