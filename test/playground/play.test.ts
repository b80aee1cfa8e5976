/**
 * `wx-mp-svr play demo/demo.ts` in a real browser (the system Chromium): the conversation, the
 * inspector and its timeline, the controls, and the exported test, run with tap.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { play } from '../../src/cli/commands/play.js'
import { browserSkip, launchBrowser } from './browser.js'

// Two slow answers (12 s and 5 s), Chromium's start and the exported test's own run (in parallel)
// take about 30 s; give a busy CI machine room beyond the suite's 60 s per file.
t.setTimeout(120_000)

const root = fileURLToPath(new URL('../../', import.meta.url))
const skip = browserSkip()
if (skip) console.log(`# skipping the playground's browser tests: ${skip}`)

/** The exported test imports `wx-mp-svr`, which resolves to `dist/` (built by `npm test`). */
function ensureBuilt(): void {
  if (!existsSync(join(root, 'dist/emulator/index.js')) || !existsSync(join(root, 'dist/cli/main.js'))) {
    execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { cwd: root, stdio: 'ignore' })
  }
}

/**
 * Runs one test file with tap (no coverage) in `project`, resolving with its exit code and output.
 * Not in this repository's root: a tap run there would reset the coverage of the run around it.
 */
function runTap(project: string, file: string): Promise<{ code: number | null; output: string }> {
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' }
  const child = spawn(process.execPath, [join(root, 'node_modules/tap/dist/esm/run.mjs'), '--disable-coverage', '--reporter=tap', file], {
    cwd: project,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d))
  child.stderr.on('data', (d: Buffer) => (output += d))
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })))
}

const article = (page: Page, name: string) => page.getByRole('article', { name, exact: true })

async function say(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: '消息', exact: true }).fill(text)
  await Promise.all([
    page.waitForResponse((r) => r.url().includes('/action?') && r.status() === 202),
    page.getByRole('button', { name: '发送', exact: true }).click(),
  ])
}

async function choose(page: Page, label: string, value: string): Promise<void> {
  await Promise.all([
    page.waitForResponse((r) => r.url().includes('/settings?') && r.status() === 200),
    page.getByRole('combobox', { name: label, exact: true }).selectOption(value),
  ])
}

