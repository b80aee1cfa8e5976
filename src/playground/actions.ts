/**
 * The phone pane's actions — a text, follow, unfollow, a menu click, a QR scan, a location, an
 * image — read from a posted form and turned into the push WeChat would send, with the line the
 * user's bubble shows.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import type { PushInput } from '../emulator/push.js'
import { MAX_TEXT_BYTES, PlaygroundInputError } from './input-error.js'

/** The actions the page may post, by the `action` field. */
export const playgroundActions = ['text', 'follow', 'unfollow', 'click', 'scan', 'location', 'image'] as const

/** One of {@link playgroundActions}. */
export type PlaygroundAction = (typeof playgroundActions)[number]

/** A push to send and what the user's bubble says. */
export interface UserAction {
  action: PlaygroundAction
  input: PushInput
  /** The user's bubble: the text itself, or a bracketed description such as `[关注 Follow]`. */
  label: string
}

type Form = Readonly<Record<string, unknown>>

function text(form: Form, name: string): string | undefined {
  const value = form[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new PlaygroundInputError('INVALID_FIELD', `${name} must be given once, as text.`)
  return value
}

function required(form: Form, name: string, what: string): string {
  const value = text(form, name)?.trim()
  if (!value) throw new PlaygroundInputError('MISSING_FIELD', `${name} is missing: ${what}.`)
  if (Buffer.byteLength(value, 'utf8') > 128) throw new PlaygroundInputError('INVALID_FIELD', `${name} is over 128 bytes: ${what}.`)
  return value
}

function coordinate(form: Form, name: string, limit: number): number {
  const raw = required(form, name, `a number between -${limit} and ${limit}`)
  const value = Number(raw)
  if (!Number.isFinite(value) || Math.abs(value) > limit) {
    throw new PlaygroundInputError('INVALID_FIELD', `${name} must be a number between -${limit} and ${limit} (got ${JSON.stringify(raw)}).`)
  }
  return value
}

/**
 * Reads one posted action.
 *
 * @throws {PlaygroundInputError} `UNKNOWN_ACTION`, `MISSING_FIELD`, `INVALID_FIELD`, or
 * `TEXT_TOO_LONG` for a text over {@link MAX_TEXT_BYTES} bytes.
 */
export function readAction(form: Form): UserAction {
  const action = text(form, 'action')
  switch (action) {
    case 'text': {
      const content = text(form, 'text') ?? ''
      const bytes = Buffer.byteLength(content, 'utf8')
      if (bytes > MAX_TEXT_BYTES) {
        throw new PlaygroundInputError('TEXT_TOO_LONG', `The message is ${bytes} bytes; WeChat takes at most ${MAX_TEXT_BYTES} bytes in one text. Shorten it or send it in parts.`)
      }
      if (content.trim() === '') throw new PlaygroundInputError('MISSING_FIELD', 'text is empty: type a message first (WeChat sends no empty text).')
      return { action, input: { msgType: 'text', content }, label: content }
    }
    case 'follow':
      return { action, input: { msgType: 'event', event: 'subscribe' }, label: '[关注 Follow]' }
    case 'unfollow':
      return { action, input: { msgType: 'event', event: 'unsubscribe' }, label: '[取消关注 Unfollow]' }
    case 'click': {
      const key = required(form, 'key', 'the menu button\'s key (EventKey), e.g. MENU_HELP')
      return { action, input: { msgType: 'event', event: 'CLICK', eventKey: key }, label: `[菜单 Menu: ${key}]` }
    }
    case 'scan': {
      const scene = required(form, 'scene', 'the QR code\'s scene value, e.g. 42')
      return { action, input: { msgType: 'event', event: 'SCAN', eventKey: scene, ticket: randomBytes(12).toString('hex') }, label: `[扫码 Scan: ${scene}]` }
    }
    case 'location': {
      const lat = coordinate(form, 'lat', 90)
      const lng = coordinate(form, 'lng', 180)
      return { action, input: { msgType: 'location', locationX: lat, locationY: lng, scale: 15, label: '' }, label: `[位置 Location: ${lat}, ${lng}]` }
    }
    case 'image': {
      const mediaId = `play_${randomBytes(9).toString('base64url')}`
      return {
        action,
        input: { msgType: 'image', picUrl: `http://mmbiz.qpic.cn/mmbiz_jpg/${mediaId}/0`, mediaId },
        label: `[图片 Image: ${mediaId}]`,
      }
    }
    case undefined:
      throw new PlaygroundInputError('UNKNOWN_ACTION', `action is missing: post one of ${playgroundActions.join(', ')}.`)
    default:
      throw new PlaygroundInputError('UNKNOWN_ACTION', `Unknown action ${JSON.stringify(action)}: post one of ${playgroundActions.join(', ')}.`)
  }
}
