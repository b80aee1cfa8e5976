/**
 * The active WeChat API client: {@link WxMpApi}, its errors, the token manager and stores, and the
 * typed API groups. Re-exported from the package entry.
 *
 * Official reference: https://developers.weixin.qq.com/doc/service/api/
 *
 * @module
 */

// The client
export { WxMpApi, WX_MP_API_BASE_URL } from './client.js'
export type { WxMpApiOptions, CallOptions, RequestOptions, CallApi, RequestApi } from './client.js'

// Errors
export { WxMpApiError, isWxMpApiError, hintFor, redactUrl, WX_MP_API_HINTS, TOKEN_ERRCODES } from './errors.js'
export type { WxMpApiErrorCode, WxMpApiErrorInit } from './errors.js'

// Access token (中控) and its stores
export { AccessTokenManager } from './token.js'
export type { AccessTokenManagerOptions, AccessTokenInfo, TokenEndpoint } from './token.js'
export { MemoryTokenStore } from './token-store.js'
export type { TokenStore, StoredToken, MemoryTokenStoreOptions } from './token-store.js'

// Transport (for token services and tests)
export { Transport, parseWeChatJson } from './transport.js'
export type { FetchLike, QueryParams, TransportOptions, TransportRequest, TransportResponse } from './transport.js'

// Customer-service messages
export { buildCustomMessageBody } from './custom-message.js'
export type {
  CustomMessage,
  CustomMessageType,
  CustomMessageBody,
  SendCustomMessageOptions,
  CustomTextMessage,
  CustomImageMessage,
  CustomVoiceMessage,
  CustomVideoMessage,
  CustomMusicMessage,
  CustomNewsMessage,
  CustomNewsArticle,
  CustomMpNewsMessage,
  CustomMpNewsArticleMessage,
  CustomMsgMenuMessage,
  CustomMsgMenuItem,
  CustomMiniProgramPageMessage,
} from './custom-message.js'

// API groups
export { MenuApi, normalizeMenu, validateMenu } from './menu.js'
export type { Menu, MenuButton, MenuButtonType, MenuGetResult } from './menu.js'
export { MediaApi } from './media.js'
export type { TempMediaType, MediaSource, UploadTempOptions, UploadTempResult, TempMedia } from './media.js'
export { TemplateApi } from './template.js'
export type { TemplateMessage, TemplateDataValue } from './template.js'
export { UsersApi } from './users.js'
export type { UserInfo, UserListPage } from './users.js'
export { QrCodeApi, qrcodeImageUrl, buildQrCodeBody, QRCODE_MAX_EXPIRE_SECONDS } from './qrcode.js'
export type { CreateQrCodeOptions, QrCode } from './qrcode.js'
