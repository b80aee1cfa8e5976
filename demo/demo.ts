/**
 * The demo bot: `npx wx-mp-svr demo/demo.ts`.
 *
 * It echoes text back unchanged, sends an image back (same MediaId), answers voice with what
 * WeChat recognised, welcomes subscribers (mentioning the QR scene they came from) and answers a
 * menu click.
 */
import type { Handlers } from 'wx-mp-svr'

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

export const onEvent: Handlers['onEvent'] = (event) => {
  if (event.event === 'CLICK') return `你点击了菜单：${event.eventKey}`
  return undefined
}
