/**
 * The catalogue of everything WeChat pushes to a 公众号 server: ordinary messages and events.
 *
 * One table, {@link catalogue}, drives the TypeScript types ({@link Message} and friends), the
 * reader ({@link parseMessage} in `parse.ts`) and the writer ({@link writeMessage} in `write.ts`):
 * each field names the XML element it comes from, its kind, whether it may be absent, and what
 * the writer needs besides (the order of the elements, other spellings, values WeChat writes
 * without CDATA). Field names are the camelCase of the XML element (`FromUserName` →
 * `fromUserName`, `Location_X` → `locationX`, `MsgID` → `msgId`).
 *
 * Values stay strings unless they are counts or times (`createTime` is a number of seconds);
 * `msgId` is a string because it is a 64-bit integer that a JS number cannot hold exactly.
 *
 * The types say what WeChat documents as always sent. The reader requires only what the kit
 * cannot work without (`ToUserName`, `FromUserName`, `MsgType`, and `Event` for events): any other
 * element a push lacks is absent from the object (and from `raw`), and a missing `CreateTime`
 * reads as `0`, so that one odd push is answered instead of retried and shown as a failure.
 *
 * Official references, by kind:
 * - ordinary messages (text … link):
 *   https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 * - subscribe, unsubscribe, SCAN, LOCATION, CLICK, VIEW:
 *   https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 * - view_miniprogram, scancode_*, pic_*, location_select:
 *   https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Custom_Menu_Push_Events.html
 * - TEMPLATESENDJOBFINISH:
 *   https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
 * - MASSSENDJOBFINISH:
 *   https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
 * - PUBLISHJOBFINISH: https://developers.weixin.qq.com/doc/offiaccount/Publish/Callback_on_finish.html
 * - subscribe_msg_*: https://developers.weixin.qq.com/doc/offiaccount/Subscription_Messages/api.html
 * - kf_*_session: https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Session_control.html
 *
 * @module
 */
import type { XmlElement } from './xml.js'

// ---------------------------------------------------------------------------------------------
// Field specifications

/** A text field read from element `tag`. */
export interface TextField<Tag extends string = string, Optional extends boolean = boolean> {
  readonly kind: 'text'
  readonly tag: Tag
  readonly optional: Optional
  /**
   * Other spellings WeChat uses for the same element (`MsgID` for `MsgId`): read like `tag`; the
   * writer keeps the spelling `raw` holds, else writes `tag`.
   */
  readonly aliases?: readonly string[]
  /**
   * WeChat writes this value without CDATA (ids, coordinates, codes): the writer does too when the
   * value is a decimal number, and wraps anything else in CDATA. Reading is the same either way.
   */
  readonly bare?: boolean
}
/** Extra facts of a {@link TextField}. */
export interface TextFieldFacts {
  aliases?: readonly string[]
  bare?: boolean
}
/** An integer field (counts, `CreateTime`). */
export interface IntegerField<Tag extends string = string, Optional extends boolean = boolean> {
  readonly kind: 'integer'
  readonly tag: Tag
  readonly optional: Optional
}
/** A nested element with named children. */
export interface GroupField<F extends FieldTable = FieldTable, Optional extends boolean = boolean> {
  readonly kind: 'group'
  readonly tag: string
  readonly fields: F
  readonly optional: Optional
}
/**
 * A list: `path` is `Wrapper.item` for `<Wrapper><item/><item/></Wrapper>`, or just `item` for
 * repeated elements directly inside the parent. Always an array, even with one entry.
 */
export interface ListField<F extends FieldTable = FieldTable, Optional extends boolean = boolean> {
  readonly kind: 'list'
  readonly path: string
  readonly fields: F
  readonly optional: Optional
}
/** A list of texts from repeated elements (`<fail_idx>1</fail_idx><fail_idx>2</fail_idx>`). */
export interface TextListField<Optional extends boolean = boolean> {
  readonly kind: 'textList'
  readonly tag: string
  readonly optional: Optional
  /** As {@link TextField.bare}. */
  readonly bare?: boolean
}

/** Any field specification. */
export type FieldSpec = TextField | IntegerField | GroupField | ListField | TextListField
/** Fields by their camelCase name. */
export type FieldTable = { readonly [name: string]: FieldSpec }

