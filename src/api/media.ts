/**
 * Temporary media (临时素材): upload files for messages, download files users sent.
 *
 * Temporary media live 3 days on WeChat's side; the `media_id` can be reused meanwhile. Documented
 * limits: image 10 MB (PNG/JPEG/JPG/GIF), voice 2 MB / 60 s (AMR/MP3), video 10 MB (MP4), thumb 64 KB
 * (JPG). WeChat identifies the format by the file name's extension, so give Buffers and streams a
 * `filename` with the right one.
 *
 * Official references:
 * - https://developers.weixin.qq.com/doc/service/api/material/temporary/api_uploadtempmedia
 * - https://developers.weixin.qq.com/doc/service/api/material/temporary/api_getmedia
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { Readable } from 'node:stream'
import type { CallApi, RequestApi } from './client.js'
import { WxMpApiError } from './errors.js'

/** Media types of the temporary-media API. */
export type TempMediaType = 'image' | 'voice' | 'video' | 'thumb'

/** What can be uploaded: a file path, bytes, or a readable stream (read fully into memory first). */
export type MediaSource = string | Buffer | Uint8Array | Readable

/** Options of {@link MediaApi.uploadTemp}. */
export interface UploadTempOptions {
  /** File name sent in the multipart part (default: the path's base name, or `media.<ext>` by type). */
  filename?: string
  /** Content type of the part (default `application/octet-stream`). */
  contentType?: string
}

/** The answer of an upload. */
export interface UploadTempResult {
  type: TempMediaType
  mediaId: string
  /** Upload time, epoch seconds. */
  createdAt: number
}

/** A downloaded temporary medium. */
export type TempMedia =
  | { kind: 'file'; data: Buffer; contentType: string; filename: string | undefined }
  /** Videos are not sent inline: WeChat answers with a download URL. */
  | { kind: 'video'; videoUrl: string }

const DEFAULT_EXT: Record<TempMediaType, string> = { image: 'jpg', voice: 'mp3', video: 'mp4', thumb: 'jpg' }
const TYPES = new Set<string>(Object.keys(DEFAULT_EXT))

/**
 * `api.media`: temporary media.
 *
 * Official reference: https://developers.weixin.qq.com/doc/service/api/material/temporary/api_uploadtempmedia
 */
export class MediaApi {
  readonly #call: CallApi
  readonly #request: RequestApi

  /** @internal Created by {@link WxMpApi}. */
  constructor(call: CallApi, request: RequestApi) {
    this.#call = call
    this.#request = request
  }

  /**
   * Uploads a temporary medium (`POST /cgi-bin/media/upload?type=…`, multipart field `media`).
   * Not retried after the request may have been sent (a retry could create a second medium).
   *
   * @example
   * ```ts
   * const { mediaId } = await api.media.uploadTemp('image', './chart.png')
   * await api.sendCustomMessage(openId, { msgType: 'image', mediaId })
   * ```
   *
   * Official reference: https://developers.weixin.qq.com/doc/service/api/material/temporary/api_uploadtempmedia
   */
  async uploadTemp(type: TempMediaType, source: MediaSource, options: UploadTempOptions = {}): Promise<UploadTempResult> {
    if (!TYPES.has(type)) throw new TypeError(`wx-mp-svr: media type must be image, voice, video or thumb (got ${JSON.stringify(type)})`)
    let bytes: Uint8Array
    let filename = options.filename
    if (typeof source === 'string') {
      bytes = await readFile(source)
      filename ??= basename(source)
    } else if (source instanceof Uint8Array) {
      bytes = source
    } else if (source instanceof Readable) {
      const chunks: Buffer[] = []
      for await (const chunk of source) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array))
      bytes = Buffer.concat(chunks)
    } else {
      throw new TypeError('wx-mp-svr: media source must be a file path, a Buffer/Uint8Array or a Readable stream')
    }
    if (bytes.byteLength === 0) throw new RangeError('wx-mp-svr: refusing to upload an empty file')
    filename ??= `media.${DEFAULT_EXT[type]}`
    const form = new FormData()
    form.append('media', new Blob([bytes], { type: options.contentType ?? 'application/octet-stream' }), filename)
    const body = await this.#call('POST', '/cgi-bin/media/upload', { query: { type }, form })
    return {
      type: (body['type'] as TempMediaType | undefined) ?? type,
      mediaId: String(body['media_id'] ?? ''),
      createdAt: Number(body['created_at'] ?? 0),
    }
  }

  /**
   * Downloads a temporary medium (`GET /cgi-bin/media/get?media_id=…`): the bytes and content type,
   * or `{ kind: 'video', videoUrl }` for videos. A JSON error body (e.g. 40007 invalid media_id)
   * rejects with a {@link WxMpApiError}.
   *
   * Official reference: https://developers.weixin.qq.com/doc/service/api/material/temporary/api_getmedia
   */
  async getTemp(mediaId: string): Promise<TempMedia> {
    if (typeof mediaId !== 'string' || mediaId === '') throw new TypeError('wx-mp-svr: mediaId must be a non-empty string')
    const res = await this.#request('GET', '/cgi-bin/media/get', { query: { media_id: mediaId }, expect: 'media' })
    if (res.kind === 'file') return { kind: 'file', data: res.data, contentType: res.contentType, filename: res.filename }
    const videoUrl = res.body['video_url']
    if (typeof videoUrl === 'string') return { kind: 'video', videoUrl }
    throw new WxMpApiError({
      code: 'BAD_RESPONSE',
      errcode: -1,
      errmsg: 'JSON answer without video_url or errcode',
      path: '/cgi-bin/media/get',
      method: 'GET',
      status: res.status,
    })
  }
}
