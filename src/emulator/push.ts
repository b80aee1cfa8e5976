/**
 * The inputs of {@link Emulator.send}: every ordinary message kind and every event of the core's
 * catalogue, with the fields each needs and realistic defaults for what WeChat fills in itself
 * (MediaId, MsgId, CreateTime, …). The push itself is written by the core's `writeMessage`, so
 * the emulator sends exactly what the kit reads.
 *
 * Field names are the camelCase of the XML elements, as in the core's `Message` types
 * (`Location_X` → `locationX`), so what you send reads like what your handler receives.
 *
 * Official references, by input:
 * - TextInput … LinkInput (ordinary messages):
 *   https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 * - SubscribeInput, UnsubscribeInput, ScanInput, LocationEventInput, ClickInput, ViewInput (VIEW):
 *   https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 * - ViewInput (view_miniprogram), ScancodeInput, PicsInput, LocationSelectInput:
 *   https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Custom_Menu_Push_Events.html
 * - TemplateSendJobFinishInput:
 *   https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
 * - CatalogueEventInput: the page of each event is listed in the core's catalogue (`messages.ts`).
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { WxMpError, catalogue, writeMessage, type FieldTable, type Fields, type KnownEvent, type MessageToWrite, type XmlElement } from '../core/index.js'

/**
 * Fields any push input may override; defaults come from the emulator.
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
 */
export interface TextInput extends WithMsgId {
  msgType: 'text'
  content: string
}
/**
 * An image message; `picUrl` is what WeChat's CDN link would be.
 */
export interface ImageInput extends WithMsgId {
  msgType: 'image'
  picUrl: string
  mediaId?: string
}
/**
 * A voice message; `recognition` is the speech-to-text result (when the account enabled it).
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
 */
export interface VideoInput extends WithMsgId {
  msgType: 'video' | 'shortvideo'
  mediaId?: string
  thumbMediaId?: string
}
/**
 * A location message: `locationX` is the latitude, `locationY` the longitude (WeChat's names).
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
 */
export interface LinkInput extends WithMsgId {
  msgType: 'link'
  url: string
  title?: string
  description?: string
}

/**
 * `subscribe`: `eventKey` `qrscene_…` and `ticket` for a subscribe through a parametric QR code.
 */
export interface SubscribeInput extends PushOverrides {
  msgType: 'event'
  event: 'subscribe'
  eventKey?: string
  ticket?: string
}
/**
 * `unsubscribe`.
 */
export interface UnsubscribeInput extends PushOverrides {
  msgType: 'event'
  event: 'unsubscribe'
}
/**
 * `SCAN`: a subscriber scanned a parametric QR code; `eventKey` is the scene.
 */
export interface ScanInput extends PushOverrides {
  msgType: 'event'
  event: 'SCAN'
  eventKey: string
  ticket?: string
}
/**
 * `LOCATION`: the periodic location report of a user who allowed it.
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
 */
export interface ClickInput extends PushOverrides {
  msgType: 'event'
  event: 'CLICK'
  eventKey: string
}
/**
 * `VIEW` (a link button: `eventKey` is the URL) and `view_miniprogram` (the page path).
 */
export interface ViewInput extends PushOverrides {
  msgType: 'event'
  event: 'VIEW' | 'view_miniprogram'
  eventKey: string
  menuId?: string
}
/**
 * `scancode_push` / `scancode_waitmsg`: the menu's scanner read `scanResult`.
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
 */
export interface TemplateSendJobFinishInput extends PushOverrides {
  msgType: 'event'
  event: 'TEMPLATESENDJOBFINISH'
  msgId?: string
  /** Default `success`. */
  status?: string
}
/**
 * Any other push, element by element after the common header (`{ custom: true, msgType:
 * 'hologram', elements: { HoloUrl: '…' } }`): written exactly as given, for kinds the catalogue
 * does not know (yet).
 */
export interface CustomPushInput extends PushOverrides {
  custom: true
  msgType: string
  event?: string
  elements?: Readonly<Record<string, string | number>>
}

/** The events with an input of their own above. */
type FriendlyEventInput =
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

