/**
 * The demo bot: `npx wx-mp-svr demo/demo.ts`.
 *
 * It echoes text back unchanged, sends an image back (same MediaId), answers voice with what
 * WeChat recognised, welcomes subscribers (mentioning the QR scene they came from) and answers a
 * menu click. Two commands show how slow and long answers reach the user:
 * - `慢 12` (or `/slow 12`) answers after 12 seconds, like an LLM would;
 * - `长` (or `/long`) answers with about 10 000 bytes, more than one WeChat message holds.
 */
import type { OnEvent, OnMessage, OnSubscribe } from 'wx-mp-svr'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

// Not an async function: answers that are ready at once are served without a promise.
export const onMessage: OnMessage = (msg) => {
  switch (msg.msgType) {
    case 'text': {
      const slow = /^(?:\/slow|慢)\s*(\d{1,3})?\s*(.*)$/s.exec(msg.content.trim())
      if (slow) {
        const seconds = Number(slow[1] ?? 12)
        return sleep(seconds * 1000).then(() => `（${seconds} 秒后的回答）${slow[2] || '慢慢想好了。'}`)
      }
      if (msg.content.trim() === '长' || msg.content.trim() === '/long') {
        return Array.from({ length: 120 }, (_, i) => `第 ${i + 1} 段：长回答会被切成几条消息，每条不超过 2048 字节。`).join('\n')
      }
      return msg.content
    }
    case 'image':
      return { msgType: 'image', mediaId: msg.mediaId }
    case 'voice':
      return msg.recognition ? `你说的是：${msg.recognition}` : { msgType: 'voice', mediaId: msg.mediaId }
    default:
      return `收到一条 ${msg.msgType} 消息`
  }
}

export const onSubscribe: OnSubscribe = (event) =>
  event.qrScene ? `欢迎关注！你是扫描场景 ${event.qrScene} 的二维码来的。` : '欢迎关注！发任何文字给我，我会原样回复；发“慢 12”试试慢回答。'

export const onEvent: OnEvent = (event) => (event.event === 'CLICK' ? `你点击了菜单：${event.eventKey}` : undefined)
