/**
 * Custom menus (自定义菜单): create, read and delete the account's bottom menu.
 *
 * Menus use the official JSON shape unchanged (`button`, `sub_button`, `media_id`, `pagepath`…), so a
 * `menu.json` copied from the docs or printed by `wx-mp-svr menu show` can be pushed as is.
 * {@link validateMenu} checks the documented limits before any request: 1–3 top-level buttons, 1–5
 * sub-buttons each, names up to 16 bytes (top) / 60 bytes (sub), and the field each `type` needs.
 *
 * Official references:
 * - https://developers.weixin.qq.com/doc/service/api/custommenu/api_createcustommenu
 * - https://developers.weixin.qq.com/doc/service/api/custommenu/api_getmenu
 * - https://developers.weixin.qq.com/doc/service/api/custommenu/api_deletemenu
 *
 * @module
 */
import type { CallApi } from './client.js'

/** Menu button types (`type`). */
export type MenuButtonType =
  | 'click'
  | 'view'
  | 'miniprogram'
  | 'scancode_push'
  | 'scancode_waitmsg'
  | 'pic_sysphoto'
  | 'pic_photo_or_album'
  | 'pic_weixin'
  | 'location_select'
  | 'media_id'
  | 'article_id'
  | 'article_view_limited'
  | 'view_limited'

/** One button, in the official shape. A button has either a `type` or `sub_button`. */
export interface MenuButton {
  type?: MenuButtonType
  /** Title: up to 16 bytes for top-level buttons, 60 bytes for sub-buttons. */
  name: string
  /** Required by click-like types (click, scancode_*, pic_*, location_select); up to 128 bytes. */
  key?: string
  /** Required by `view` and `miniprogram` (fallback for old clients); up to 1024 bytes. */
  url?: string
  /** Required by `media_id` / `view_limited`. */
  media_id?: string
  /** Required by `article_id` / `article_view_limited`. */
  article_id?: string
  /** Mini-program AppID, for `miniprogram`. */
  appid?: string
  /** Mini-program page path, for `miniprogram`. */
  pagepath?: string
  /** 1–5 sub-buttons (top level only). */
  sub_button?: MenuButton[]
}

/** A menu as `POST /cgi-bin/menu/create` takes it. */
export interface Menu {
  button: MenuButton[]
}

/** What `GET /cgi-bin/menu/get` answers: the default menu, and personalised menus if any. */
export interface MenuGetResult {
  menu: Menu & { menuid?: number }
  conditionalmenu?: Array<Menu & { matchrule?: Record<string, unknown>; menuid?: number }>
}

const KEY_TYPES = new Set<MenuButtonType>([
  'click',
  'scancode_push',
  'scancode_waitmsg',
  'pic_sysphoto',
  'pic_photo_or_album',
  'pic_weixin',
  'location_select',
])

/**
 * Accepts `{ button }` or the `{ menu: { button } }` printed by `menu get`, and returns a body for
 * `menu/create`: `menuid` and empty `sub_button` arrays (as `menu/get` prints them) are dropped.
 * Then validates it with {@link validateMenu}.
 *
 * Official reference: https://developers.weixin.qq.com/doc/service/api/custommenu/api_createcustommenu
 */
export function normalizeMenu(input: unknown): Menu {
  const root =
    isRecord(input) && !('button' in input) && isRecord(input['menu']) ? (input['menu'] as Record<string, unknown>) : input
  if (!isRecord(root) || !Array.isArray(root['button'])) {
    throw new TypeError('wx-mp-svr: a menu is an object with a "button" array (or { "menu": { "button": [...] } })')
  }
  const clean = (b: unknown): unknown => {
    if (!isRecord(b)) return b
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(b)) {
      if (k === 'sub_button' && Array.isArray(v)) {
        if (v.length > 0) out[k] = v.map(clean)
      } else {
        out[k] = v
      }
    }
    return out
  }
  const menu = { button: (root['button'] as unknown[]).map(clean) } as Menu
  validateMenu(menu)
  return menu
}

/**
 * Checks a menu against the documented limits; throws a `RangeError`/`TypeError` naming the button.
 *
 * Official reference: https://developers.weixin.qq.com/doc/service/api/custommenu/api_createcustommenu
 */
