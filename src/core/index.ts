/**
 * The protocol core: pure functions and classes over strings and Buffers, no HTTP framework.
 * Adapters (the Fastify plugin, the CLI, the emulator) are built on exactly this API.
 *
 * @module
 */
export { WxMpError, isWxMpError, type WxMpErrorCode } from './errors.js'
export { systemClock, type Clock } from './clock.js'
export { checkSignature, computeSignature, signatureMatches, signPushQuery, type PushQuery } from './signature.js'
export {
  WxMpCrypto,
  type WxMpCryptoOptions,
  type EncryptedPushParams,
  type EncryptReplyParams,
  type SealPushOptions,
  type SealedPush,
  type OpenReplyOptions,
} from './crypto.js'
export { parseMessage, camelCaseTag, MISSING_CREATE_TIME } from './parse.js'
export { writeMessage } from './write.js'
export {
  readCallback,
  writeCallbackReply,
  type CallbackAccount,
  type CallbackDecision,
  type CallbackInput,
  type EncryptionMode,
  type ReplyEnvelopeParams,
} from './callback-protocol.js'
export * from './messages.js'
export {
  renderReply,
  parseReply,
  reply,
  newsArticleLimits,
  newsArticleLimit,
  type ParsedReply,
  type Reply,
  type ReplyMessage,
  type ReplyType,
  type ReplyTarget,
  type RenderOptions,
  type TextReply,
  type ImageReply,
  type VoiceReply,
  type VideoReply,
  type MusicReply,
  type NewsReply,
  type Article,
  type TransferCustomerServiceReply,
} from './reply.js'
export { splitText, TEXT_REPLY_MAX_BYTES } from './split-text.js'
export { cdata, isDecimal, stripIllegalXmlChars, parseXmlDocument, readElementText, XmlBuilder, type XmlElement, type XmlNode, type XmlValue } from './xml.js'
