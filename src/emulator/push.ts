/**
 * Building the pushes WeChat sends to a 公众号 server: every ordinary message kind and the
 * user-triggered events, with the fields each needs, in WeChat's element order.
 *
 * Field names are the camelCase of the XML elements, as in the core's `Message` types
 * (`Location_X` → `locationX`), so what you send reads like what your handler receives. Everything
 * WeChat would fill in itself (MediaId, MsgId, CreateTime, …) has a realistic default.
 *
 * Official references:
 * - https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 * - https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 * - https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Custom_Menu_Push_Events.html
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { WxMpError, XmlBuilder, type XmlValue } from '../core/index.js'

/**
 * Fields any push input may override; defaults come from the emulator.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface PushOverrides {
  /** The sender's OpenID (`FromUserName`). */
  fromUserName?: string
  /** The account's original id, `gh_…` (`ToUserName`). */
  toUserName?: string
  /** Seconds since the epoch (`CreateTime`); default: now. */
  createTime?: number
  /**
   * Extra elements appended to the push as they are (`{ MsgDataId: '…', Idx: '1' }`), for fields
   * the inputs below do not model.
   */
  extra?: Readonly<Record<string, string | number>>
}

/** Ordinary messages carry a 64-bit MsgId (a string: a JS number cannot hold it exactly). */
interface WithMsgId extends PushOverrides {
  /** Default: a random 19-digit id, the same on every retry of one push. */
  msgId?: string
}

