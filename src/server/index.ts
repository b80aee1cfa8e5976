/**
 * The server: the Fastify plugin, `createServer`, and the framework-free pieces under them
 * (callback semantics, dispatcher with dedup and deadline, stores).
 *
 * @module
 */
export { createServer, type CreateServerOptions } from './create-server.js'
export { wxMp, BODY_LIMIT_BYTES, type WxMpOptions } from './plugin.js'
export { Callback, type CallbackOptions, type CallbackRequest, type CallbackResponse, type PushMode } from './callback.js'
export {
  Dispatcher,
  type DispatcherOptions,
  type DispatchResult,
  type Outcome,
  type DedupFailurePolicy,
  type BackgroundWork,
} from './dispatcher.js'
export { dedupParts } from './dedup-key.js'
export { resolveConfig, defaults, type EnvBackedOptions, type ResolvedConfig } from './config.js'
export { createLogger, redactPaths, type CreateLoggerOptions } from './logger.js'
export { systemClock, type Clock } from './clock.js'
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
} from './handlers.js'