/** Builders for field specifications (used by the catalogue; exported for extension tables). */
export const field = {
  text: <T extends string>(tag: T, facts: TextFieldFacts = {}): TextField<T, false> => ({ kind: 'text', tag, optional: false, ...facts }),
  optionalText: <T extends string>(tag: T, facts: TextFieldFacts = {}): TextField<T, true> => ({ kind: 'text', tag, optional: true, ...facts }),
  integer: <T extends string>(tag: T): IntegerField<T, false> => ({ kind: 'integer', tag, optional: false }),
  optionalInteger: <T extends string>(tag: T): IntegerField<T, true> => ({ kind: 'integer', tag, optional: true }),
  group: <F extends FieldTable>(tag: string, fields: F): GroupField<F, false> => ({ kind: 'group', tag, fields, optional: false }),
  optionalGroup: <F extends FieldTable>(tag: string, fields: F): GroupField<F, true> => ({ kind: 'group', tag, fields, optional: true }),
  list: <F extends FieldTable>(path: string, fields: F): ListField<F, false> => ({ kind: 'list', path, fields, optional: false }),
  optionalList: <F extends FieldTable>(path: string, fields: F): ListField<F, true> => ({ kind: 'list', path, fields, optional: true }),
  optionalTextList: (tag: string, facts: { bare?: boolean } = {}): TextListField<true> => ({ kind: 'textList', tag, optional: true, ...facts }),
} as const

const f = field

// ---------------------------------------------------------------------------------------------
// The catalogue

/** Fields every push carries (the writer writes them first, in this order, then `MsgType`). */
export const commonFields = {
  toUserName: f.text('ToUserName'),
  fromUserName: f.text('FromUserName'),
  createTime: f.integer('CreateTime'),
} as const satisfies FieldTable

/** A decimal value WeChat writes without CDATA: ids, coordinates, codes. */
const bare = { bare: true } as const
/** Ordinary messages spell it `MsgId`; some published pushes spell it `MsgID`: both are read. */
const msgId = f.text('MsgId', { aliases: ['MsgID'], bare: true })
/** Job-result events spell it `MsgID`; `MsgId` is read too. */
const jobMsgId = f.text('MsgID', { aliases: ['MsgId'], bare: true })

/** Fields of messages that come from an article (comment, appreciation): absent otherwise. */
const articleSource = {
  msgDataId: f.optionalText('MsgDataId', bare),
  idx: f.optionalText('Idx', bare),
} as const satisfies FieldTable

const sendPicsInfo = f.group('SendPicsInfo', {
  count: f.integer('Count'),
  picList: f.list('PicList.item', { picMd5Sum: f.text('PicMd5Sum') }),
})

const scanCodeInfo = f.group('ScanCodeInfo', {
  scanType: f.text('ScanType'),
  scanResult: f.text('ScanResult'),
})

const menuKey = { eventKey: f.text('EventKey') } as const satisfies FieldTable

/**
 * The catalogue of pushes: ordinary messages by `MsgType`, events by `Event`.
 *
 * Keys are the values exactly as WeChat sends them (`SCAN`, `view_miniprogram`, …). The order of
 * the fields is the order of WeChat's elements: {@link writeMessage} writes them so.
 */
