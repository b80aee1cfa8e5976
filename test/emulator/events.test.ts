// The emulator sends every push of the core's catalogue (issue #10: it could send 14 of 22 events),
// written by the core, and judges news limits by the core's one rule.
import t from 'tap'
import { runSend, type EmulatorIo } from '../../src/cli/commands/emulator.js'
import { catalogue, isUnknownMessage, renderReply, type KnownEvent, type Message } from '../../src/core/index.js'
import { createEmulator, type EmulatedEvent, type EventInput, type PushInput } from '../../src/emulator/index.js'
import { buildPush } from '../../src/emulator/push.js'
import { aesKey, appId, startStub, token, wellBehaved } from './stub.js'

/** The least input each event needs (the menu events need the button key). */
function minimal(event: string): PushInput {
  const keyed = ['SCAN', 'CLICK', 'VIEW', 'view_miniprogram', 'scancode_push', 'scancode_waitmsg', 'pic_sysphoto', 'pic_photo_or_album', 'pic_weixin', 'location_select']
  const input: Record<string, unknown> = { msgType: 'event', event }
  if (keyed.includes(event)) input['eventKey'] = 'KEY'
  if (event === 'LOCATION') Object.assign(input, { latitude: '23.1', longitude: '113.3' })
  if (event === 'location_select') Object.assign(input, { locationX: '23.1', locationY: '113.3' })
  return input as unknown as EventInput
}

// Compile-time: the emulator's inputs cover every event of the catalogue (tsc fails otherwise).
const everyEventEmulated: [Exclude<KnownEvent, EmulatedEvent>] extends [never] ? true : false = true
void everyEventEmulated

t.test('every event of the catalogue reaches the server as that event, in safe mode', async (t) => {
  const messages: Message[] = []
  const stub = await startStub(t, wellBehaved({ mode: 'safe', messages }))
  const wechat = createEmulator({ url: stub.url, token, aesKey, appId })
  const events = Object.keys(catalogue.events)
  t.equal(events.length, 22)
  for (const event of events) {
    const result = await wechat.send(minimal(event))
    t.equal(result.ok, true, `${event}: answered`)
  }
  t.same(
    messages.map((m) => (m.msgType === 'event' ? m.event : m.msgType)),
    events,
    'each parsed as the event sent, none unknown',
  )
  t.notOk(messages.some(isUnknownMessage))
  // the defaults are what WeChat always sends: the parsed events carry their documented fields
  const byEvent = new Map(messages.map((m) => [m.msgType === 'event' ? m.event : '', m as unknown as Record<string, unknown>]))
  t.match(byEvent.get('kf_switch_session'), { fromKfAccount: String, toKfAccount: String })
  t.match(byEvent.get('MASSSENDJOBFINISH'), { msgId: /^\d+$/, status: 'send success', totalCount: 1 })
  t.match(byEvent.get('PUBLISHJOBFINISH'), { publishEventInfo: { publishId: /^\d+$/, publishStatus: '0' } })
  t.match(byEvent.get('subscribe_msg_sent_event'), { subscribeMsgSentEvent: [{ templateId: 'TEMPLATE_ID', msgId: /^\d+$/, errorCode: '0' }] })
})

t.test('catalogue-shaped inputs override the defaults; extra elements set fields or follow them', async (t) => {
  const defaults = { fromUserName: 'oUser', toUserName: 'gh_1', now: () => 1_700_000_000_000 }
  const kf = buildPush({ msgType: 'event', event: 'kf_create_session', kfAccount: 'kf2001@gh_1' }, defaults)
  t.match(kf.xml, '<KfAccount><![CDATA[kf2001@gh_1]]></KfAccount>')
  const sent = buildPush({ msgType: 'event', event: 'subscribe_msg_sent_event', subscribeMsgSentEvent: [{ templateId: 'T1', msgId: '1', errorCode: '43101', errorStatus: 'fail' }] }, defaults)
  t.match(sent.xml, '<SubscribeMsgSentEvent><List><TemplateId><![CDATA[T1]]></TemplateId><MsgID>1</MsgID><ErrorCode>43101</ErrorCode>')
  const extra = buildPush({ msgType: 'event', event: 'TEMPLATESENDJOBFINISH', extra: { MsgID: '200163836', Note: 'x' } }, defaults)
  t.match(extra.xml, '<MsgID>200163836</MsgID><Status><![CDATA[success]]></Status><Note><![CDATA[x]]></Note></xml>', 'MsgID sets msgId; Note follows')
  t.equal(buildPush('hi', defaults).xml.match(/<MsgId>/g)?.length, 1, 'one MsgId')
})

