/**
 * "导出测试 Export as test": the playground's conversation as a tap test file (`*.test.mjs`) that
 * replays it against the same handler file. The test starts the bot as `npx wx-mp-svr
 * <handler-file>` does (the package's own bin, on a free port), a mock WeChat API of the same
 * account kind, and `createEmulator` in the same mode, sends every push again and checks that the
 * phone shows the same messages, in the same order, and the failure notice exactly when it did.
 *
 * A change of mode, account or strategy in the playground starts a new bot there; the test does the
 * same, one subtest per stretch of the conversation with the same settings.
 *
 * @module
 */
import type { Bubble, ExchangeRecord, PlaygroundSettings, PlaygroundState } from './session.js'

/** tap's default timeout of one test file, ms. */
export const TAP_DEFAULT_TIMEOUT_MS = 30_000

/** What starting one bot (a node process, the handler file compiled) costs at most, ms, for the estimate. */
const BOT_START_ESTIMATE_MS = 3_000

/** How long after the last customer-service message of an exchange the replay keeps listening, ms. */
const LATE_MESSAGE_MARGIN_MS = 2_000

/** One push of the replay and what the phone showed. */
interface ReplayStep {
  label: string
  /**
   * How long to wait before sending, ms: long enough for the handler runs that had ended when the
   * user sent this push in the playground to end again (a slow answer fetched with "继续"), never
   * longer than the user actually waited.
   */
  pauseMs: number
  input: ExchangeRecord['input']
  waitMs: number
  ok: boolean
  messages: Array<{ via: 'reply' | 'customer-service' | 'notice'; text: string }>
}

interface ReplaySegment {
  settings: PlaygroundSettings
  steps: ReplayStep[]
}

const viaOf: Record<Exclude<Bubble['from'], 'user'>, ReplayStep['messages'][number]['via']> = {
  bot: 'reply',
  kefu: 'customer-service',
  notice: 'notice',
}

/** Margin added to a pause, for a handler that runs a little slower in the replay, ms. */
const PAUSE_MARGIN_MS = 500

function stepOf(record: ExchangeRecord, bubbles: readonly Bubble[]): Omit<ReplayStep, 'pauseMs'> {
  const shown = bubbles.filter((b) => b.exchangeId === record.id && b.from !== 'user').sort((a, b) => a.at - b.at)
  const ended = record.sentAt + (record.endedMs ?? 0)
  const lastLate = Math.max(0, ...shown.filter((b) => b.from === 'kefu' && b.at > ended).map((b) => b.at - record.sentAt))
  return {
    label: record.label,
    input: record.input,
    waitMs: lastLate > 0 ? Math.ceil((lastLate + LATE_MESSAGE_MARGIN_MS) / 100) * 100 : 0,
    ok: record.ok === true,
    messages: shown.map((b) => ({ via: viaOf[b.from as Exclude<Bubble['from'], 'user'>], text: b.text })),
  }
}

function sameSettings(a: PlaygroundSettings, b: PlaygroundSettings): boolean {
  return a.mode === b.mode && a.account === b.account && a.strategy === b.strategy
}

/** The delivered exchanges, in stretches of equal settings. */
export function replaySegments(state: Pick<PlaygroundState, 'exchanges' | 'bubbles'>): ReplaySegment[] {
  const segments: ReplaySegment[] = []
  const delivered = state.exchanges.filter((record) => record.status === 'done' && record.error === undefined)
  let previousReturn: number | undefined
  const runEnds: number[] = []
  for (const record of delivered) {
    const last = segments.at(-1)
    const shown = stepOf(record, state.bubbles)
    // In a new segment the bot is new: nothing of the earlier runs carries over.
    const sameBot = last !== undefined && sameSettings(last.settings, record.settings)
    const readyAt = Math.max(0, ...runEnds.filter((end) => end <= record.sentAt))
    const pauseMs =
      sameBot && previousReturn !== undefined && readyAt > previousReturn
        ? Math.round(Math.min(record.sentAt - previousReturn, readyAt + PAUSE_MARGIN_MS - previousReturn))
        : 0
    const step: ReplayStep = { ...shown, pauseMs: Math.max(0, pauseMs) }
    previousReturn = record.sentAt + Math.max(record.endedMs ?? 0, shown.waitMs)
    for (const run of record.handlerRuns) if (run.end !== undefined) runEnds.push(record.sentAt + run.end)
    if (last && sameSettings(last.settings, record.settings)) last.steps.push(step)
    else segments.push({ settings: { ...record.settings }, steps: [step] })
  }
  return segments
}

/** How long the replay takes, about: each push as long as it took, and a bot start per stretch. */
export function estimateReplayMs(state: Pick<PlaygroundState, 'exchanges' | 'bubbles'>): number {
  const segments = replaySegments(state)
  let total = segments.length * BOT_START_ESTIMATE_MS
  for (const segment of segments) for (const step of segment.steps) total += step.pauseMs + step.waitMs
  for (const record of state.exchanges) {
    if (record.status === 'done' && record.error === undefined) total += record.endedMs ?? 0
  }
  return total
}

/** What the exported file needs besides the conversation. */
export interface ExportContext {
  /** The handler file, relative to the folder tap runs in (the project), with `/`. */
  handlerFile: string
  token: string
  aesKey: string
  appId: string
  appSecret: string
  fromUserName: string
  toUserName: string
  /** When it was exported (a comment in the file). */
  exportedAt: Date
}

