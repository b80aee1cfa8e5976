/**
 * The deadline and the dedup, over HTTP, driven by a FakeClock: nothing here sleeps or measures
 * elapsed time. Handlers wait on gates the test opens.
 */
import t from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import {
  Dispatcher,
  MemoryStore,
  StoreKeys,
  dedupParts,
  parseMessage,
  type WxMpStore,
  type HandlerContext,
  type LateReply,
  type Log,
} from '../../src/index.js'
import {
  T0,
  T0_S,
  USER,
  USER_B,
  FakeClock,
  encryptedPush,
  eventXml,
  failOnUnhandledRejection,
  field,
  makeApp,
  openEncryptedReply,
  plainPush,
  replyFields,
  safeAccount,
  textXml,
  turns,
  until,
} from './helpers.js'

const TIMEOUT = 4500

function content(res: LightMyRequestResponse): string {
  return res.body === 'success' ? 'success' : field(replyFields(res.body), 'Content')
}

// ---------------------------------------------------------------------------------------------
// Deadline

t.test('at the deadline: success, the handler keeps running with its signal live (lateReply will deliver); the late result goes to lateReply', async (t) => {
  failOnUnhandledRejection(t)
  const late: LateReply[] = []
  let ctx: HandlerContext | undefined
  let finished = false
  const { app, clock, gate } = await makeApp(t, {
    lateReply: (l) => {
      late.push(l)
    },
    onMessage: async (_m, c) => {
      ctx = c
      await release.promise
      finished = true
      return 'late answer'
    },
  })
  const release = gate()
  const first = app.inject(plainPush(textXml({ msgId: '500' })))
  await until(() => ctx !== undefined, 'the handler starts')
  await until(() => clock.pending >= 1, 'the deadline timer')
  clock.advance(TIMEOUT - 1)
  t.notOk(ctx!.signal.aborted, '1 ms before the deadline the signal is not aborted')
  clock.advance(1)
  const res = await first
  t.equal(res.statusCode, 200)
  t.equal(res.body, 'success', 'answered success at the deadline')
  t.notOk(ctx!.signal.aborted, 'ctx.signal is not aborted: the late answer still goes somewhere (lateReply)')
  t.notOk(finished, 'the handler is still running')
  t.equal(late.length, 0)

  clock.advance(300)
  release.resolve()
  await until(() => late.length === 1, 'lateReply called')
  const l = late[0]!
  t.equal(l.lateByMs, 300, 'lateByMs: finished 300 ms after the deadline')
  t.equal(l.handlerMs, TIMEOUT + 300, 'handlerMs: how long the handler ran')
  t.same(l.reply, { msgType: 'text', content: 'late answer' }, 'the normalised reply')
  t.match(l.xml, '<Content><![CDATA[late answer]]></Content>')
  t.match(l.message, { msgId: '500', fromUserName: USER })
  t.equal(typeof l.log.info, 'function')

  // A retry after completion gets the kept reply; the handler does not run again.
  const retry = await app.inject(plainPush(textXml({ msgId: '500' }), { timestamp: T0_S + 5 }))
  t.equal(content(retry), 'late answer', 'the retry gets the late result')
  t.equal(late.length, 1, 'lateReply is called once')
})

t.test('the default lateReply logs "completed N ms after the deadline"', async (t) => {
  const { app, clock, gate, lines } = await makeApp(t, {
    slowReply: 'success',
    onMessage: async () => {
      await release.promise
      return 'slow'
    },
  })
  const release = gate()
  const pending = app.inject(plainPush(textXml()))
  await until(() => clock.pending >= 2, 'the deadline and abort timers')
  clock.advance(TIMEOUT)
  t.equal((await pending).body, 'success')
  const deadlineLine = lines.find((l) => l['outcome'] === 'deadline')
  t.ok(deadlineLine, 'the push line says deadline')
  clock.advance(1234)
  release.resolve()
  await until(() => lines.some((l) => /completed \d+ ms after the deadline/.test(String(l['msg']))), 'the late log line')
  const line = lines.find((l) => /completed \d+ ms after the deadline/.test(String(l['msg'])))!
  t.match(line['msg'], 'completed 1234 ms after the deadline')
  t.match(line, { lateByMs: 1234, handlerMs: TIMEOUT + 1234, msgId: '23456789012345678' })
})