export const catalogue = {
  messages: {
    text: {
      content: f.text('Content'),
      msgId,
      bizmsgmenuid: f.optionalText('bizmsgmenuid', bare),
      ...articleSource,
    },
    image: { picUrl: f.text('PicUrl'), mediaId: f.text('MediaId'), msgId, ...articleSource },
    voice: {
      mediaId: f.text('MediaId'),
      format: f.text('Format'),
      recognition: f.optionalText('Recognition'),
      msgId,
      mediaId16K: f.optionalText('MediaId16K'),
      ...articleSource,
    },
    video: { mediaId: f.text('MediaId'), thumbMediaId: f.text('ThumbMediaId'), msgId, ...articleSource },
    shortvideo: { mediaId: f.text('MediaId'), thumbMediaId: f.text('ThumbMediaId'), msgId, ...articleSource },
    location: {
      locationX: f.text('Location_X', bare),
      locationY: f.text('Location_Y', bare),
      scale: f.text('Scale', bare),
      label: f.text('Label'),
      msgId,
      ...articleSource,
    },
    link: {
      title: f.text('Title'),
      description: f.text('Description'),
      url: f.text('Url'),
      msgId,
      ...articleSource,
    },
  },
  events: {
    subscribe: { eventKey: f.optionalText('EventKey'), ticket: f.optionalText('Ticket') },
    unsubscribe: { eventKey: f.optionalText('EventKey') },
    SCAN: { eventKey: f.text('EventKey'), ticket: f.optionalText('Ticket') },
    LOCATION: { latitude: f.text('Latitude', bare), longitude: f.text('Longitude', bare), precision: f.text('Precision', bare) },
    CLICK: { ...menuKey },
    VIEW: { ...menuKey, menuId: f.optionalText('MenuId', bare) },
    view_miniprogram: { ...menuKey, menuId: f.optionalText('MenuId', bare) },
    scancode_push: { ...menuKey, scanCodeInfo },
    scancode_waitmsg: { ...menuKey, scanCodeInfo },
    pic_sysphoto: { ...menuKey, sendPicsInfo },
    pic_photo_or_album: { ...menuKey, sendPicsInfo },
    pic_weixin: { ...menuKey, sendPicsInfo },
    location_select: {
      ...menuKey,
      sendLocationInfo: f.group('SendLocationInfo', {
        locationX: f.text('Location_X'),
        locationY: f.text('Location_Y'),
        scale: f.text('Scale'),
        label: f.optionalText('Label'),
        poiname: f.optionalText('Poiname'),
      }),
    },
    TEMPLATESENDJOBFINISH: { msgId: jobMsgId, status: f.text('Status') },
    MASSSENDJOBFINISH: {
      msgId: jobMsgId,
      status: f.text('Status'),
      totalCount: f.optionalInteger('TotalCount'),
      filterCount: f.optionalInteger('FilterCount'),
      sentCount: f.optionalInteger('SentCount'),
      errorCount: f.optionalInteger('ErrorCount'),
      copyrightCheckResult: f.optionalGroup('CopyrightCheckResult', {
        count: f.optionalInteger('Count'),
        resultList: f.optionalList('ResultList.item', {
          articleIdx: f.optionalText('ArticleIdx', bare),
          userDeclareState: f.optionalText('UserDeclareState', bare),
          auditState: f.optionalText('AuditState', bare),
          originalArticleUrl: f.optionalText('OriginalArticleUrl'),
          originalArticleType: f.optionalText('OriginalArticleType', bare),
          canReprint: f.optionalText('CanReprint', bare),
          needReplaceContent: f.optionalText('NeedReplaceContent', bare),
          needShowReprintSource: f.optionalText('NeedShowReprintSource', bare),
        }),
        checkState: f.optionalText('CheckState', bare),
      }),
      articleUrlResult: f.optionalGroup('ArticleUrlResult', {
        count: f.optionalInteger('Count'),
        resultList: f.optionalList('ResultList.item', {
          articleIdx: f.optionalText('ArticleIdx', bare),
          articleUrl: f.optionalText('ArticleUrl'),
        }),
      }),
    },
    PUBLISHJOBFINISH: {
      publishEventInfo: f.group('PublishEventInfo', {
        publishId: f.text('publish_id', bare),
        publishStatus: f.text('publish_status', bare),
        articleId: f.optionalText('article_id'),
        articleDetail: f.optionalGroup('article_detail', {
          count: f.optionalInteger('count'),
          item: f.optionalList('item', { idx: f.text('idx', bare), articleUrl: f.text('article_url') }),
        }),
        failIdx: f.optionalTextList('fail_idx', bare),
      }),
    },
    subscribe_msg_popup_event: {
      subscribeMsgPopupEvent: f.list('SubscribeMsgPopupEvent.List', {
        templateId: f.text('TemplateId'),
        subscribeStatusString: f.text('SubscribeStatusString'),
        popupScene: f.optionalText('PopupScene', bare),
      }),
    },
    subscribe_msg_change_event: {
      subscribeMsgChangeEvent: f.list('SubscribeMsgChangeEvent.List', {
        templateId: f.text('TemplateId'),
        subscribeStatusString: f.text('SubscribeStatusString'),
      }),
    },
    subscribe_msg_sent_event: {
      subscribeMsgSentEvent: f.list('SubscribeMsgSentEvent.List', {
        templateId: f.text('TemplateId'),
        msgId: jobMsgId,
        errorCode: f.text('ErrorCode', bare),
        errorStatus: f.text('ErrorStatus'),
      }),
    },
    kf_create_session: { kfAccount: f.text('KfAccount') },
    kf_close_session: { kfAccount: f.text('KfAccount') },
    kf_switch_session: { fromKfAccount: f.text('FromKfAccount'), toKfAccount: f.text('ToKfAccount') },
  },
} as const satisfies { messages: Record<string, FieldTable>; events: Record<string, FieldTable> }

