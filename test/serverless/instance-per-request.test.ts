/**
 * Every attempt of a push reaches a freshly created function instance that shares nothing with the
 * others but a real Redis — as on SCF, FC and Lambda. The handler runs once, and its answer is
 * delivered under retry-window (WeChat's real 0/5 s schedule) and under next-message (attempts
 * sent closer together, with a short reply deadline). Without waitUntil every instance answers
 * only when its own work is done, so nothing it started is lost when it is frozen.
 */
import t from 'tap'
import { redisSkip, startRedisServer } from '../store/redis-server.js'
import { createScfHandler, type EventResponse, type ServerlessOptions } from '../../src/serverless/index.js'
import { TOKEN, captureLog, eventShapes, push, replyText, textXml, type WireRequest } from './wechat.js'

const skip = redisSkip()
if (skip) console.log(`# skipping the instance-per-request tests: ${skip}`)
const scfUrl = eventShapes.find((s) => s.name === 'SCF function URL')!
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

t.test('an instance per request, sharing only Redis', { skip }, async (t) => {
  const redis = await startRedisServer(t)
  t.jobs = 2

  /** A fresh instance answers one request, then is thrown away (its connection closed). */
  const instance = (options: ServerlessOptions, runs: { count: number }, handlerMs: number) => async (request: WireRequest): Promise<EventResponse> => {
    const handler = createScfHandler({
      token: TOKEN,
      env: {},
      redis: redis.url,
      log: captureLog().log,
      onMessage: async (msg) => {
        if (msg.msgType !== 'text') return undefined
        runs.count++
        await sleep(handlerMs)
        return `answer to ${msg.content}`
      },
      ...options,
    })
    try {
      return await handler(scfUrl.event(request) as never)
    } finally {
      // Frozen at once: nothing of its work may go on after its response (close without waiting).
      await handler.endpoint.close(0)
    }
  }

  t.test('retry-window: attempt 2, 5 s later on another instance, carries the answer', async (t) => {
    const runs = { count: 0 }
    const fresh = instance({ redisPrefix: 'rw', slowReply: 'retry-window' }, runs, 6000)
    const request = push(textXml('six seconds', { user: 'oUser_RW' }), 'plain')
    const first = fresh(request)
    await sleep(5000)
    const second = await fresh(request)
    t.equal(replyText(second.body), 'answer to six seconds', 'the retry gets the answer')
    const held = await first
    t.equal(held.statusCode, 200)
    t.equal(held.body, '', 'the first attempt was held until the run was done (WeChat had dropped it)')
    t.equal(runs.count, 1, 'the handler ran once')
  })

  t.test('next-message: the last attempt answers the placeholder; the next message gets the answer', async (t) => {
    const runs = { count: 0 }
    const fresh = instance({ redisPrefix: 'nm', slowReply: 'next-message', replyTimeoutMs: 1000 }, runs, 2500)
    const request = push(textXml('slow question', { user: 'oUser_NM' }), 'plain')
    const first = fresh(request)
    await sleep(200)
    const second = fresh(request)
    await sleep(200)
    const third = await fresh(request)
    const placeholder = replyText(third.body)
    t.not(placeholder, 'answer to slow question', `the last attempt answers the placeholder: ${placeholder}`)
    t.equal((await first).body, '', 'the instance that ran the handler answered when its work was done')
    t.equal(runs.count, 1, 'the handler ran once')
    const next = await fresh(push(textXml('继续', { user: 'oUser_NM' }), 'plain'))
    t.equal(replyText(next.body), 'answer to slow question', 'the next message, on yet another instance, gets the answer')
    t.equal(runs.count, 1, 'fetching the answer runs nothing')
    t.equal((await second).statusCode, 200)
  })
})