function io(env: Record<string, string>): EmulatorIo & { out: () => string } {
  let out = ''
  return { env, stdout: { write: (s: string) => (out += s) }, stderr: { write: () => undefined }, stdin: process.stdin, out: () => out }
}

t.test('send --event NAME --field TAG=VALUE: any event of the catalogue, and events it does not know', async (t) => {
  const messages: Message[] = []
  const stub = await startStub(t, wellBehaved({ mode: 'plain', messages }))
  const env = { WX_MP_TOKEN: token }
  t.equal(await runSend(stub.url, undefined, { event: 'kf_create_session', field: ['KfAccount=kf2001@gh_1'] }, io(env)), 0)
  t.equal(await runSend(stub.url, undefined, { event: 'MASSSENDJOBFINISH', field: ['MsgID=1000001625', 'Status=err(30003)'] }, io(env)), 0)
  t.equal(await runSend(stub.url, undefined, { event: 'future_event', key: 'K', field: ['Card_Id=c1'] }, io(env)), 0)
  t.match(messages[0], { msgType: 'event', event: 'kf_create_session', kfAccount: 'kf2001@gh_1' })
  t.match(messages[1], { msgType: 'event', event: 'MASSSENDJOBFINISH', msgId: '1000001625', status: 'err(30003)' })
  t.match(messages[2], { msgType: 'event', event: 'unknown', originalEvent: 'future_event', eventKey: 'K', cardId: 'c1' })
  const bad = io(env)
  t.equal(await runSend(stub.url, undefined, { event: 'CLICK', key: 'k', field: ['=x'] }, bad), 1, 'a --field without a tag is a config error')
})

t.test('news limit: the judge applies the core\'s rule (1 article after anything but an event)', async (t) => {
  const stub = await startStub(t, (req) => {
    const to = /<FromUserName><!\[CDATA\[(.*?)\]\]>/.exec(req.body)?.[1] ?? ''
    const from = /<ToUserName><!\[CDATA\[(.*?)\]\]>/.exec(req.body)?.[1] ?? ''
    const two = renderReply({ msgType: 'news', articles: [{ title: 'a' }, { title: 'b' }] }, { toUserName: from, fromUserName: to, msgType: 'event' })
    return { body: two }
  })
  const wechat = createEmulator({ url: stub.url, token })
  const toUnknown = await wechat.send({ custom: true, msgType: 'hologram', elements: { HoloUrl: 'u' } })
  t.equal(toUnknown.ok, false, 'renderReply would refuse 2 articles for an unknown kind, so the judge does too')
  t.ok(toUnknown.warnings.some((w) => w.code === 'NEWS_TOO_MANY_ARTICLES'))
  t.equal((await wechat.send({ msgType: 'event', event: 'kf_close_session' })).ok, true, '2 articles after an event are fine')
})

t.test('chat: /event NAME TAG=VALUE … sends any event', async (t) => {
  const { parseChatLine } = await import('../../src/emulator/chat-line.js')
  const defaults = { fromUserName: 'oUser', toUserName: 'gh_1', now: () => 1_700_000_000_000 }
  const click = parseChatLine('/event CLICK EventKey=MENU_HELP')
  if (click.kind !== 'push') throw new Error('expected a push')
  t.match(buildPush(click.push, defaults).xml, '<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[MENU_HELP]]></EventKey></xml>')
  const kf = parseChatLine('/event kf_switch_session ToKfAccount=b@gh')
  if (kf.kind !== 'push') throw new Error('expected a push')
  t.match(buildPush(kf.push, defaults).xml, '<FromKfAccount><![CDATA[test1@test]]></FromKfAccount><ToKfAccount><![CDATA[b@gh]]></ToKfAccount>')
  const text = buildPush({ msgType: 'text', content: 'x', extra: { MsgDataId: '7', Idx: '1' } }, defaults).xml
  t.match(text, '<MsgDataId>7</MsgDataId><Idx>1</Idx></xml>', 'extra elements on a message set its catalogue fields')
  t.equal(parseChatLine('/event').kind, 'error')
  t.equal(parseChatLine('/event CLICK novalue').kind, 'error')
})