// ---------------------------------------------------------------------------------------------
// Types derived from the catalogue

type ValueOf<F> = F extends TextField
  ? string
  : F extends IntegerField
    ? number
    : F extends GroupField<infer G>
      ? Fields<G>
      : F extends ListField<infer G>
        ? Fields<G>[]
        : F extends TextListField
          ? string[]
          : never

type Simplify<T> = { [K in keyof T]: T[K] } & {}

/** The object type a field table describes: optional specs become optional properties. */
export type Fields<T extends FieldTable> = Simplify<
  { -readonly [K in keyof T as T[K]['optional'] extends true ? never : K]: ValueOf<T[K]> } & {
    -readonly [K in keyof T as T[K]['optional'] extends true ? K : never]?: ValueOf<T[K]>
  }
>

type Catalogue = typeof catalogue

/** `MsgType` values of ordinary messages the catalogue knows. */
export type KnownMsgType = keyof Catalogue['messages']
/** `Event` values the catalogue knows (exactly as WeChat sends them). */
export type KnownEvent = keyof Catalogue['events']

/** What every push carries, plus `raw`: the original XML values as strings, by element name. */
export interface PushBase {
  /** The account's original id (`gh_…`) the push was sent to. */
  toUserName: string
  /** The user's OpenID. */
  fromUserName: string
  /** When WeChat created the push, in seconds since the epoch. */
  createTime: number
  /** Every element of the push exactly as sent (strings, nested objects, arrays for lists). */
  raw: XmlElement
}

/** An ordinary message of kind `T` (`text`, `image`, …). */
export type MessageOf<T extends KnownMsgType> = Simplify<PushBase & { msgType: T } & Fields<Catalogue['messages'][T]>>

/** Extra fields derived from an event's own fields (never renames: the original stays too). */
interface DerivedEventFields {
  /** For a subscribe via a parametric QR code: the scene, `EventKey` without its `qrscene_` prefix. */
  subscribe: { qrScene?: string }
  /** The scene of the QR code scanned (the same as `eventKey`). */
  SCAN: { qrScene: string }
}

/** An event of kind `E` (`subscribe`, `CLICK`, …). */
export type EventOf<E extends KnownEvent> = Simplify<
  PushBase & { msgType: 'event'; event: E } & Fields<Catalogue['events'][E]> &
    (E extends keyof DerivedEventFields ? DerivedEventFields[E] : unknown)
>

/**
 * A message whose `MsgType` this version does not know. Its `msgType` is the literal `'unknown'`
 * (so that `msg.msgType === 'text'` narrows to {@link TextMessage} alone: TypeScript cannot
 * express "any string but the known ones"); the value WeChat sent is in `originalMsgType`, and
 * every element is on the object camelCased and in `raw` exactly as sent.
 */
export type UnknownMessage = PushBase & { msgType: 'unknown'; originalMsgType: string; [field: string]: unknown }
/**
 * An event whose `Event` this version does not know: `event` is the literal `'unknown'`, the value
 * WeChat sent is in `originalEvent`; elements are camelCased on the object and exactly as sent in `raw`.
 */
export type UnknownEvent = PushBase & { msgType: 'event'; event: 'unknown'; originalEvent: string; [field: string]: unknown }

/** Any ordinary (non-event) message, including unknown kinds. */
export type NormalMessage = { [T in KnownMsgType]: MessageOf<T> }[KnownMsgType] | UnknownMessage
/** Any event, including unknown kinds. */
export type WxEvent = { [E in KnownEvent]: EventOf<E> }[KnownEvent] | UnknownEvent
/** Anything WeChat pushes: discriminate on `msgType`, then on `event`. */
export type Message = NormalMessage | WxEvent