t.test('a lateReply that throws (or rejects) is logged and crashes nothing', async (t) => {
  failOnUnhandledRejection(t)
  const { app, clock, gate, lines } = await makeApp(t, {
    lateReply: (l) => {
      if ((l.message as { msgId?: string }).msgId === '1') throw new Error('delivery failed')
      return Promise.reject(new Error('delivery rejected'))
    },
    onMessage: async () => {
      await release.promise
      return 'x'
    },
  })
  const release = gate()
  const pushes = [app.inject(plainPush(textXml({ msgId: '1' }))), app.inject(plainPush(textXml({ msgId: '2' })))]
  await until(() => clock.pending === 6, 'both handlers running')
  clock.advance(TIMEOUT)
  await Promise.all(pushes)
  release.resolve()
  await until(() => lines.filter((l) => l['msg'] === 'lateReply failed').length === 2, 'both failures are logged')
  const failures = lines.filter((l) => l['msg'] === 'lateReply failed').map((l) => (l['err'] as { message?: string }).message)
  t.same(failures.sort(), ['delivery failed', 'delivery rejected'])
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'still serving')
})

t.test('replyTimeoutMs sets the deadline', async (t) => {
  const { app, clock, gate } = await makeApp(t, {
    slowReply: 'success',
    replyTimeoutMs: 1000,
    onMessage: async () => {
      await release.promise
      return 'x'
    },
  })
  const release = gate()
  let answered = false
  const pending = app.inject(plainPush(textXml())).then((r) => {
    answered = true
    return r
  })
  await until(() => clock.pending >= 2, 'timers')
  clock.advance(999)
  await turns()
  t.notOk(answered, 'not answered at 999 ms')
  clock.advance(1)
  t.equal((await pending).body, 'success', 'answered at 1000 ms')
  release.resolve()
})

t.test('a retry arriving while the first copy runs joins it and answers with its result; lateReply is not called', async (t) => {
  const late: LateReply[] = []
  let calls = 0
  const { app, clock, gate, lines } = await makeApp(t, {
    lateReply: (l) => {
      late.push(l)
    },
    onMessage: async () => {
      calls++
      await release.promise
      return 'joined result'
    },
  })
  const release = gate()
  const first = app.inject(plainPush(textXml()))
  await until(() => clock.pending === 3, 'the first copy waits')
  clock.advance(TIMEOUT)
  t.equal((await first).body, 'success', 'the first copy: success at its deadline')
  t.equal(clock.pending, 2, 'only the job timeout and its abort are left')

  clock.advance(500) // WeChat retries ~5 s after the first attempt
  const retry = app.inject(plainPush(textXml(), { timestamp: T0_S + 5, nonce: '222' }))
  await until(() => clock.pending === 3, 'the retry joins and waits for its own deadline')
  clock.advance(200)
  release.resolve()
  const r = await retry
  t.equal(content(r), 'joined result', 'the retry answers with the result')
  t.equal(calls, 1, 'the handler ran once')
  await until(() => lines.filter((l) => 'outcome' in l && 'mode' in l).length === 2, 'two push lines')
  t.equal(late.length, 0, 'a joining retry delivered the result: lateReply is not called')
  t.same(
    lines.filter((l) => 'outcome' in l && 'mode' in l).map((l) => l['outcome']),
    ['deadline', 'duplicate'],
  )
})

t.test('the default lateReply is also silent when a joining retry delivered the result', async (t) => {
  const { app, clock, gate, lines } = await makeApp(t, {
    slowReply: 'success',
    onMessage: async () => {
      await release.promise
      return 'r'
    },
  })
  const release = gate()
  const first = app.inject(plainPush(textXml()))
  await until(() => clock.pending === 3, 'first waits')
  clock.advance(TIMEOUT)
  await first
  const retry = app.inject(plainPush(textXml()))
  await until(() => clock.pending === 2, 'retry waits')
  release.resolve()
  t.equal(content(await retry), 'r')
  t.notOk(lines.some((l) => /after the deadline/.test(String(l['msg']))), 'no "completed after the deadline" line')
})