/**
 * A text message (`MsgType` text).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface TextInput extends WithMsgId {
  msgType: 'text'
  content: string
}
/**
 * An image message; `picUrl` is what WeChat's CDN link would be.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface ImageInput extends WithMsgId {
  msgType: 'image'
  picUrl: string
  mediaId?: string
}
/**
 * A voice message; `recognition` is the speech-to-text result (when the account enabled it).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface VoiceInput extends WithMsgId {
  msgType: 'voice'
  mediaId?: string
  /** Default `amr`. */
  format?: string
  recognition?: string
}
/**
 * A video or short-video message.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface VideoInput extends WithMsgId {
  msgType: 'video' | 'shortvideo'
  mediaId?: string
  thumbMediaId?: string
}
/**
 * A location message: `locationX` is the latitude, `locationY` the longitude (WeChat's names).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface LocationInput extends WithMsgId {
  msgType: 'location'
  locationX: number | string
  locationY: number | string
  /** Map zoom, default 15. */
  scale?: number | string
  label?: string
}
/**
 * A link message (a shared article).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface LinkInput extends WithMsgId {
  msgType: 'link'
  url: string
  title?: string
  description?: string
}

/**
 * `subscribe`: `eventKey` `qrscene_…` and `ticket` for a subscribe through a parametric QR code.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface SubscribeInput extends PushOverrides {
  msgType: 'event'
  event: 'subscribe'
  eventKey?: string
  ticket?: string
}
/**
 * `unsubscribe`.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface UnsubscribeInput extends PushOverrides {
  msgType: 'event'
  event: 'unsubscribe'
}
/**
 * `SCAN`: a subscriber scanned a parametric QR code; `eventKey` is the scene.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface ScanInput extends PushOverrides {
  msgType: 'event'
  event: 'SCAN'
  eventKey: string
  ticket?: string
}
/**
 * `LOCATION`: the periodic location report of a user who allowed it.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface LocationEventInput extends PushOverrides {
  msgType: 'event'
  event: 'LOCATION'
  latitude: number | string
  longitude: number | string
  precision?: number | string
}
/**
 * `CLICK`: a menu button of type click; `eventKey` is the button's key.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface ClickInput extends PushOverrides {
  msgType: 'event'
  event: 'CLICK'
  eventKey: string
}
/**
 * `VIEW` (a link button: `eventKey` is the URL) and `view_miniprogram` (the page path).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface ViewInput extends PushOverrides {
  msgType: 'event'
  event: 'VIEW' | 'view_miniprogram'
  eventKey: string
  menuId?: string
}
/**
 * `scancode_push` / `scancode_waitmsg`: the menu's scanner read `scanResult`.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface ScancodeInput extends PushOverrides {
  msgType: 'event'
  event: 'scancode_push' | 'scancode_waitmsg'
  eventKey: string
  /** Default `qrcode`. */
  scanType?: string
  scanResult?: string
}
/**
 * `pic_sysphoto` / `pic_photo_or_album` / `pic_weixin`: photos sent from a menu button.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface PicsInput extends PushOverrides {
  msgType: 'event'
  event: 'pic_sysphoto' | 'pic_photo_or_album' | 'pic_weixin'
  eventKey: string
  /** MD5 sums of the photos; default: one random photo. */
  picMd5Sums?: readonly string[]
}
/**
 * `location_select`: a location picked from a menu button.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface LocationSelectInput extends PushOverrides {
  msgType: 'event'
  event: 'location_select'
  eventKey: string
  locationX: number | string
  locationY: number | string
  scale?: number | string
  label?: string
  poiname?: string
}
/**
 * `TEMPLATESENDJOBFINISH`: the delivery report of a template message.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface TemplateSendJobFinishInput extends PushOverrides {
  msgType: 'event'
  event: 'TEMPLATESENDJOBFINISH'
  msgId?: string
  /** Default `success`. */
  status?: string
}
/**
 * Any other push, element by element after the common header (`{ custom: true, msgType: 'event',
 * event: 'kf_create_session', elements: { KfAccount: 'a@gh' } }`).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface CustomPushInput extends PushOverrides {
  custom: true
  msgType: string
  event?: string
  elements?: Readonly<Record<string, string | number>>
}

/**
 * Every kind of event the emulator models.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export type EventInput =
  | SubscribeInput
  | UnsubscribeInput
  | ScanInput
  | LocationEventInput
  | ClickInput
  | ViewInput
  | ScancodeInput
  | PicsInput
  | LocationSelectInput
  | TemplateSendJobFinishInput

/**
 * What {@link Emulator.send} takes: a string (a text message), one of the typed inputs, or a
 * {@link CustomPushInput}.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export type PushInput =
  | string
  | TextInput
  | ImageInput
  | VoiceInput
  | VideoInput
  | LocationInput
  | LinkInput
  | EventInput
  | CustomPushInput

/**
 * The `Event` values of {@link EventInput}.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export type EmulatedEvent = EventInput['event']

/**
 * A push ready to be sealed: its XML elements in order, and the header values the judge needs.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface BuiltPush {
  toUserName: string
  fromUserName: string
  createTime: number
  msgType: string
  event?: string
  /** Present for ordinary messages: the 64-bit id as a decimal string. */
  msgId?: string
  /** The elements of the `<xml>` document, in order. */
  elements: ReadonlyArray<readonly [string, XmlValue]>
}

/**
 * The defaults {@link buildPush} fills in.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface PushDefaults {
  fromUserName: string
  toUserName: string
  /** Clock in milliseconds. */
  now: () => number
}

const MIN_MSG_ID = 10n ** 18n
const MAX_MSG_ID = 2n ** 63n - 1n

/**
 * A random MsgId that looks like WeChat's: a 19-digit decimal below 2^63, as a string.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export function randomMsgId(): string {
  const n = randomBytes(8).readBigUInt64BE(0) % (MAX_MSG_ID - MIN_MSG_ID)
  return String(MIN_MSG_ID + n)
}

/**
 * A random OpenID of WeChat's shape: `o` and 27 base64url characters.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export function randomOpenId(): string {
  return 'o' + randomBytes(21).toString('base64url').slice(0, 27)
}

/**
 * A random original id of WeChat's shape: `gh_` and 12 hex digits.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export function randomOriginalId(): string {
  return 'gh_' + randomBytes(6).toString('hex')
}

/**
 * A 64-bit integer written bare, as WeChat writes `<MsgId>` (servers that read it with a regex
 * expect digits, not CDATA). `XmlBuilder` writes only safe integers bare, so this value renders
 * itself; it holds nothing but decimal digits, so nothing can be injected.
 */
