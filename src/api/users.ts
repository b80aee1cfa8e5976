/**
 * User management (用户管理): one follower's basic information, and the follower list.
 *
 * Since December 2021 WeChat no longer returns nickname, avatar, gender or location here; the
 * fields below are what the current docs list.
 *
 * Official references:
 * - https://developers.weixin.qq.com/doc/service/api/usermanage/userinfo/api_userinfo
 * - https://developers.weixin.qq.com/doc/service/api/usermanage/userinfo/api_getfans
 *
 * @module
 */
import type { CallApi } from './client.js'

/** One user, with WeChat's field names in camelCase (`subscribe_time` → `subscribeTime`). */
export interface UserInfo {
  /** 1 when the user follows the account; 0 means nothing else is returned. */
  subscribe: 0 | 1
  openId: string
  /** e.g. `zh_CN`. */
  language?: string
  /** Last follow time, epoch seconds. */
  subscribeTime?: number
  /** Present when the account is bound to an Open Platform account. */
  unionId?: string
  /** The operator's remark on this follower. */
  remark?: string
  groupId?: number
  tagIdList?: number[]
  /** How the user followed, e.g. `ADD_SCENE_QR_CODE`. */
  subscribeScene?: string
  /** Scene id of the QR code the user followed through. */
  qrScene?: number
  /** Scene string of the QR code the user followed through. */
  qrSceneStr?: string
  /** The answer as WeChat sent it. */
  raw: Record<string, unknown>
}

/** One page of followers. */
export interface UserListPage {
  /** Number of followers in all. */
  total: number
  /** Number of OpenIDs in this page (up to 10 000). */
  count: number
  openIds: string[]
  /** Pass to the next `list()` call; the last page is the one with `count` 0. */
  nextOpenId: string
}

/**
 * `api.users`: follower information.
 *
 * Official reference: https://developers.weixin.qq.com/doc/service/api/usermanage/userinfo/api_userinfo
 */
export class UsersApi {
  readonly #call: CallApi

  /** @internal Created by {@link WxMpApi}. */
  constructor(call: CallApi) {
    this.#call = call
  }

  /**
   * One user's information (`GET /cgi-bin/user/info?openid=…&lang=…`).
   *
   * Official reference: https://developers.weixin.qq.com/doc/service/api/usermanage/userinfo/api_userinfo
   */
  async info(openId: string, options: { lang?: 'zh_CN' | 'zh_TW' | 'en' } = {}): Promise<UserInfo> {
    if (typeof openId !== 'string' || openId === '') throw new TypeError('wx-mp-svr: users.info needs a non-empty openId')
    const raw = await this.#call('GET', '/cgi-bin/user/info', { query: { openid: openId, lang: options.lang ?? 'zh_CN' } })
    const info: UserInfo = { subscribe: raw['subscribe'] === 1 ? 1 : 0, openId: String(raw['openid'] ?? openId), raw }
    const copy = <K extends keyof UserInfo>(key: K, wire: string, kind: 'string' | 'number') => {
      const v = raw[wire]
      if (typeof v === kind) (info as unknown as Record<string, unknown>)[key] = v
    }
    copy('language', 'language', 'string')
    copy('subscribeTime', 'subscribe_time', 'number')
    copy('unionId', 'unionid', 'string')
    copy('remark', 'remark', 'string')
    copy('groupId', 'groupid', 'number')
    copy('subscribeScene', 'subscribe_scene', 'string')
    copy('qrScene', 'qr_scene', 'number')
    copy('qrSceneStr', 'qr_scene_str', 'string')
    if (Array.isArray(raw['tagid_list'])) info.tagIdList = (raw['tagid_list'] as unknown[]).map(Number)
    return info
  }

  /**
   * One page of up to 10 000 follower OpenIDs (`GET /cgi-bin/user/get?next_openid=…`), starting
   * after `nextOpenId` (from the beginning when omitted).
   *
   * @example
   * ```ts
   * for (let page = await api.users.list(); page.count > 0; page = await api.users.list(page.nextOpenId)) {
   *   for (const openId of page.openIds) { ... }
   * }
   * ```
   *
   * Official reference: https://developers.weixin.qq.com/doc/service/api/usermanage/userinfo/api_getfans
   */
  async list(nextOpenId?: string): Promise<UserListPage> {
    const raw = await this.#call('GET', '/cgi-bin/user/get', { query: { next_openid: nextOpenId || undefined } })
    const data = raw['data']
    const openIds =
      typeof data === 'object' && data !== null && Array.isArray((data as { openid?: unknown }).openid)
        ? ((data as { openid: unknown[] }).openid.map(String))
        : []
    return {
      total: Number(raw['total'] ?? 0),
      count: Number(raw['count'] ?? openIds.length),
      openIds,
      nextOpenId: String(raw['next_openid'] ?? ''),
    }
  }
}
