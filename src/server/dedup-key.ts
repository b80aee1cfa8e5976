/**
 * Which pushes are "the same message": the identity WeChat's retries share and different
 * messages never do.
 *
 * Official reference (消息排重: MsgId for messages, FromUserName + CreateTime for events):
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 *
 * @module
 */
import { sentEvent, sentMsgType, type Message } from '../core/messages.js'

function text(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

/**
 * The ids an event carries itself: job results (`MsgID` of TEMPLATESENDJOBFINISH and
 * MASSSENDJOBFINISH, `publish_id` of PUBLISHJOBFINISH, the MsgIDs of subscribe_msg_sent_event)
 * tell apart two events that share a user, a second and an event name — PUBLISHJOBFINISH's
 * sender is even a fixed system account.
 */
function eventIds(msg: Message): string[] {
  const m = msg as Record<string, unknown>
  const ids: string[] = []
  if (typeof m['msgId'] === 'string') ids.push(m['msgId'])
  const publish = m['publishEventInfo'] as { publishId?: unknown } | undefined
  if (publish && typeof publish.publishId === 'string') ids.push(publish.publishId)
  const sent = m['subscribeMsgSentEvent']
  if (Array.isArray(sent)) for (const item of sent) ids.push(text((item as { msgId?: unknown }).msgId))
  return ids
}

/**
 * The dedup identity of a push, as parts that {@link StoreKeys} encodes unambiguously:
 * - a message: user + MsgId (MsgIds have collided across users); without a MsgId, user +
 *   CreateTime + MsgType;
 * - an event: user + CreateTime + Event + EventKey, plus the ids the event carries itself.
 *
 * The parts are new strings (not slices of the request body), so a remembered key never keeps a
 * whole body alive.
 */
export function dedupParts(msg: Message): string[] {
  if (msg.msgType !== 'event') {
    const msgId = text((msg as { msgId?: unknown }).msgId)
    if (msgId !== '') return ['m', msg.fromUserName, msgId]
    return ['t', msg.fromUserName, String(msg.createTime), sentMsgType(msg)]
  }
  return ['e', msg.fromUserName, String(msg.createTime), sentEvent(msg), text((msg as { eventKey?: unknown }).eventKey), ...eventIds(msg)]
}
