/**
 * The playground's endpoints without a browser: the token, bad input, the page's own headers, the
 * live state, settings and the export.
 */
import t from 'tap'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { play, type RunningPlay } from '../../src/cli/commands/play.js'
import { MAX_TEXT_BYTES } from '../../src/playground/input-error.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const quiet = (): Writable & { text: () => string } => {
  let out = ''
  return Object.assign(new Writable({ write: (chunk, _encoding, done) => ((out += chunk), done()) }), { text: () => out })
}

let running: RunningPlay
let banner = ''
t.before(async () => {
  const out = quiet()
  running = await play('demo/demo.ts', { port: '0', mode: 'plain' }, { env: { LOG_LEVEL: 'silent' }, stdout: out, cwd: root, handleSignals: false })
  banner = out.text()
})
t.teardown(() => running.close())

const base = (): string => running.url.split('/?')[0]!
const withToken = (path: string, token = running.token): string => `${base()}${path}?token=${encodeURIComponent(token)}`
const post = (url: string, fields: Record<string, string>): Promise<Response> => fetch(url, { method: 'POST', body: new URLSearchParams(fields) })

t.test('the banner prints the URL with its token, on 127.0.0.1', async (t) => {
  t.match(running.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/)
  t.match(banner, running.url)
  t.match(banner, /plain mode · 测试号/)
})

t.test('every endpoint refuses a missing token (401) and a wrong one (403), saying what to do', async (t) => {
  const wrong = running.token.slice(0, -1) + (running.token.endsWith('A') ? 'B' : 'A')
  for (const path of ['/', '/state', '/events', '/export', '/favicon.ico']) {
    const missing = await fetch(`${base()}${path}`)
    t.equal(missing.status, 401, `${path} without a token`)
    t.match(await missing.json(), { error: 'MISSING_TOKEN', message: /needs the token/ })
    const bad = await fetch(withToken(path, wrong))
    t.equal(bad.status, 403, `${path} with a wrong token`)
    t.match(await bad.json(), { error: 'WRONG_TOKEN', message: /Wrong token/ })
    t.equal((await fetch(withToken(path, 'short'))).status, 403, `${path} with a token of another length`)
  }
  for (const path of ['/action', '/settings']) {
    const res = await post(`${base()}${path}`, { action: 'text', text: 'hi' })
    t.equal(res.status, 401, `POST ${path} without a token`)
  }
  const twice = await fetch(`${base()}/state?token=${running.token}&token=${running.token}`)
  t.equal(twice.status, 403, 'a token given twice is not the token')
})

t.test('the page: its own icon, a CSP with a nonce, no referrer, no cache', async (t) => {
  const res = await fetch(withToken('/'))
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/html/)
  const csp = res.headers.get('content-security-policy') ?? ''
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1]
  t.ok(nonce, 'a script nonce')
  t.match(csp, /default-src 'none'/)
  t.equal(res.headers.get('referrer-policy'), 'no-referrer')
  t.equal(res.headers.get('cache-control'), 'no-store')
  const html = await res.text()
  t.match(html, /<link rel="icon" href="data:image\/svg\+xml,/)
  t.match(html, `<script nonce="${nonce}">`)
  t.match(html, 'aria-label="消息"')
  t.match(html, 'role="log"')
  t.match(html, 'aria-label="检查器"')
  const other = await fetch(withToken('/'))
  t.not(/script-src 'nonce-([^']+)'/.exec(other.headers.get('content-security-policy') ?? '')?.[1], nonce, 'a new nonce per response')
  const missing = await fetch(withToken('/nothing-here'))
  t.equal(missing.status, 404)
  t.match(await missing.json(), { error: 'NOT_FOUND', message: /No GET \/nothing-here here/ })
})

