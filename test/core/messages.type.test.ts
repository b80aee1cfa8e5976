/**
 * Compile-only type tests: checked by `tsc -p tsconfig.json --noEmit` (npm run typecheck), which
 * includes test/. Each `@ts-expect-error` line must fail to compile; if one starts compiling, tsc
 * reports the unused directive. The functions below are never called: tap only sees `t.pass`.
 */
import t from 'tap'
import {
  parseMessage,
  parseReply,
  writeMessage,
  renderReply,
  reply,
  isUnknownMessage,
  type Message,
  type Reply,
  type ReplyMessage,
  type TextMessage,
  type PicWeixinEvent,
  type SubscribeEvent,
  type SendPicsInfo,
  type ScanCodeInfo,
  type MassSendJobFinishEvent,
} from '../../src/index.js'

/** `true` only when A and B are the same type (not merely assignable). */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function expectType<T>(_value: T): void {}

export function narrowing(msg: Message): void {
  if (msg.msgType === 'text') {
    const content: string = msg.content
    const id: string = msg.msgId
    const time: number = msg.createTime
    expectType<true>(true as Equals<typeof msg.content, string>)
    expectType<true>(true as Equals<typeof msg, TextMessage>)
    expectType<string | undefined>(msg.msgDataId)
    void content, id, time
    // @ts-expect-error a text message has no picUrl
    void msg.picUrl
  }

  if (msg.msgType === 'event' && msg.event === 'pic_weixin') {
    const md5 = msg.sendPicsInfo.picList[0]?.picMd5Sum
    expectType<true>(true as Equals<typeof md5, string | undefined>)
    expectType<true>(true as Equals<typeof msg.sendPicsInfo.count, number>)
    expectType<true>(true as Equals<typeof msg, PicWeixinEvent>)
    const key: string = msg.eventKey
    void key
  }

  if (msg.msgType === 'event' && msg.event === 'subscribe') {
    expectType<true>(true as Equals<typeof msg.eventKey, string | undefined>)
    expectType<true>(true as Equals<typeof msg.qrScene, string | undefined>)
    expectType<SubscribeEvent>(msg)
  }

  if (msg.msgType === 'event' && msg.event === 'SCAN') {
    const scene: string = msg.qrScene
    void scene
  }

  if (msg.msgType === 'event' && msg.event === 'scancode_push') {
    expectType<true>(true as Equals<typeof msg.scanCodeInfo, ScanCodeInfo>)
    const result: string = msg.scanCodeInfo.scanResult
    void result
  }

  if (msg.msgType === 'event' && msg.event === 'MASSSENDJOBFINISH') {
    expectType<MassSendJobFinishEvent>(msg)
    const id: string = msg.msgId
    expectType<number | undefined>(msg.totalCount)
    void id
  }

  if (msg.msgType === 'event' && msg.event === 'subscribe_msg_popup_event') {
    const first = msg.subscribeMsgPopupEvent[0]
    expectType<true>(true as Equals<typeof first, { templateId: string; subscribeStatusString: string; popupScene?: string } | undefined>)
  }

  if (msg.msgType === 'location') {
    const x: string = msg.locationX
    void x
  }

  // @ts-expect-error content does not exist on an un-narrowed Message
  void msg.content

  // @ts-expect-error a misspelled kind is not a MsgType
  if (msg.msgType === 'txt') void msg

  if (msg.msgType === 'event') {
    // @ts-expect-error an un-narrowed event has no eventKey for sure
    const key: string = msg.eventKey
    void key
    // @ts-expect-error event names are case-sensitive
    if (msg.event === 'click') void msg
  }

  // common fields need no narrowing
  const from: string = msg.fromUserName
  const at: number = msg.createTime
  void from, at

  if (isUnknownMessage(msg)) {
    expectType<number>(msg.createTime)
    expectType<unknown>(msg['anything'])
  }
}

export function sendPicsInfo(info: SendPicsInfo): void {
  expectType<true>(true as Equals<typeof info.picList, { picMd5Sum: string }[]>)
}

export function replies(msg: TextMessage): void {
  const ok: Reply[] = [
    'text',
    { msgType: 'text', content: 'x' },
    { msgType: 'image', mediaId: 'm' },
    { msgType: 'voice', mediaId: 'm' },
    { msgType: 'video', mediaId: 'm', title: 't' },
    { msgType: 'music', thumbMediaId: 'm' },
    { msgType: 'news', articles: [{ title: 't', url: 'u' }] },
    { msgType: 'transfer_customer_service' },
    { msgType: 'transfer_customer_service', kfAccount: 'a@b' },
    reply.text('x'),
    reply.news([{ title: 't' }]),
  ]
  void ok
  renderReply('x', msg)
  renderReply(reply.image('m'), msg, { now: () => 0 })

  // @ts-expect-error a reply object with a wrong msgType
  const wrongType: Reply = { msgType: 'sticker', mediaId: 'm' }
  // @ts-expect-error msgType is case-sensitive
  const upper: ReplyMessage = { msgType: 'TEXT', content: 'x' }
  // @ts-expect-error an image reply needs mediaId
  const noMedia: Reply = { msgType: 'image' }
  // @ts-expect-error a music reply needs thumbMediaId
  const noThumb: Reply = { msgType: 'music', title: 't' }
  // @ts-expect-error an article needs a title
  const noTitle: Reply = { msgType: 'news', articles: [{ url: 'u' }] }
  // @ts-expect-error text content is a string
  const numeric: Reply = { msgType: 'text', content: 42 }
  // @ts-expect-error a reply is not a number
  renderReply(42, msg)
  // @ts-expect-error renderReply needs the incoming message
  renderReply('x')
  void wrongType, upper, noMedia, noThumb, noTitle, numeric
}

export function writing(msg: Message): void {
  const head = { toUserName: 'gh', fromUserName: 'o', createTime: 1 }
  writeMessage(msg) // whatever parseMessage returns can be written back
  writeMessage({ ...head, msgType: 'text', content: 'x', msgId: '1' }) // raw is optional for known kinds
  writeMessage({ ...head, msgType: 'event', event: 'SCAN', eventKey: 'k' }) // derived qrScene is not needed
  writeMessage({ ...head, msgType: 'unknown', originalMsgType: 'hologram', raw: { HoloUrl: 'u' } })
  // @ts-expect-error an unknown kind is written from raw
  writeMessage({ ...head, msgType: 'unknown', originalMsgType: 'hologram' })
  // @ts-expect-error text content is a string
  writeMessage({ ...head, msgType: 'text', content: 42, msgId: '1' })
  // @ts-expect-error a CLICK event needs its eventKey
  writeMessage({ ...head, msgType: 'event', event: 'CLICK' })
  const parsed = parseReply('<xml/>')
  expectType<ReplyMessage>(parsed.reply)
  expectType<number>(parsed.createTime)
}

t.pass('compile-only type tests (checked by tsc)')
// keep the imports used at run time too
t.type(parseMessage, 'function')
