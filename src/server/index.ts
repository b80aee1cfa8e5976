/**
 * The server: the Fastify plugin, `createServer`, and the framework-free pieces under them
 * (callback semantics, dispatcher with dedup and deadline, stores).
 *
 * @module
 */
export { createServer, defaultHttpLimits, type CreateServerOptions, type HttpLimits } from './create-server.js'
export { wxMp } from './plugin.js'
export { createCallbackHandler, type CallbackHandler, type CallbackHandlerRuntime, type WxMpOptions } from './callback-handler.js'
export { Callback, BODY_LIMIT_BYTES, refusalResponse, type CallbackOptions, type CallbackRequest, type CallbackResponse } from './callback.js'
export { Dispatcher, dedupKey, type DispatcherOptions, type DispatchResult, type Outcome, type DedupFailurePolicy } from './dispatcher.js'
export { MemoryDedupStore, type DedupStore, type DedupRecord, type MemoryDedupStoreOptions } from './dedup-store.js'
export { resolveConfig, defaults, unknownVariables, type EnvBackedOptions, type ResolvedConfig, type SettingDefaults } from './config.js'
export { settings, slowReplyStrategies, DEFAULT_SLOW_PLACEHOLDER, type Setting, type SettingKind, type SlowReplyStrategy } from './settings.js'
export { createLogger, redactPaths, type CreateLoggerOptions } from './logger.js'
export type {
  Handlers,
  HandlerContext,
  HandlerResult,
  LateReply,
  LateReplyHandler,
  Log,
  MaybePromise,
  OtherEvent,
} from './handlers.js'