t.test('a retry that joins but the handler outlasts it too: success at its own deadline, then lateReply', async (t) => {
  const late: LateReply[] = []
  let calls = 0
  const { app, clock, gate } = await makeApp(t, {
    lateReply: (l) => {
      late.push(l)
    },
    onMessage: async () => {
      calls++
      await release.promise
      return 'very late'
    },
  })
  const release = gate()
  const first = app.inject(plainPush(textXml()))
  await until(() => clock.pending === 3, 'first waits')
  clock.advance(TIMEOUT)
  t.equal((await first).body, 'success')
  clock.advance(500)
  const retry = app.inject(plainPush(textXml(), { timestamp: T0_S + 5 }))
  await until(() => clock.pending === 3, 'retry waits (its deadline, the job timeout and its abort)')
  clock.advance(TIMEOUT - 1)
  let retryDone = false
  void retry.then(() => (retryDone = true))
  await turns()
  t.notOk(retryDone, 'the retry waits until its own deadline')
  clock.advance(1)
  t.equal((await retry).body, 'success', 'the retry: success at its own deadline')
  t.equal(late.length, 0)

  clock.advance(100)
  release.resolve()
  await until(() => late.length === 1, 'lateReply')
  t.equal(late[0]!.lateByMs, 500 + TIMEOUT + 100, 'late relative to the first deadline')
  const third = await app.inject(plainPush(textXml(), { timestamp: T0_S + 10 }))
  t.equal(content(third), 'very late', 'the third attempt gets the kept result')
  t.equal(calls, 1)
})

t.test('safe mode: a retry after completion gets the same reply, re-encrypted with its own timestamp and nonce', async (t) => {
  let calls = 0
  const { app, clock } = await makeApp(t, {
    ...safeAccount,
    onMessage: () => {
      calls++
      return 'once only'
    },
  })
  const a = await app.inject(encryptedPush(textXml(), { nonce: '111' }))
  clock.advance(5000)
  const b = await app.inject(encryptedPush(textXml(), { nonce: '222', timestamp: T0_S + 5 }))
  t.equal(calls, 1, 'the handler ran once')
  const ra = openEncryptedReply(a.body)
  const rb = openEncryptedReply(b.body)
  t.ok(ra.signatureOk && rb.signatureOk, 'both signed')
  t.not(ra.encrypt, rb.encrypt, 'different Encrypt')
  t.equal(ra.timestamp, String(T0_S))
  t.equal(rb.timestamp, String(T0_S + 5), 'the retry reply has its own TimeStamp')
  t.not(ra.nonce, rb.nonce, 'and its own Nonce')
  t.equal(rb.xml, ra.xml, 'the same decrypted plaintext')
  t.equal(field(replyFields(rb.xml), 'Content'), 'once only')
})

t.test('safe mode: a late result is delivered encrypted to the retry', async (t) => {
  const { app, clock, gate } = await makeApp(t, {
    slowReply: 'success',
    ...safeAccount,
    onMessage: async () => {
      await release.promise
      return 'late but encrypted'
    },
  })
  const release = gate()
  const first = app.inject(encryptedPush(textXml()))
  await until(() => clock.pending === 3, 'first waits')
  clock.advance(TIMEOUT)
  t.equal((await first).body, 'success')
  release.resolve()
  await until(() => clock.pending === 0, 'settled')
  await turns() // let the completion reach the store
  const retry = await app.inject(encryptedPush(textXml(), { nonce: '9' }))
  const opened = openEncryptedReply(retry.body)
  t.ok(opened.signatureOk)
  t.equal(field(replyFields(opened.xml), 'Content'), 'late but encrypted')
})

// ---------------------------------------------------------------------------------------------
// Dedup

t.test('concurrent copies: the handler runs once and all three get the reply', async (t) => {
  let calls = 0
  const { app, clock, gate } = await makeApp(t, {
    onMessage: async () => {
      calls++
      await release.promise
      return 'shared reply'
    },
  })
  const release = gate()
  const copies = Promise.all([0, 1, 2].map(() => app.inject(plainPush(textXml()))))
  // The first copy waits with three timers (deadline, abort, job timeout); each joining copy with one.
  await until(() => clock.pending === 5, 'three copies waiting')
  release.resolve()
  const responses = await copies
  t.equal(calls, 1, 'the handler ran once')
  t.same(
    responses.map((r) => content(r)),
    ['shared reply', 'shared reply', 'shared reply'],
  )
})

t.test('concurrent copies of a fast handler (Promise.all): once, the same reply', async (t) => {
  let calls = 0
  const { app } = await makeApp(t, {
    ...safeAccount,
    onMessage: async () => {
      calls++
      return 'fast'
    },
  })
  const responses = await Promise.all([1, 2, 3].map((n) => app.inject(encryptedPush(textXml(), { nonce: String(n) }))))
  t.equal(calls, 1)
  t.same(
    responses.map((r) => field(replyFields(openEncryptedReply(r.body).xml), 'Content')),
    ['fast', 'fast', 'fast'],
  )
})

