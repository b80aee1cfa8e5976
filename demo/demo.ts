/**
 * The demo bot: `npx wx-mp-svr demo/demo.ts`.
 *
 * It echoes text back unchanged, sends an image back (same MediaId), answers voice with what
 * WeChat recognised, welcomes subscribers (mentioning the QR scene they came from) and answers a
 * menu click.
 */
import { WxMpApi, type Handlers, type LateReplyHandler } from 'wx-mp-svr'

export const onMessage: Handlers['onMessage'] = (msg) => {
  switch (msg.msgType) {
    case 'text':
      return msg.content
    case 'image':
      return { msgType: 'image', mediaId: msg.mediaId }
    case 'voice':
      return msg.recognition ? `你说的是：${msg.recognition}` : { msgType: 'voice', mediaId: msg.mediaId }
    default:
      return `收到一条 ${msg.msgType} 消息`
  }
}

export const onSubscribe: Handlers['onSubscribe'] = (event) =>
  event.qrScene ? `欢迎关注！你是扫描场景 ${event.qrScene} 的二维码来的。` : '欢迎关注！发任何文字给我，我会原样回复。'

export const onEvent: Handlers['onEvent'] = (event) =>
  event.event === 'CLICK' ? `你点击了菜单：${event.eventKey}` : undefined

// An answer that misses WeChat's 5-second deadline (an LLM call, say) reaches the user as a
// customer-service message (客服消息) when WX_MP_APPID and WX_MP_APPSECRET are set.
const api = process.env['WX_MP_APPSECRET'] ? new WxMpApi() : undefined

export const lateReply: LateReplyHandler = async (late) => {
  if (api && late.reply?.msgType === 'text') {
    await api.sendCustomMessage(late.message.fromUserName, late.reply.content)
  }
}
