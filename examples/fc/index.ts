/**
 * A 公众号 on Aliyun Function Compute 3.0 (built-in Node.js runtime) behind an HTTP trigger.
 * Handler (请求处理程序): index.handler. FC passes the event as a Buffer of its JSON; the adapter
 * reads both that and an object.
 *
 * Environment: WX_MP_TOKEN, WX_MP_REDIS_URL (required: instances are frozen after each response and
 * retries may reach another one), WX_MP_AES_KEY and WX_MP_APPID for safe mode.
 */
import { createFcHandler } from 'wx-mp-svr/serverless'

export const handler = createFcHandler({
  onMessage: (msg) => (msg.msgType === 'text' ? `你说：${msg.content}` : undefined),
  onSubscribe: () => '欢迎关注！',
})