export function validateMenu(menu: Menu): void {
  if (!isRecord(menu) || !Array.isArray(menu.button)) throw new TypeError('wx-mp-svr: menu.button must be an array')
  if (menu.button.length < 1 || menu.button.length > 3) {
    throw new RangeError(`wx-mp-svr: a menu has 1 to 3 top-level buttons (got ${menu.button.length})`)
  }
  menu.button.forEach((b, i) => {
    const where = `button[${i}]`
    checkButton(b, where, 16)
    if (b.sub_button !== undefined) {
      if (!Array.isArray(b.sub_button) || b.sub_button.length < 1 || b.sub_button.length > 5) {
        throw new RangeError(`wx-mp-svr: ${where}.sub_button has 1 to 5 buttons`)
      }
      b.sub_button.forEach((s, j) => {
        const sw = `${where}.sub_button[${j}]`
        checkButton(s, sw, 60)
        if (s.sub_button !== undefined && (!Array.isArray(s.sub_button) || s.sub_button.length > 0)) {
          throw new TypeError(`wx-mp-svr: ${sw} cannot have sub-buttons (menus have two levels)`)
        }
        if (s.type === undefined) throw new TypeError(`wx-mp-svr: ${sw} needs a "type"`)
      })
    } else if (b.type === undefined) {
      throw new TypeError(`wx-mp-svr: ${where} needs a "type" or a "sub_button" array`)
    }
  })
}

function checkButton(b: MenuButton, where: string, maxNameBytes: number): void {
  if (!isRecord(b)) throw new TypeError(`wx-mp-svr: ${where} must be an object`)
  if (typeof b.name !== 'string' || b.name === '') throw new TypeError(`wx-mp-svr: ${where}.name must be a non-empty string`)
  const bytes = Buffer.byteLength(b.name, 'utf8')
  if (bytes > maxNameBytes) {
    throw new RangeError(`wx-mp-svr: ${where}.name "${b.name}" is ${bytes} bytes; the limit is ${maxNameBytes} bytes of UTF-8`)
  }
  if (b.type === undefined) return
  const need = (field: keyof MenuButton) => {
    if (typeof b[field] !== 'string' || b[field] === '') {
      throw new TypeError(`wx-mp-svr: ${where} of type "${b.type}" needs "${field}"`)
    }
  }
  if (KEY_TYPES.has(b.type)) need('key')
  else if (b.type === 'view') need('url')
  else if (b.type === 'miniprogram') (need('url'), need('appid'), need('pagepath'))
  else if (b.type === 'media_id' || b.type === 'view_limited') need('media_id')
  else if (b.type === 'article_id' || b.type === 'article_view_limited') need('article_id')
  else throw new TypeError(`wx-mp-svr: ${where} has unknown type "${String(b.type)}"`)
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * `api.menu`: create, get and delete the custom menu.
 *
 * Official reference: https://developers.weixin.qq.com/doc/service/api/custommenu/api_createcustommenu
 */
export class MenuApi {
  readonly #call: CallApi

  /** @internal Created by {@link WxMpApi}. */
  constructor(call: CallApi) {
    this.#call = call
  }

  /**
   * Replaces the default menu (`POST /cgi-bin/menu/create`). Accepts `{ button }` or the output of
   * {@link MenuApi.get}; validated first. Clients pick the new menu up within minutes.
   *
   * Official reference: https://developers.weixin.qq.com/doc/service/api/custommenu/api_createcustommenu
   */
  async create(menu: Menu | MenuGetResult): Promise<void> {
    await this.#call('POST', '/cgi-bin/menu/create', { json: normalizeMenu(menu) })
  }

  /**
   * The current menu (`GET /cgi-bin/menu/get`). Rejects with errcode 46003 when none exists.
   *
   * Official reference: https://developers.weixin.qq.com/doc/service/api/custommenu/api_getmenu
   */
  async get(): Promise<MenuGetResult> {
    return this.#call<MenuGetResult>('GET', '/cgi-bin/menu/get')
  }

  /**
   * Deletes the default menu and all personalised menus (`GET /cgi-bin/menu/delete`).
   *
   * Official reference: https://developers.weixin.qq.com/doc/service/api/custommenu/api_deletemenu
   */
  async delete(): Promise<void> {
    await this.#call('GET', '/cgi-bin/menu/delete')
  }
}
