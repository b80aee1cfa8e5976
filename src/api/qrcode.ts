/**
 * QR codes with parameters (生成带参数的二维码): temporary (up to 30 days, many) or permanent (up to
 * 100 000), carrying a scene id or string that comes back in the subscribe/SCAN event's `EventKey`.
 *
 * Official reference: https://developers.weixin.qq.com/doc/service/api/qrcode/qrcodes/api_createqrcode
 *
 * @module
 */
import type { CallApi } from './client.js'

/** Longest lifetime of a temporary QR code: 30 days, in seconds. */
export const QRCODE_MAX_EXPIRE_SECONDS = 2_592_000

/** Arguments of {@link QrCodeApi.create}. */
export type CreateQrCodeOptions =
  | {
      /** Temporary code (default). */
      permanent?: false
      /** Scene: a non-zero 32-bit integer, or a string of 1–64 characters. */
      scene: number | string
      /** Lifetime in seconds, up to 2 592 000 (30 days). WeChat's default when omitted is 60 s. */
      expireSeconds?: number
    }
  | {
      permanent: true
      /** Scene: an integer 1–100 000, or a string of 1–64 characters. */
      scene: number | string
    }

/** A created QR code. */
export interface QrCode {
  /** Exchange it for the image at {@link qrcodeImageUrl}. */
  ticket: string
  /** Lifetime in seconds (temporary codes only). */
  expireSeconds: number | undefined
  /** The URL the QR code encodes; render it yourself if you prefer. */
  url: string
  /** `https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=…`, the image (no token needed). */
  imageUrl: string
}

/**
 * The image URL of a QR code ticket: `https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=` +
 * `encodeURIComponent(ticket)`. Needs no access_token.
 *
 * Official reference: https://developers.weixin.qq.com/doc/service/api/qrcode/qrcodes/api_createqrcode
 */
export function qrcodeImageUrl(ticket: string): string {
  return `https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=${encodeURIComponent(ticket)}`
}

/**
 * Builds the official body of `POST /cgi-bin/qrcode/create` (`action_name` QR_SCENE, QR_STR_SCENE,
 * QR_LIMIT_SCENE or QR_LIMIT_STR_SCENE), validating the documented ranges.
 *
 * Official reference: https://developers.weixin.qq.com/doc/service/api/qrcode/qrcodes/api_createqrcode
 */
export function buildQrCodeBody(options: CreateQrCodeOptions): Record<string, unknown> {
  const { scene } = options
  const permanent = options.permanent === true
  let actionName: string
  let sceneField: Record<string, unknown>
  if (typeof scene === 'number') {
    if (!Number.isInteger(scene)) throw new TypeError(`wx-mp-svr: QR scene id must be an integer (got ${scene})`)
    if (permanent ? scene < 1 || scene > 100_000 : scene === 0 || scene < -(2 ** 31) || scene > 2 ** 32 - 1) {
      throw new RangeError(
        permanent
          ? `wx-mp-svr: permanent QR scene ids are 1..100000 (got ${scene}); use a scene string for more`
          : `wx-mp-svr: temporary QR scene ids are non-zero 32-bit integers (got ${scene})`,
      )
    }
    actionName = permanent ? 'QR_LIMIT_SCENE' : 'QR_SCENE'
    sceneField = { scene_id: scene }
  } else if (typeof scene === 'string') {
    if (scene.length < 1 || scene.length > 64) throw new RangeError(`wx-mp-svr: QR scene strings are 1 to 64 characters (got ${scene.length})`)
    actionName = permanent ? 'QR_LIMIT_STR_SCENE' : 'QR_STR_SCENE'
    sceneField = { scene_str: scene }
  } else {
    throw new TypeError('wx-mp-svr: QR scene must be a number or a string')
  }
  const body: Record<string, unknown> = {}
  if (options.permanent !== true && options.expireSeconds !== undefined) {
    const s = options.expireSeconds
    if (!Number.isInteger(s) || s < 1 || s > QRCODE_MAX_EXPIRE_SECONDS) {
      throw new RangeError(`wx-mp-svr: expireSeconds must be an integer 1..${QRCODE_MAX_EXPIRE_SECONDS} (30 days), got ${s}`)
    }
    body['expire_seconds'] = s
  }
  body['action_name'] = actionName
  body['action_info'] = { scene: sceneField }
  return body
}

/**
 * `api.qrcode`: QR codes with parameters.
 *
 * Official reference: https://developers.weixin.qq.com/doc/service/api/qrcode/qrcodes/api_createqrcode
 */
export class QrCodeApi {
  readonly #call: CallApi

  /** @internal Created by {@link WxMpApi}. */
  constructor(call: CallApi) {
    this.#call = call
  }

  /**
   * Creates a QR code ticket (`POST /cgi-bin/qrcode/create`).
   *
   * @example
   * ```ts
   * const code = await api.qrcode.create({ scene: 'invite:42', expireSeconds: 86_400 })
   * console.log(code.imageUrl)
   * ```
   *
   * Official reference: https://developers.weixin.qq.com/doc/service/api/qrcode/qrcodes/api_createqrcode
   */
  async create(options: CreateQrCodeOptions): Promise<QrCode> {
    const body = await this.#call('POST', '/cgi-bin/qrcode/create', { json: buildQrCodeBody(options) })
    const ticket = String(body['ticket'] ?? '')
    return {
      ticket,
      expireSeconds: typeof body['expire_seconds'] === 'number' ? body['expire_seconds'] : undefined,
      url: String(body['url'] ?? ''),
      imageUrl: qrcodeImageUrl(ticket),
    }
  }

  /** Same as {@link qrcodeImageUrl}. */
  imageUrl(ticket: string): string {
    return qrcodeImageUrl(ticket)
  }
}