t.test('play demo/demo.ts in Chromium: chat, inspect, switch modes and strategies, export a test', { skip }, async (t) => {
  ensureBuilt()
  const quiet = new Writable({ write: (_chunk, _encoding, done) => done() })
  const running = await play(join(root, 'demo/demo.ts'), { port: '0', mode: 'plain' }, { env: { LOG_LEVEL: 'silent' }, stdout: quiet, cwd: root, handleSignals: false })
  t.teardown(() => running.close())
  t.match(running.token, /^[A-Za-z0-9_-]{32,}$/, 'the token carries at least 128 random bits')
  const browser = await launchBrowser()
  t.teardown(() => browser.close())
  const page = await browser.context.newPage()
  const requested: string[] = []
  page.on('request', (request) => requested.push(new URL(request.url()).pathname))
  page.setDefaultTimeout(10_000)
  await page.goto(running.url)

  // Plain mode: the echo, then the welcome.
  await say(page, '你好')
  await article(page, '公众号: 你好').waitFor()
  t.ok(await article(page, '用户: 你好').isVisible(), "the user's bubble")
  await page.getByRole('button', { name: '关注 Follow', exact: true }).click()
  await page.getByRole('article', { name: /^公众号: 欢迎关注！/ }).waitFor()
  const inspector = page.getByRole('region', { name: '检查器', exact: true })
  await inspector.getByText('第 1 次 · 0 s · 已回复 answered').waitFor()

  // Too long for one WeChat text: the page says so, and nothing is sent.
  await page.getByRole('textbox', { name: '消息', exact: true }).fill('好'.repeat(700))
  await page.getByRole('button', { name: '发送', exact: true }).click()
  await page.getByRole('alert').getByText(/2100 bytes; WeChat takes at most 2048 bytes/).waitFor()
  t.equal(await page.getByRole('article', { name: /^用户/ }).count(), 2, 'no bubble for it')

  // Safe mode: the same, encrypted on the wire.
  await choose(page, '模式 Mode', 'safe')
  await say(page, '你好')
  await article(page, '公众号: 你好').nth(1).waitFor()
  t.equal(await article(page, '公众号: 你好').count(), 2, 'the echo again, in safe mode')
  await inspector.getByText(/encrypt_type=aes&msg_signature=/).waitFor()
  t.match(await inspector.getByLabel('解密后的推送 Decrypted XML').textContent(), /<Content><!\[CDATA\[你好\]\]><\/Content>/, 'the decrypted push')
  t.match(await inspector.getByLabel('回复 Reply as sent').textContent(), /^<xml><Encrypt>/, 'the reply as sent is encrypted')
  t.match(await inspector.getByLabel('解密后的回复 Reply decrypted').textContent(), /<Content><!\[CDATA\[你好\]\]><\/Content>/, 'the reply decrypted')

  // Export the conversation so far and run it with tap while the slow part goes on.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '导出测试 Export as test', exact: true }).click()])
  t.equal(download.suggestedFilename(), 'demo.playground.test.mjs')
  // A bot's project: its handler file, and wx-mp-svr installed (this package, built).
  const dir = t.testdir({
    // The same tap plugins as this repository's, so that tap does not rebuild itself for this project.
    'package.json': JSON.stringify({ name: 'a-bot', private: true, type: 'module', tap: { plugin: ['!@tapjs/typescript'] } }),
    demo: { 'demo.ts': readFileSync(join(root, 'demo/demo.ts'), 'utf8') },
    node_modules: { 'wx-mp-svr': t.fixture('symlink', root) },
  })
  const exported = join(dir, 'demo.playground.test.mjs')
  await download.saveAs(exported)
  const replay = runTap(dir, 'demo.playground.test.mjs')

  // retry-window: attempts 1 and 2 held, the answer on the third.
  await choose(page, '慢回复策略 Strategy', 'retry-window')
  await say(page, '/slow 12')
  await article(page, '公众号: （12 秒后的回答）慢慢想好了。').waitFor({ timeout: 25_000 })
  await inspector.getByText('第 1 次 · 0 s · 挂起 held').waitFor()
  await inspector.getByText('第 2 次 · 5 s · 挂起 held').waitFor()
  await inspector.getByText('第 3 次 · 10 s · 已回复 answered').waitFor()
  await inspector.getByText(/处理函数 handler · [\d.]+–1[23](\.\d)? s/).waitFor()

  // A personal account under customer-service: 48001, so the answer waits for the next message.
  await choose(page, '账号 Account', 'personal')
  await choose(page, '慢回复策略 Strategy', 'customer-service')
  await say(page, '/slow 5')
  await inspector.getByText('第 1 次 · 0 s · 已回复 answered').waitFor({ timeout: 10_000 })
  await inspector.getByText(/处理函数 handler · [\d.]+–[5-7](\.\d)? s/).waitFor({ timeout: 15_000 })
  await say(page, '继续')
  await article(page, '公众号: （5 秒后的回答）慢慢想好了。').waitFor()
  t.equal(await page.getByRole('article', { name: /^客服/ }).count(), 0, 'no customer-service message: the account has no permission')

  // Clicking the first bubble selects its exchange.
  await article(page, '用户: 你好').first().click()
  await inspector.getByText('#1 你好').waitFor()
  t.notMatch(await inspector.getByLabel('请求 Request as sent').textContent(), /encrypt_type/, 'the first push went in plain mode')

  // The screenshot shows the slow answer's exchange: two held attempts, the answer on the third.
  await article(page, '公众号: （12 秒后的回答）慢慢想好了。').click()
  await inspector.getByText('第 2 次 · 5 s · 挂起 held').waitFor()

  const shot = join(dir, 'playground.png')
  await page.screenshot({ path: shot })
  if (process.env['WX_MP_UPDATE_SCREENSHOT'] === '1') await page.screenshot({ path: join(root, 'docs/playground.png') })
  t.ok(existsSync(shot), `screenshot written: ${shot}`)
  t.notOk(requested.includes('/favicon.ico'), 'the page never asks for /favicon.ico')

  const { code, output } = await replay
  t.equal(code, 0, 'the exported test passes under tap')
  if (code !== 0) t.comment(output.slice(-4000))
  t.match(output, /# \{ total: \d+, pass: \d+ \}/, "tap's summary")
})