t.test('sequential copies run once; different users with the same MsgId run twice', async (t) => {
  const seen: string[] = []
  const { app, clock } = await makeApp(t, {
    onMessage: (m) => {
      seen.push(`${m.fromUserName}:${(m as { msgId?: string }).msgId}`)
      return `hi ${m.fromUserName}`
    },
  })
  for (let i = 0; i < 3; i++) {
    const res = await app.inject(plainPush(textXml({ msgId: '1234' }), { timestamp: T0_S + i * 5 }))
    t.equal(content(res), `hi ${USER}`)
    clock.advance(5000)
  }
  const other = await app.inject(plainPush(textXml({ msgId: '1234', from: USER_B }), { timestamp: T0_S + 15 }))
  t.equal(content(other), `hi ${USER_B}`, 'another user with the same MsgId gets its own answer')
  t.same(seen, [`${USER}:1234`, `${USER_B}:1234`])
})

t.test('64-bit MsgIds differing only in the last digit are different messages', async (t) => {
  const seen: string[] = []
  const { app } = await makeApp(t, {
    onMessage: (m) => {
      const id = (m as { msgId?: string }).msgId ?? ''
      seen.push(id)
      return id
    },
  })
  const ids = ['9223372036854775806', '9223372036854775807', '9223372036854775807']
  const bodies: string[] = []
  for (const msgId of ids) bodies.push(content(await app.inject(plainPush(textXml({ msgId })))))
  t.same(seen, ['9223372036854775806', '9223372036854775807'], 'two runs (a JS number would merge them), the copy deduped')
  t.same(bodies, ids, 'each answered with its exact MsgId')
})

t.test('events: keyed by user + CreateTime + Event + EventKey', async (t) => {
  const seen: string[] = []
  const { app } = await makeApp(t, {
    onEvent: (e) => {
      seen.push(`${e.fromUserName}:${e.createTime}:${e.event}:${(e as { eventKey?: string }).eventKey ?? ''}`)
      return 'ok'
    },
    onSubscribe: () => {
      seen.push('subscribe')
      return 'welcome'
    },
  })
  const pushes = [
    eventXml({ event: 'CLICK', eventKey: 'A' }),
    eventXml({ event: 'CLICK', eventKey: 'B' }), // same second, other key: another event
    eventXml({ event: 'CLICK', eventKey: 'A' }), // a copy
    eventXml({ event: 'VIEW', eventKey: 'A' }), // same second and key, other event
    eventXml({ event: 'CLICK', eventKey: 'A', from: USER_B }), // another user
    eventXml({ event: 'CLICK', eventKey: 'A', createTime: T0_S + 1 }), // another second
    eventXml({ event: 'subscribe' }),
    eventXml({ event: 'subscribe' }), // a copy
  ]
  for (const xml of pushes) t.equal((await app.inject(plainPush(xml))).statusCode, 200)
  t.same(seen, [
    `${USER}:${T0_S}:CLICK:A`,
    `${USER}:${T0_S}:CLICK:B`,
    `${USER}:${T0_S}:VIEW:A`,
    `${USER_B}:${T0_S}:CLICK:A`,
    `${USER}:${T0_S + 1}:CLICK:A`,
    'subscribe',
  ])
})

t.test('dedupParts: messages by user + MsgId, events by user + second + event + key + their own ids; keys never collide', async (t) => {
  const text = parseMessage(textXml({ msgId: '9223372036854775807' }))
  t.same(dedupParts(text), ['m', USER, '9223372036854775807'])
  const click = parseMessage(eventXml({ event: 'CLICK', eventKey: 'K' }))
  t.same(dedupParts(click), ['e', USER, String(T0_S), 'CLICK', 'K'])
  t.notSame(dedupParts(parseMessage(eventXml({ event: 'CLICK', eventKey: 'K2' }))), dedupParts(click))
  // #9 item 2: parts are encoded, so a ':' inside a part cannot make two messages one.
  const keys = new StoreKeys('wxmp', 'wx123')
  t.not(keys.key('dedup', 'm', 'a:b', 'c'), keys.key('dedup', 'm', 'a', 'b:c'))
  t.match(keys.key('dedup', 'm', 'u', '1'), /^wxmp:\{wx123\}:dedup:/)
})