type OtherEvent = Exclude<KnownEvent, FriendlyEventInput['event']>

/**
 * Every other event of the catalogue (MASSSENDJOBFINISH, PUBLISHJOBFINISH, subscribe_msg_*,
 * kf_*_session), in the catalogue's own shape: any field may be given, the ones WeChat always
 * sends get a realistic default (`{ msgType: 'event', event: 'kf_create_session', kfAccount:
 * 'kf2001@gh_…' }`).
 */
export type CatalogueEventInput = {
  [E in OtherEvent]: PushOverrides & { msgType: 'event'; event: E } & Partial<Fields<(typeof catalogue)['events'][E]>>
}[OtherEvent]

/** Every kind of event the emulator sends: all the events of the core's catalogue. */
export type EventInput = FriendlyEventInput | CatalogueEventInput

/**
 * What {@link Emulator.send} takes: a string (a text message), one of the typed inputs, or a
 * {@link CustomPushInput}.
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

/** The `Event` values of {@link EventInput}: every event of the catalogue. */
export type EmulatedEvent = EventInput['event']

/** A push ready to be sealed: the message, its XML, and the header values the judge needs. */
export interface BuiltPush {
  toUserName: string
  fromUserName: string
  createTime: number
  msgType: string
  event?: string
  /** Present for ordinary messages: the 64-bit id as a decimal string. */
  msgId?: string
  /** The message as the core writes it. */
  message: MessageToWrite
  /** The plaintext `<xml>` document (`writeMessage(message)`). */
  xml: string
}

/** The defaults {@link buildPush} fills in. */
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
 */
export function randomMsgId(): string {
  const n = randomBytes(8).readBigUInt64BE(0) % (MAX_MSG_ID - MIN_MSG_ID)
  return String(MIN_MSG_ID + n)
}

/**
 * A random OpenID of WeChat's shape: `o` and 27 base64url characters.
 */
export function randomOpenId(): string {
  return 'o' + randomBytes(21).toString('base64url').slice(0, 27)
}

/**
 * A random original id of WeChat's shape: `gh_` and 12 hex digits.
 */