/** A file name for the download, from the handler's name: `demo.playground.test.mjs`. */
export function exportFileName(handlerFile: string): string {
  const base = handlerFile.split('/').pop()!.replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9_-]+/g, '-') || 'bot'
  return `${base}.playground.test.mjs`
}

/**
 * The test file. It needs `tap` and `wx-mp-svr` where it runs (the bot's project); it runs within
 * tap's default timeout when the conversation does, and sets a longer one itself when the
 * conversation took longer.
 */
export function renderExportedTest(state: Pick<PlaygroundState, 'exchanges' | 'bubbles'>, context: ExportContext): string {
  const segments = replaySegments(state)
  const estimate = estimateReplayMs(state)
  const j = (value: unknown): string => JSON.stringify(value)
  const lines = [
    `// Exported by \`wx-mp-svr play\` on ${context.exportedAt.toISOString()}: replays a conversation with ${context.handlerFile}.`,
    '// Run it from the project folder:  npx tap ' + exportFileName(context.handlerFile),
    '// The bot runs as `npx wx-mp-svr <handler-file>` runs it, against a mock WeChat API; the token, key and',
    '// AppSecret below are throwaway values made for the playground, not your account\'s.',
    "import t from 'tap'",
    "import { spawn } from 'node:child_process'",
    "import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'",
    "import { createRequire } from 'node:module'",
    "import { tmpdir } from 'node:os'",
    "import { dirname, join, resolve } from 'node:path'",
    "import { createEmulator, startMockApi } from 'wx-mp-svr/emulator'",
    '',
    `const handlerFile = resolve(process.cwd(), ${j(context.handlerFile)})`,
    "const bin = join(dirname(createRequire(import.meta.url).resolve('wx-mp-svr/package.json')), 'bin', 'wx-mp-svr.js')",
    `const secrets = ${j({ token: context.token, aesKey: context.aesKey, appId: context.appId, appSecret: context.appSecret })}`,
    `const user = ${j({ fromUserName: context.fromUserName, toUserName: context.toUserName })}`,
    `const segments = ${JSON.stringify(segments, null, 2)}`,
    '',
    ...(estimate + 5_000 > TAP_DEFAULT_TIMEOUT_MS
      ? [`// The conversation took about ${Math.round(estimate / 1000)} s, more than tap's default timeout allows.`, `t.setTimeout(${Math.ceil((estimate + 15_000) / 1000) * 1000})`, '']
      : []),
    '/** Starts the bot as `npx wx-mp-svr <handler-file> --port 0` does; resolves with its URL. */',
    'async function startBot(t, settings, api) {',
    "  const envDir = mkdtempSync(join(tmpdir(), 'wx-mp-play-'))",
    "  writeFileSync(join(envDir, 'empty.env'), '')",
    "  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WX_MP_')))",
    '  Object.assign(env, {',
    '    WX_MP_TOKEN: secrets.token,',
    "    ...(settings.mode === 'plain' ? {} : { WX_MP_AES_KEY: secrets.aesKey }),",
    '    WX_MP_APPID: secrets.appId,',
    '    WX_MP_APPSECRET: secrets.appSecret,',
    '    WX_MP_API_BASE_URL: api.baseUrl,',
    '    WX_MP_SLOW_REPLY: settings.strategy,',
    "    LOG_LEVEL: 'warn',",
    '  })',
    "  const child = spawn(process.execPath, [bin, handlerFile, '--port', '0', '--env-file', join(envDir, 'empty.env')], { env, stdio: ['ignore', 'pipe', 'pipe'] })",
    '  t.teardown(async () => {',
    "    if (child.exitCode === null && child.signalCode === null) { child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)) }",
    '    rmSync(envDir, { recursive: true, force: true })',
    '  })',
    "  let out = ''",
    "  let err = ''",
    "  child.stderr.on('data', (d) => (err += d))",
    '  return new Promise((resolveUrl, reject) => {',
    "    child.stdout.on('data', (d) => {",
    '      out += d',
    '      const match = /listening on (http:\\/\\/\\S+)/.exec(out)',
    '      if (match) resolveUrl(match[1])',
    '    })',
    "    child.once('exit', (code) => reject(new Error(`the bot exited (${code}) before listening:\\n${err}${out}`)))",
    '  })',
    '}',
    '',
    'for (const segment of segments) {',
    "  const { mode, account, strategy } = segment.settings",
    '  t.test(`${mode} mode · ${account} account · slowReply ${strategy}`, async (t) => {',
    '    const api = await startMockApi({ preset: account, appId: secrets.appId, appSecret: secrets.appSecret })',
    '    t.teardown(() => api.close())',
    '    const url = await startBot(t, segment.settings, api)',
    "    const keys = mode === 'plain' ? {} : { aesKey: secrets.aesKey, appId: secrets.appId }",
    '    const wechat = createEmulator({ url, token: secrets.token, mode, ...keys, ...user, mockApi: api })',
    '    for (const step of segment.steps) {',
    '      if (step.pauseMs > 0) await new Promise((r) => setTimeout(r, step.pauseMs))',
    '      const result = await wechat.send(step.input, { waitMs: step.waitMs })',
    '      t.equal(result.ok, step.ok, `${step.label}: ${step.ok ? \'answered\' : \'the failure notice\'}`)',
    '      t.same(',
    '        result.messages.map((m) => ({ via: m.via, text: m.text })),',
    '        step.messages,',
    '        `${step.label}: the phone shows the same messages`,',
    '      )',
    '    }',
    '  })',
    '}',
    '',
  ]
  return lines.join('\n')
}
