// Peer of the benchmark: node-webot's `wechat` 2.1 on Express 5, the echo bot as its README shows
// it. Installed only for the benchmark (bench/package.json). Env: PORT, WX_MP_TOKEN, and for
// 安全模式 WX_MP_AES_KEY and WX_MP_APPID.
const express = require('express')
const wechat = require('wechat')

const config = process.env.WX_MP_AES_KEY
  ? { token: process.env.WX_MP_TOKEN, appid: process.env.WX_MP_APPID ?? '', encodingAESKey: process.env.WX_MP_AES_KEY }
  : process.env.WX_MP_TOKEN

const app = express()
app.get('/healthz', (_req, res) => res.type('text/plain').send('ok'))
app.use(
  '/wx',
  wechat(config, (req, res) => {
    const message = req.weixin
    res.reply(message.MsgType === 'text' ? message.Content : '')
  }),
)

const server = app.listen(Number(process.env.PORT ?? 5100), '127.0.0.1')
const stop = () => server.close(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