t.test('a copy after the dedup TTL runs the handler again', async (t) => {
  let calls = 0
  const { app, clock } = await makeApp(t, {
    timestampToleranceS: 0,
    onMessage: () => `run ${++calls}`,
  })
  t.equal(content(await app.inject(plainPush(textXml()))), 'run 1')
  clock.advance(59_999)
  t.equal(content(await app.inject(plainPush(textXml()))), 'run 1', 'within 60 s: the kept answer')
  clock.advance(1)
  t.equal(content(await app.inject(plainPush(textXml()))), 'run 2', 'after 60 s: a new run')
})

/** A store whose every call fails, as a shared store that is down. */
class BrokenStore implements WxMpStore {
  calls = 0
  #fail<T>(): Promise<T> {
    this.calls++
    return Promise.reject(new Error('store down'))
  }
  get = (): Promise<string | undefined> => this.#fail()
  set = (): Promise<void> => this.#fail()
  claim = (): Promise<string | undefined> => this.#fail()
  replace = (): Promise<boolean> => this.#fail()
  delete = (): Promise<boolean> => this.#fail()
  expire = (): Promise<boolean> => this.#fail()
  add = (): Promise<number> => this.#fail()
  push = (): Promise<number> => this.#fail()
  shift = (): Promise<string | undefined> => this.#fail()
  list = (): Promise<string[]> => this.#fail()
}

t.test("a failing store: policy 'run' (default) runs the handler, 'success' does not", async (t) => {
  failOnUnhandledRejection(t)
  let calls = 0
  const onMessage = (): string => {
    calls++
    return 'ran anyway'
  }
  const run = await makeApp(t, { store: new BrokenStore(), onMessage })
  const a = await run.app.inject(plainPush(textXml()))
  t.equal(a.statusCode, 200)
  t.equal(content(a), 'ran anyway', "'run' (default): the handler ran")
  t.equal(calls, 1)
  t.ok(
    run.lines.some((l) => String(l['msg']).includes('store failed; policy "run"') && l['level'] === 40),
    'the failure is logged, with the default policy',
  )

  const explicit = await makeApp(t, { store: new BrokenStore(), onDedupError: 'run', onMessage })
  t.equal(content(await explicit.app.inject(plainPush(textXml()))), 'ran anyway')
  t.equal(calls, 2)

  const store = new BrokenStore()
  const success = await makeApp(t, { store, onDedupError: 'success', onMessage })
  const b = await success.app.inject(plainPush(textXml()))
  t.equal(b.statusCode, 200)
  t.equal(b.body, 'success', "'success': answered success")
  t.equal(calls, 2, "'success': the handler did not run")
  t.ok(store.calls > 0, 'the store was asked')
})

t.test('a copy whose key another instance holds (pending in a shared store) waits for its answer', async (t) => {
  const replyXml = '<xml><Content><![CDATA[from the other instance]]></Content></xml>'
  const clock = new FakeClock()
  let reads = 0
  /** A shared store where another instance claimed the push and finishes it after two polls. */
  class OtherInstance extends MemoryStore {
    override get(key: string): string | undefined {
      if (key.includes(':dedup:') && ++reads === 3) this.set(key, `d|${replyXml}`, 60_000)
      return super.get(key)
    }
  }
  const store = new OtherInstance({ now: () => clock.now() })
  const msg = parseMessage(textXml())
  store.claim(new StoreKeys('wxmp').key('dedup', ...dedupParts(msg)), `p|${clock.now()}|other`, 10_000)
  let calls = 0
  const { app } = await makeApp(t, {
    clock,
    store,
    onMessage: () => {
      calls++
      return 'local'
    },
  })
  let done = false
  const pending = app.inject(plainPush(textXml())).then((r) => {
    done = true
    return r
  })
  while (!done) {
    await until(() => done || clock.pending > 0, 'a timer or the answer')
    if (!done) clock.advance(100)
  }
  const res = await pending
  t.equal(res.body, replyXml, "the other instance's answer")
  t.equal(calls, 0, 'the handler did not run here')
  t.equal(reads, 3)
})

// ---------------------------------------------------------------------------------------------
// The Dispatcher on its own (framework-free)