class BareInteger extends XmlBuilder {
  readonly #digits: string
  constructor(digits: string) {
    super()
    if (!/^\d{1,20}$/.test(digits)) throw new WxMpError('INVALID_CONFIG', `A MsgId must be decimal digits, got ${JSON.stringify(digits)}.`)
    this.#digits = digits
  }
  override toString(): string {
    return this.#digits
  }
}

function randomMediaId(): string {
  return randomBytes(48).toString('base64url')
}

function randomMd5(): string {
  return randomBytes(16).toString('hex')
}

function text(value: number | string): string {
  return String(value)
}

function requireField(value: unknown, what: string): void {
  if (value === undefined || value === null || value === '') {
    throw new WxMpError('INVALID_CONFIG', `${what} is required for this kind of push.`)
  }
}

type Elements = Array<readonly [string, XmlValue]>

/** The kind-specific elements of a typed input (after MsgType / Event). */
function kindElements(input: Exclude<PushInput, string | CustomPushInput>): Elements {
  switch (input.msgType) {
    case 'text':
      if (typeof input.content !== 'string') throw new WxMpError('INVALID_CONFIG', 'A text push needs content: a string.')
      return [['Content', input.content]]
    case 'image':
      requireField(input.picUrl, 'image picUrl')
      return [['PicUrl', input.picUrl], ['MediaId', input.mediaId ?? randomMediaId()]]
    case 'voice': {
      const els: Elements = [['MediaId', input.mediaId ?? randomMediaId()], ['Format', input.format ?? 'amr']]
      if (input.recognition !== undefined) els.push(['Recognition', input.recognition])
      return els
    }
    case 'video':
    case 'shortvideo':
      return [['MediaId', input.mediaId ?? randomMediaId()], ['ThumbMediaId', input.thumbMediaId ?? randomMediaId()]]
    case 'location':
      requireField(input.locationX, 'location locationX (latitude)')
      requireField(input.locationY, 'location locationY (longitude)')
      return [
        ['Location_X', text(input.locationX)],
        ['Location_Y', text(input.locationY)],
        ['Scale', text(input.scale ?? 15)],
        ['Label', input.label ?? ''],
      ]
    case 'link':
      requireField(input.url, 'link url')
      return [['Title', input.title ?? input.url], ['Description', input.description ?? ''], ['Url', input.url]]
    case 'event':
      return eventElements(input)
  }
}