t.test('bad actions get a 4xx that says what is wrong, and nothing is sent', async (t) => {
  const before = running.playground.state().exchanges.length
  const cases: Array<[Record<string, string>, number, string, RegExp]> = [
    [{ action: 'dance' }, 400, 'UNKNOWN_ACTION', /Unknown action "dance": post one of text, follow/],
    [{}, 400, 'UNKNOWN_ACTION', /action is missing/],
    [{ action: 'text', text: '好'.repeat(683) }, 413, 'TEXT_TOO_LONG', new RegExp(`2049 bytes; WeChat takes at most ${MAX_TEXT_BYTES} bytes`)],
    [{ action: 'text', text: '   ' }, 400, 'MISSING_FIELD', /text is empty/],
    [{ action: 'click' }, 400, 'MISSING_FIELD', /key is missing/],
    [{ action: 'scan', scene: 'x'.repeat(129) }, 400, 'INVALID_FIELD', /scene is over 128 bytes/],
    [{ action: 'location', lat: '91', lng: '0' }, 400, 'INVALID_FIELD', /lat must be a number between -90 and 90/],
    [{ action: 'location', lat: '1', lng: 'east' }, 400, 'INVALID_FIELD', /lng must be a number/],
  ]
  for (const [fields, status, error, message] of cases) {
    const res = await post(withToken('/action'), fields)
    t.equal(res.status, status, JSON.stringify(fields).slice(0, 60))
    t.match(await res.json(), { error, message })
  }
  const repeated = await fetch(withToken('/action'), { method: 'POST', body: 'action=text&action=follow' , headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(repeated.status, 400, 'a field given twice')
  t.match(await repeated.json(), { error: 'INVALID_FIELD', message: /action must be given once/ })
  const json = await fetch(withToken('/action'), { method: 'POST', body: '{"action":"text"}', headers: { 'content-type': 'application/json' } })
  t.equal(json.status, 400, 'JSON is parsed but holds no valid text')
  const xml = await fetch(withToken('/action'), { method: 'POST', body: '<x/>', headers: { 'content-type': 'text/xml' } })
  t.equal(xml.status, 415, 'a body type the page never sends')
  const huge = await fetch(withToken('/action'), { method: 'POST', body: 'action=text&text=' + 'a'.repeat(70_000), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(huge.status, 413, 'a body over the limit')
  t.equal(running.playground.state().exchanges.length, before, 'no push was sent')
  t.equal((await fetch(withToken('/state'))).status, 200, 'the server still serves')
})

t.test('bad settings get a 400 naming the control and the values', async (t) => {
  const wrong = await post(withToken('/settings'), { mode: 'loud' })
  t.equal(wrong.status, 400)
  t.match(await wrong.json(), { error: 'INVALID_FIELD', message: /模式 Mode \(mode\) must be one of plain, compat, safe \(got "loud"\)/ })
  const none = await post(withToken('/settings'), {})
  t.equal(none.status, 400)
  t.match(await none.json(), { error: 'MISSING_FIELD', message: /at least one of mode, account, strategy/ })
  t.equal(running.playground.settings().mode, 'plain', 'unchanged')
})

t.test('a push and a change of settings, followed over server-sent events; the export replays them', async (t) => {
  const controller = new AbortController()
  const events = await fetch(withToken('/events'), { signal: controller.signal })
  t.equal(events.headers.get('content-type'), 'text/event-stream; charset=utf-8')
  const reader = events.body!.getReader()
  let buffered = ''
  const nextState = async (): Promise<{ bubbles: Array<{ from: string; text: string }>; settings: { mode: string } }> => {
    for (;;) {
      const end = buffered.indexOf('\n\n')
      if (end >= 0) {
        const frame = buffered.slice(0, end)
        buffered = buffered.slice(end + 2)
        if (frame.startsWith('data: ')) return JSON.parse(frame.slice(6))
        continue
      }
      const { value, done } = await reader.read()
      if (done) throw new Error('the stream ended')
      buffered += Buffer.from(value).toString('utf8')
    }
  }
  await nextState() // the state at once
  const changed = await post(withToken('/settings'), { mode: 'compat', strategy: 'next-message' })
  t.same(await changed.json(), { settings: { mode: 'compat', account: 'test', strategy: 'next-message' } })
  const sent = await post(withToken('/action'), { action: 'click', key: 'MENU_HELP' })
  t.equal(sent.status, 202)
  const { id } = (await sent.json()) as { id: number }
  let state = await nextState()
  while (!state.bubbles.some((b) => b.text === '你点击了菜单：MENU_HELP')) state = await nextState()
  t.equal(state.settings.mode, 'compat')
  controller.abort()
  const exchange = running.playground.state().exchanges.find((e) => e.id === id)!
  t.equal(exchange.settings.mode, 'compat')
  t.match(exchange.request?.url, /encrypt_type=aes/)
  t.match(exchange.request?.body, /<MsgType><!\[CDATA\[event\]\]><\/MsgType>.*<Encrypt>/s, 'compat mode: plaintext elements and <Encrypt>')
  t.match(exchange.requestXml, /<EventKey><!\[CDATA\[MENU_HELP\]\]><\/EventKey>/)
  const exported = await fetch(withToken('/export'))
  t.equal(exported.headers.get('content-disposition'), 'attachment; filename="demo.playground.test.mjs"')
  const file = await exported.text()
  t.match(file, `const handlerFile = resolve(process.cwd(), "demo/demo.ts")`)
  t.match(file, /"mode": "compat",\s*"account": "test",\s*"strategy": "next-message"/)
  t.match(file, /"text": "你点击了菜单：MENU_HELP"/)
  t.notMatch(file, /t\.setTimeout/, 'a short conversation keeps tap\'s default timeout')
})
