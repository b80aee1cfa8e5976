// The ceiling of the benchmark: a bare Fastify route that reads the body as a string and returns a
// fixed XML reply. No signature, no parsing, no logging: what any Node server on Fastify pays per
// request, so that the kit's cost can be read as a multiple of it.
import Fastify from 'fastify'

const REPLY =
  '<xml><ToUserName><![CDATA[oUser]]></ToUserName><FromUserName><![CDATA[gh_bench]]></FromUserName>' +
  '<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[ok]]></Content></xml>'

const app = Fastify({ logger: false, bodyLimit: 64 * 1024 })
app.removeAllContentTypeParsers()
app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body))
app.get('/healthz', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok'))
app.post('/wx', async (request, reply) => {
  if (typeof request.body !== 'string') return reply.code(400).send('bad request')
  return reply.type('application/xml; charset=utf-8').send(REPLY)
})

const port = Number(process.env.PORT ?? 5100)
await app.listen({ port, host: '127.0.0.1' })
const stop = () => app.close().then(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