function eventElements(input: EventInput): Elements {
  const els: Elements = [['Event', input.event]]
  switch (input.event) {
    case 'subscribe':
      // WeChat sends an empty EventKey for an ordinary subscribe.
      els.push(['EventKey', input.eventKey ?? ''])
      if (input.ticket !== undefined) els.push(['Ticket', input.ticket])
      return els
    case 'unsubscribe':
      els.push(['EventKey', ''])
      return els
    case 'SCAN':
      requireField(input.eventKey, 'SCAN eventKey (the QR scene)')
      els.push(['EventKey', input.eventKey])
      if (input.ticket !== undefined) els.push(['Ticket', input.ticket])
      return els
    case 'LOCATION':
      requireField(input.latitude, 'LOCATION latitude')
      requireField(input.longitude, 'LOCATION longitude')
      els.push(['Latitude', text(input.latitude)], ['Longitude', text(input.longitude)], ['Precision', text(input.precision ?? '65.000000')])
      return els
    case 'CLICK':
      requireField(input.eventKey, 'CLICK eventKey (the button key)')
      els.push(['EventKey', input.eventKey])
      return els
    case 'VIEW':
    case 'view_miniprogram':
      requireField(input.eventKey, `${input.event} eventKey`)
      els.push(['EventKey', input.eventKey])
      if (input.menuId !== undefined) els.push(['MenuId', input.menuId])
      return els
    case 'scancode_push':
    case 'scancode_waitmsg':
      requireField(input.eventKey, `${input.event} eventKey (the button key)`)
      els.push(
        ['EventKey', input.eventKey],
        ['ScanCodeInfo', new XmlBuilder().add('ScanType', input.scanType ?? 'qrcode').add('ScanResult', input.scanResult ?? '')],
      )
      return els
    case 'pic_sysphoto':
    case 'pic_photo_or_album':
    case 'pic_weixin': {
      requireField(input.eventKey, `${input.event} eventKey (the button key)`)
      const sums = input.picMd5Sums ?? [randomMd5()]
      const list = new XmlBuilder()
      for (const sum of sums) list.add('item', new XmlBuilder().add('PicMd5Sum', sum))
      els.push(['EventKey', input.eventKey], ['SendPicsInfo', new XmlBuilder().add('Count', sums.length).add('PicList', list)])
      return els
    }
    case 'location_select':
      requireField(input.eventKey, 'location_select eventKey (the button key)')
      els.push(
        ['EventKey', input.eventKey],
        [
          'SendLocationInfo',
          new XmlBuilder()
            .add('Location_X', text(input.locationX))
            .add('Location_Y', text(input.locationY))
            .add('Scale', text(input.scale ?? 15))
            .add('Label', input.label ?? '')
            .add('Poiname', input.poiname),
        ],
      )
      return els
    case 'TEMPLATESENDJOBFINISH':
      els.push(['MsgID', new BareInteger(input.msgId ?? randomMsgId())], ['Status', input.status ?? 'success'])
      return els
  }
}

/**
 * Builds the push WeChat would send for `input`, with the header (`ToUserName`, `FromUserName`,
 * `CreateTime` in seconds, `MsgType`) first and `MsgId` last, as WeChat orders them. Every text
 * goes through the core's CDATA-safe {@link XmlBuilder}.
 *
 * @throws {WxMpError} `INVALID_CONFIG` when a required field is missing.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export function buildPush(input: PushInput, defaults: PushDefaults): BuiltPush {
  const typed = typeof input === 'string' ? ({ msgType: 'text', content: input } satisfies TextInput) : input
  if (typed === null || typeof typed !== 'object' || typeof typed.msgType !== 'string' || typed.msgType === '') {
    throw new WxMpError('INVALID_CONFIG', 'A push needs a msgType (text, image, voice, video, shortvideo, location, link or event).')
  }
  const toUserName = typed.toUserName ?? defaults.toUserName
  const fromUserName = typed.fromUserName ?? defaults.fromUserName
  const createTime = typed.createTime ?? Math.floor(defaults.now() / 1000)
  const elements: Elements = [
    ['ToUserName', toUserName],
    ['FromUserName', fromUserName],
    ['CreateTime', createTime],
    ['MsgType', typed.msgType],
  ]
  let msgId: string | undefined
  let event: string | undefined
  if ('custom' in typed) {
    if (typed.event !== undefined) elements.push(['Event', typed.event])
    event = typed.event
    for (const [tag, value] of Object.entries(typed.elements ?? {})) elements.push([tag, value])
  } else {
    elements.push(...kindElements(typed))
    if (typed.msgType === 'event') event = typed.event
    else {
      msgId = typed.msgId ?? randomMsgId()
      elements.push(['MsgId', new BareInteger(msgId)])
    }
  }
  for (const [tag, value] of Object.entries(typed.extra ?? {})) elements.push([tag, value])
  return {
    toUserName,
    fromUserName,
    createTime,
    msgType: typed.msgType,
    ...(event === undefined ? {} : { event }),
    ...(msgId === undefined ? {} : { msgId }),
    elements,
  }
}

/**
 * Writes elements into an `<xml>` document through {@link XmlBuilder}.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export function pushDocument(elements: BuiltPush['elements']): string {
  const xml = new XmlBuilder()
  for (const [tag, value] of elements) xml.add(tag, value)
  return xml.toDocument()
}
