// Peer of the benchmark: co-wechat 2.4 on Koa 3, the echo bot as its README shows it.
// Installed only for the benchmark (bench/package.json). Env: PORT, WX_MP_TOKEN, and for
// 安全模式 WX_MP_AES_KEY and WX_MP_APPID.
const Koa = require('koa')
const wechat = require('co-wechat')

const config = { token: process.env.WX_MP_TOKEN, appid: process.env.WX_MP_APPID ?? '', encodingAESKey: process.env.WX_MP_AES_KEY ?? '' }
const bot = wechat(config).middleware(async (message) => (message.MsgType === 'text' ? message.Content : ''))

const app = new Koa()
app.use(async (ctx, next) => {
  if (ctx.path === '/healthz') {
    ctx.body = 'ok'
    return
  }
  if (ctx.path === '/wx') return bot(ctx, next)
  return next()
})

const server = app.listen(Number(process.env.PORT ?? 5100), '127.0.0.1')
const stop = () => server.close(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