t.test('Dispatcher without HTTP: deadline and late join with the fake clock', async (t) => {
  const clock = new FakeClock()
  const noop = (): void => undefined
  const log: Log = { debug: noop, info: noop, warn: noop, error: noop, child: () => log }
  let release!: () => void
  const gateP = new Promise<void>((r) => (release = r))
  const late: LateReply[] = []
  const d = new Dispatcher({
    handlers: {
      onMessage: async () => {
        await gateP
        return 'x'
      },
    },
    store: new MemoryStore({ now: () => clock.now() }),
    log,
    appId: undefined,
    replyTimeoutMs: 100,
    slowReply: 'success',
    lateReply: (l) => {
      late.push(l)
    },
    clock,
  })
  const msg = parseMessage(textXml())
  const first = d.dispatch(msg, clock.now(), log)
  await until(() => clock.pending === 3, 'timers')
  t.equal(d.pending, 2, 'one handler running (its run and its completion)')
  clock.advance(100)
  t.match(await first, { reply: null, outcome: 'deadline' })
  const second = d.dispatch(msg, clock.now(), log)
  await until(() => clock.pending === 2, 'join')
  release()
  t.match(await second, { outcome: 'duplicate' })
  t.match((await second).reply, '<Content><![CDATA[x]]></Content>')
  t.equal(late.length, 0)
  await d.drain(1000)
  t.equal(d.pending, 0, 'drained')
  t.equal(clock.now(), T0 + 100)
})

t.test('a store that claims at once but records asynchronously: one record per push, a failed write only logged', async (t) => {
  failOnUnhandledRejection(t)
  let sets = 0
  /** Claims at once; its writes go over the network (and the first fails). */
  class WriteBehind extends MemoryStore {
    override set(key: string, value: string, ttlMs: number): Promise<void> {
      if (!key.includes(':dedup:')) {
        super.set(key, value, ttlMs)
        return Promise.resolve()
      }
      sets++
      if (sets === 1) return Promise.reject(new Error('write-behind failed'))
      super.set(key, value, ttlMs)
      return Promise.resolve()
    }
  }
  let runs = 0
  const { app, lines, clock } = await makeApp(t, {
    onMessage: (m) => {
      runs++
      return m.msgType === 'text' ? `echo ${m.content}` : undefined
    },
  })
  await app.close()
  const wb = await makeApp(t, {
    clock,
    store: new WriteBehind({ now: () => clock.now() }),
    onMessage: (m) => {
      runs++
      return m.msgType === 'text' ? `echo ${m.content}` : undefined
    },
  })
  void lines
  const first = await wb.app.inject(plainPush(textXml({ content: 'a', msgId: '1' })))
  t.match(first.body, /echo a/)
  t.equal(sets, 1, 'recorded once, not again by a fallback path')
  t.ok(wb.lines.some((l) => /failed to record the answer/.test(String(l['msg']))), 'the failed write is logged')
  const second = await wb.app.inject(plainPush(textXml({ content: 'b', msgId: '2' })))
  t.match(second.body, /echo b/)
  const retry = await wb.app.inject(plainPush(textXml({ content: 'b', msgId: '2' })))
  t.match(retry.body, /echo b/, 'a retry gets the recorded answer')
  t.equal(runs, 2, 'the handler ran once per message')
  t.equal(sets, 2)
})

t.test('ctx.signal: aborted at the job timeout when slow answers are delivered; at the deadline only under success without lateReply', async (t) => {
  let ctx: HandlerContext | undefined
  const { app, clock } = await makeApp(t, {
    slowReply: 'next-message',
    jobTimeoutMs: 60_000,
    onMessage: (_m, c) => {
      ctx = c
      return new Promise<never>(() => undefined)
    },
  })
  const push = app.inject(plainPush(textXml({ msgId: '901' })))
  await until(() => ctx !== undefined && clock.pending >= 3, 'the handler runs')
  clock.advance(TIMEOUT)
  await push
  t.notOk(ctx!.signal.aborted, 'at the reply deadline the LLM call goes on')
  clock.advance(60_000 - TIMEOUT)
  t.ok(ctx!.signal.aborted, 'aborted when the kit gives the run up')
  t.equal((ctx!.signal.reason as { name?: string }).name, 'TimeoutError')

  let ctx2: HandlerContext | undefined
  const plain = await makeApp(t, {
    slowReply: 'success',
    onMessage: (_m, c) => {
      ctx2 = c
      return new Promise<never>(() => undefined)
    },
  })
  const p2 = plain.app.inject(plainPush(textXml({ msgId: '902' })))
  await until(() => ctx2 !== undefined && plain.clock.pending >= 3, 'the handler runs')
  plain.clock.advance(TIMEOUT)
  await p2
  t.ok(ctx2!.signal.aborted, 'success without lateReply: nobody will see it, aborted at the deadline')
  plain.clock.advance(120_000) // the job timeout lets the run go, so close() does not wait for it
})