export function randomOriginalId(): string {
  return 'gh_' + randomBytes(6).toString('hex')
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

function requireMsgId(value: string): string {
  if (!/^\d{1,20}$/.test(value)) throw new WxMpError('INVALID_CONFIG', `A MsgId must be decimal digits, got ${JSON.stringify(value)}.`)
  return value
}

type Friendly = Exclude<PushInput, string | CustomPushInput | CatalogueEventInput>

/** The kind-specific fields of a typed input, in the catalogue's shape. */
function kindFields(input: Friendly): Record<string, unknown> {
  switch (input.msgType) {
    case 'text':
      if (typeof input.content !== 'string') throw new WxMpError('INVALID_CONFIG', 'A text push needs content: a string.')
      return { content: input.content }
    case 'image':
      requireField(input.picUrl, 'image picUrl')
      return { picUrl: input.picUrl, mediaId: input.mediaId ?? randomMediaId() }
    case 'voice':
      return {
        mediaId: input.mediaId ?? randomMediaId(),
        format: input.format ?? 'amr',
        ...(input.recognition === undefined ? {} : { recognition: input.recognition }),
      }
    case 'video':
    case 'shortvideo':
      return { mediaId: input.mediaId ?? randomMediaId(), thumbMediaId: input.thumbMediaId ?? randomMediaId() }
    case 'location':
      requireField(input.locationX, 'location locationX (latitude)')
      requireField(input.locationY, 'location locationY (longitude)')
      return { locationX: text(input.locationX), locationY: text(input.locationY), scale: text(input.scale ?? 15), label: input.label ?? '' }
    case 'link':
      requireField(input.url, 'link url')
      return { title: input.title ?? input.url, description: input.description ?? '', url: input.url }
    case 'event':
      return eventFields(input)
  }
}

function eventFields(input: FriendlyEventInput): Record<string, unknown> {
  switch (input.event) {
    case 'subscribe':
      // WeChat sends an empty EventKey for an ordinary subscribe.
      return { eventKey: input.eventKey ?? '', ...(input.ticket === undefined ? {} : { ticket: input.ticket }) }
    case 'unsubscribe':
      return { eventKey: '' }
    case 'SCAN':
      requireField(input.eventKey, 'SCAN eventKey (the QR scene)')
      return { eventKey: input.eventKey, ...(input.ticket === undefined ? {} : { ticket: input.ticket }) }
    case 'LOCATION':
      requireField(input.latitude, 'LOCATION latitude')
      requireField(input.longitude, 'LOCATION longitude')
      return { latitude: text(input.latitude), longitude: text(input.longitude), precision: text(input.precision ?? '65.000000') }
    case 'CLICK':
      requireField(input.eventKey, 'CLICK eventKey (the button key)')
      return { eventKey: input.eventKey }
    case 'VIEW':
    case 'view_miniprogram':
      requireField(input.eventKey, `${input.event} eventKey`)
      return { eventKey: input.eventKey, ...(input.menuId === undefined ? {} : { menuId: input.menuId }) }
    case 'scancode_push':
    case 'scancode_waitmsg':
      requireField(input.eventKey, `${input.event} eventKey (the button key)`)
      return { eventKey: input.eventKey, scanCodeInfo: { scanType: input.scanType ?? 'qrcode', scanResult: input.scanResult ?? '' } }
    case 'pic_sysphoto':
    case 'pic_photo_or_album':
    case 'pic_weixin': {
      requireField(input.eventKey, `${input.event} eventKey (the button key)`)
      const sums = input.picMd5Sums ?? [randomMd5()]
      return { eventKey: input.eventKey, sendPicsInfo: { count: sums.length, picList: sums.map((picMd5Sum) => ({ picMd5Sum })) } }
    }
    case 'location_select':
      requireField(input.eventKey, 'location_select eventKey (the button key)')
      return {
        eventKey: input.eventKey,
        sendLocationInfo: {
          locationX: text(input.locationX),
          locationY: text(input.locationY),
          scale: text(input.scale ?? 15),
          label: input.label ?? '',
          ...(input.poiname === undefined ? {} : { poiname: input.poiname }),
        },
      }
    case 'TEMPLATESENDJOBFINISH':
      return { msgId: requireMsgId(input.msgId ?? randomMsgId()), status: input.status ?? 'success' }
  }
}

/**
 * What WeChat always sends for the events of {@link CatalogueEventInput}, as the official samples
 * show it; a field the input gives replaces its default.
 */
const catalogueEventDefaults: { [E in OtherEvent]: () => Record<string, unknown> } = {
  MASSSENDJOBFINISH: () => ({ msgId: randomMsgId(), status: 'send success', totalCount: 1, filterCount: 1, sentCount: 1, errorCount: 0 }),
  PUBLISHJOBFINISH: () => ({ publishEventInfo: { publishId: String(randomBytes(4).readUInt32BE(0)), publishStatus: '0' } }),
  subscribe_msg_popup_event: () => ({ subscribeMsgPopupEvent: [{ templateId: 'TEMPLATE_ID', subscribeStatusString: 'accept', popupScene: '0' }] }),
  subscribe_msg_change_event: () => ({ subscribeMsgChangeEvent: [{ templateId: 'TEMPLATE_ID', subscribeStatusString: 'reject' }] }),
  subscribe_msg_sent_event: () => ({ subscribeMsgSentEvent: [{ templateId: 'TEMPLATE_ID', msgId: randomMsgId(), errorCode: '0', errorStatus: 'success' }] }),
  kf_create_session: () => ({ kfAccount: 'test1@test' }),
  kf_close_session: () => ({ kfAccount: 'test1@test' }),
  kf_switch_session: () => ({ fromKfAccount: 'test1@test', toKfAccount: 'test2@test' }),
}

const overrideNames = new Set(['msgType', 'event', 'fromUserName', 'toUserName', 'createTime', 'extra', 'custom', 'elements'])

/**
 * Splits `extra` elements for a known kind: an element the catalogue has a top-level text field
 * for (`KfAccount`, `EventKey`, `MsgID`) sets that field (over the input's own value); any other
 * element goes to `raw`, written after the kind's elements as it is.
 */
function splitExtra(table: FieldTable, extra: PushOverrides['extra']): { fields: Record<string, string>; raw?: XmlElement } {
  if (extra === undefined) return { fields: {} }
  const fields: Record<string, string> = {}
  const raw: XmlElement = {}
  for (const [tag, value] of Object.entries(extra)) {
    const name = Object.keys(table).find((n) => {
      const spec = table[n]!
      return spec.kind === 'text' && (spec.tag === tag || spec.aliases?.includes(tag))
    })
    if (name !== undefined) fields[name] = String(value)
    else raw[tag] = String(value)
  }
  return { fields, raw }
}

/**
 * Builds the push WeChat would send for `input` and writes it with the core's `writeMessage`:
 * the header (`ToUserName`, `FromUserName`, `CreateTime` in seconds, `MsgType`, `Event`) first,
 * then the kind's elements in WeChat's order.
 *
 * @throws {WxMpError} `INVALID_CONFIG` when a required field is missing.
 */
export function buildPush(input: PushInput, defaults: PushDefaults): BuiltPush {
  const typed = typeof input === 'string' ? ({ msgType: 'text', content: input } satisfies TextInput) : input
  if (typed === null || typeof typed !== 'object' || typeof typed.msgType !== 'string' || typed.msgType === '') {
    throw new WxMpError('INVALID_CONFIG', 'A push needs a msgType (text, image, voice, video, shortvideo, location, link or event).')
  }
  const header = {
    toUserName: typed.toUserName ?? defaults.toUserName,
    fromUserName: typed.fromUserName ?? defaults.fromUserName,
    createTime: typed.createTime ?? Math.floor(defaults.now() / 1000),
  }
  let message: MessageToWrite
  let msgId: string | undefined
  if ('custom' in typed) {
    // Written element by element, as an unknown kind: the writer then takes raw exactly.
    const raw: XmlElement = {}
    for (const [tag, value] of Object.entries({ ...typed.elements, ...typed.extra })) raw[tag] = String(value)
    message =
      typed.event !== undefined
        ? { ...header, msgType: 'event', event: 'unknown', originalEvent: typed.event, raw }
        : { ...header, msgType: 'unknown', originalMsgType: typed.msgType, raw }
  } else {
    const isEvent = typed.msgType === 'event'
    const kind = isEvent ? (typed as EventInput).event : typed.msgType
    const tables = (isEvent ? catalogue.events : catalogue.messages) as Record<string, FieldTable>
    if (!Object.hasOwn(tables, kind)) {
      throw new WxMpError('INVALID_CONFIG', `Unknown ${isEvent ? 'event' : 'msgType'} ${JSON.stringify(kind)}: send it as { custom: true, … } with its elements.`)
    }
    const extra = splitExtra(tables[kind]!, typed.extra)
    const given = { ...typed, ...extra.fields } as typeof typed
    let fields: Record<string, unknown>
    if (Object.hasOwn(catalogueEventDefaults, kind)) {
      fields = catalogueEventDefaults[kind as OtherEvent]()
      for (const [name, value] of Object.entries(given)) if (!overrideNames.has(name) && value !== undefined) fields[name] = value
    } else {
      fields = { ...kindFields(given as Friendly), ...extra.fields }
      if (!isEvent) {
        msgId = requireMsgId((given as TextInput).msgId ?? randomMsgId())
        fields['msgId'] = msgId
      }
    }
    const raw = extra.raw
    message = { ...header, ...fields, msgType: typed.msgType, ...(isEvent ? { event: kind } : {}), ...(raw ? { raw } : {}) } as MessageToWrite
  }
  const event = typed.msgType === 'event' ? (typed as EventInput | CustomPushInput).event : undefined
  return {
    ...header,
    msgType: typed.msgType,
    ...(event === undefined ? {} : { event }),
    ...(msgId === undefined ? {} : { msgId }),
    message,
    xml: writeMessage(message),
  }
}
