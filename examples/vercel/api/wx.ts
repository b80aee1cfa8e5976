/**
 * A 公众号 on Vercel Functions: a web handler; Vercel passes `{ waitUntil }` as its context, so a
 * slow answer goes on after WeChat was answered (the customer-service API can send it).
 *
 * Environment (Project → Settings → Environment Variables): WX_MP_TOKEN, WX_MP_REDIS_URL (each
 * invocation may reach another instance), WX_MP_AES_KEY and WX_MP_APPID for safe mode,
 * WX_MP_APPSECRET for customer-service messages.
 */
import { createFetchHandler } from 'wx-mp-svr/serverless'

const handle = createFetchHandler({
  waitUntil: 'context',
  onMessage: (msg) => (msg.msgType === 'text' ? `你说：${msg.content}` : undefined),
  onSubscribe: () => '欢迎关注！',
})

export default { fetch: handle }