/** A push of a kind the catalogue knows (a message or an event). */
export type KnownMessage = { [T in KnownMsgType]: MessageOf<T> }[KnownMsgType] | { [E in KnownEvent]: EventOf<E> }[KnownEvent]

type Writable<M> = M extends unknown ? Omit<M, 'raw' | 'qrScene'> & { raw?: XmlElement; qrScene?: string } : never

/**
 * What {@link writeMessage} takes: any {@link Message}. For known kinds `raw` is optional (the typed
 * fields are written; elements of `raw` no field covers are written after them) and derived
 * fields (`qrScene`) are ignored; unknown kinds are written from their `raw`.
 */
export type MessageToWrite = Writable<KnownMessage> | UnknownMessage | UnknownEvent

export type TextMessage = MessageOf<'text'>
export type ImageMessage = MessageOf<'image'>
export type VoiceMessage = MessageOf<'voice'>
export type VideoMessage = MessageOf<'video'>
export type ShortVideoMessage = MessageOf<'shortvideo'>
export type LocationMessage = MessageOf<'location'>
export type LinkMessage = MessageOf<'link'>
export type SubscribeEvent = EventOf<'subscribe'>
export type UnsubscribeEvent = EventOf<'unsubscribe'>
export type ScanEvent = EventOf<'SCAN'>
export type LocationEvent = EventOf<'LOCATION'>
export type ClickEvent = EventOf<'CLICK'>
export type ViewEvent = EventOf<'VIEW'>
export type ViewMiniprogramEvent = EventOf<'view_miniprogram'>
export type ScancodePushEvent = EventOf<'scancode_push'>
export type ScancodeWaitmsgEvent = EventOf<'scancode_waitmsg'>
export type PicSysphotoEvent = EventOf<'pic_sysphoto'>
export type PicPhotoOrAlbumEvent = EventOf<'pic_photo_or_album'>
export type PicWeixinEvent = EventOf<'pic_weixin'>
export type LocationSelectEvent = EventOf<'location_select'>
export type TemplateSendJobFinishEvent = EventOf<'TEMPLATESENDJOBFINISH'>
export type MassSendJobFinishEvent = EventOf<'MASSSENDJOBFINISH'>
export type PublishJobFinishEvent = EventOf<'PUBLISHJOBFINISH'>
export type SubscribeMsgPopupEvent = EventOf<'subscribe_msg_popup_event'>
export type SubscribeMsgChangeEvent = EventOf<'subscribe_msg_change_event'>
export type SubscribeMsgSentEvent = EventOf<'subscribe_msg_sent_event'>
export type KfCreateSessionEvent = EventOf<'kf_create_session'>
export type KfCloseSessionEvent = EventOf<'kf_close_session'>
export type KfSwitchSessionEvent = EventOf<'kf_switch_session'>

/** `ScanCodeInfo` of the scancode_* menu events. */
export type ScanCodeInfo = ScancodePushEvent['scanCodeInfo']
/** `SendPicsInfo` of the pic_* menu events; `picList` is always an array. */
export type SendPicsInfo = PicSysphotoEvent['sendPicsInfo']
/** `SendLocationInfo` of the location_select menu event. */
export type SendLocationInfo = LocationSelectEvent['sendLocationInfo']

/** Whether a push is an event (`msgType === 'event'`). */
export function isEvent(msg: Message): msg is WxEvent {
  return msg.msgType === 'event'
}

/**
 * Whether a push is of a kind this version does not know (a new `MsgType` or `Event`). Its
 * fields are still there: camelCased on the object and exactly as sent in `raw`; the kind WeChat
 * sent is in `originalMsgType` / `originalEvent`.
 */
export function isUnknownMessage(msg: Message): msg is UnknownMessage | UnknownEvent {
  return msg.msgType === 'unknown' || (msg.msgType === 'event' && msg.event === 'unknown')
}

/** The `MsgType` exactly as WeChat sent it (also for unknown kinds). */
export function sentMsgType(msg: Message): string {
  return msg.msgType === 'unknown' ? msg.originalMsgType : msg.msgType
}

/** The `Event` exactly as WeChat sent it (also for unknown events). */
export function sentEvent(msg: WxEvent): string {
  return msg.event === 'unknown' ? msg.originalEvent : msg.event
}
