/**
 * `wx-mp-svr verify | send | chat`: WeChat's server on the command line, over the public
 * emulator API ({@link createEmulator}).
 *
 * The actions are plain functions taking their IO ({@link EmulatorIo}) and returning the exit
 * code, so tests run them in-process; {@link registerEmulatorCommands} only wires them to
 * commander.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 *
 * @module
 */
import { clearLine, createInterface, cursorTo } from 'node:readline'
import { Option, type Command } from 'commander'
import { isWxMpError } from '../../core/index.js'
// The chat-line parser and the report formatters are the CLI's, not part of the public surface.
import { chatHelp, parseChatLine, parseLatLng } from '../../emulator/chat-line.js'
import { formatBubble, formatCustomerServiceBubble, formatSendResult, formatVerifyResult } from '../../emulator/report.js'
import {
  createEmulator,
  describePreset,
  emulatorModes,
  mockApiPresets,
  MAX_ATTEMPTS,
  startMockApi,
  MOCK_APP_ID,
  MOCK_APP_SECRET,
  type Emulator,
  type EmulatorMode,
  type EmulatorOptions,
  type MockApi,
  type MockApiPreset,
  type PushInput,
  type SendResult,
} from '../../emulator/index.js'
import { loadCommandEnv, withEnvFileOptions, type EnvFileFlags } from '../env-file.js'

/** Loads the variables file (`--env`, or `.env` when present) into the process's environment, as the server does. */
function loadEnvOf(flags: EnvFileFlags): void {
  loadCommandEnv(flags, { env: process.env, cwd: process.cwd() })
}

/**
 * The IO the emulator commands use; {@link processIo} is the real one.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface EmulatorIo {
  env: Readonly<Record<string, string | undefined>>
  stdout: { write(chunk: string): unknown }
  stderr: { write(chunk: string): unknown }
  stdin: NodeJS.ReadableStream & { isTTY?: boolean }
}

/**
 * The process's own environment and streams.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export function processIo(): EmulatorIo {
  return { env: process.env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }
}

/**
 * Flags shared by `verify`, `send` and `chat` (commander's camelCase of the options).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface EmulatorFlags extends EnvFileFlags {
  /** Overrides `WX_MP_TOKEN`. */
  token?: string
  /** Overrides `WX_MP_AES_KEY`. */
  aesKey?: string
  /** Overrides `WX_MP_APPID`. */
  appid?: string
  mode?: string
  /** The user's OpenID. */
  from?: string
  /** The account's original id (`gh_…`). */
  to?: string
  json?: boolean
  /** Not a CLI flag: lets tests shorten WeChat's 5 s deadline. */
  attemptTimeoutMs?: number
  /** Not a CLI flag: lets tests shorten WeChat's re-push pause. */
  repushDelayMs?: number
}

/**
 * Flags of the mock WeChat API that `send` and `chat` can start.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 */
export interface MockApiFlags {
  /** The account kind the mock plays: test, personal or verified. */
  account?: string
  /** Port of the mock API on 127.0.0.1 (0: any free port); default {@link DEFAULT_MOCK_API_PORT}. */
  apiPort?: string | number
  /** Seconds to keep listening for late customer-service messages. */
  wait?: string | number
}

/**
 * The mock API's default port: next to the bot's default 5001, and fixed so that a bot started
 * once with `WX_MP_API_BASE_URL=http://127.0.0.1:5002` keeps working across `chat` restarts.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 */
export const DEFAULT_MOCK_API_PORT = 5002

/**
 * The flags of `send`.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface SendFlags extends EmulatorFlags, MockApiFlags {
  text?: string
  image?: string
  voice?: boolean
  recognition?: string
  video?: boolean
  shortvideo?: boolean
  location?: string
  link?: string
  event?: string
  key?: string
  ticket?: string
  scanResult?: string
  /** `--field TAG=VALUE`, repeatable: elements of the push (e.g. `KfAccount=kf2001@gh_…`). */
  field?: string[]
}

/** Reads `--field TAG=VALUE` flags into elements. */
function fieldsFromFlags(flags: SendFlags): Record<string, string> | undefined {
  if (!flags.field || flags.field.length === 0) return undefined
  const elements: Record<string, string> = {}
  for (const entry of flags.field) {
    const at = entry.indexOf('=')
    const tag = at > 0 ? entry.slice(0, at) : ''
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(tag)) throw new ConfigError(`--field needs TAG=VALUE with an XML element name, e.g. --field KfAccount=kf2001@gh_123 (got ${JSON.stringify(entry)}).`)
    elements[tag] = entry.slice(at + 1)
  }
  return elements
}

class ConfigError extends Error {}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

/**
 * Turns flags and environment into emulator options: `--token`/`--aes-key`/`--appid` override
 * `WX_MP_TOKEN`/`WX_MP_AES_KEY`/`WX_MP_APPID`; the mode defaults to safe when an AES key is set.
 * `verify` needs only the token (the handshake is the same in every mode).
 *
 * @throws an error naming the variable and the fix when something is missing.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export function resolveEmulatorOptions(url: string, flags: EmulatorFlags, env: EmulatorIo['env'], forVerify = false): EmulatorOptions {
  const token = nonEmpty(flags.token) ?? nonEmpty(env['WX_MP_TOKEN'])
  const aesKey = nonEmpty(flags.aesKey) ?? nonEmpty(env['WX_MP_AES_KEY'])
  const appId = nonEmpty(flags.appid) ?? nonEmpty(env['WX_MP_APPID'])
  if (!token) {
    throw new ConfigError('No token: set WX_MP_TOKEN to the Token (令牌) of 设置与开发 → 基本配置 → 服务器配置, or pass --token TOKEN.')
  }
  const mode = (flags.mode ?? (aesKey ? 'safe' : 'plain')) as EmulatorMode
  if (!emulatorModes.includes(mode)) throw new ConfigError(`--mode must be plain, compat or safe (got ${JSON.stringify(flags.mode)}).`)
  const options: EmulatorOptions = { url, token, mode: forVerify ? 'plain' : mode }
  if (!forVerify && mode !== 'plain') {
    if (!aesKey) {
      throw new ConfigError(
        `--mode ${mode} needs the EncodingAESKey: set WX_MP_AES_KEY to the 消息加解密密钥 (43 characters) of 服务器配置, or pass --aes-key KEY (or use --mode plain).`,
      )
    }
    if (!appId) {
      throw new ConfigError(`--mode ${mode} needs the AppID: set WX_MP_APPID to the 开发者ID (AppID, wx…) of 基本配置, or pass --appid APPID.`)
    }
    options.aesKey = aesKey
    options.appId = appId
  }
  if (flags.from) options.fromUserName = flags.from
  if (flags.to) options.toUserName = flags.to
  if (flags.attemptTimeoutMs !== undefined) options.attemptTimeoutMs = flags.attemptTimeoutMs
  if (flags.repushDelayMs !== undefined) options.repushDelayMs = flags.repushDelayMs
  return options
}

function emulatorFrom(url: string, flags: EmulatorFlags, env: EmulatorIo['env'], forVerify = false, mockApi?: MockApi): Emulator {
  const options = resolveEmulatorOptions(url, flags, env, forVerify)
  if (mockApi) options.mockApi = mockApi
  try {
    return createEmulator(options)
  } catch (err) {
    if (isWxMpError(err) && err.code === 'INVALID_AES_KEY') throw new ConfigError(`WX_MP_AES_KEY / --aes-key: ${err.message}`)
    throw err
  }
}

function requireKey(flags: SendFlags, event: string, what: string): string {
  if (!flags.key) throw new ConfigError(`--event ${event} needs --key: ${what}.`)
  return flags.key
}

function location(flags: SendFlags, what: string): NonNullable<ReturnType<typeof parseLatLng>> {
  const at = flags.location === undefined ? undefined : parseLatLng(flags.location)
  if (!at) throw new ConfigError(`${what} needs --location LAT,LNG (e.g. --location 39.9042,116.4074).`)
  return at
}

const picEvents = new Set(['pic_sysphoto', 'pic_photo_or_album', 'pic_weixin'])

function eventFromFlags(flags: SendFlags, event: string): PushInput {
  const input = eventInputFromFlags(flags, event)
  const extra = fieldsFromFlags(flags)
  if (extra === undefined || typeof input === 'string') return input
  if ('custom' in input) return { ...input, elements: { ...input.elements, ...extra } }
  return { ...input, extra }
}

/** Events of the catalogue that take no flags of their own: every field has a default; --field sets any. */
const catalogueOnlyEvents = new Set([
  'MASSSENDJOBFINISH',
  'PUBLISHJOBFINISH',
  'subscribe_msg_popup_event',
  'subscribe_msg_change_event',
  'subscribe_msg_sent_event',
  'kf_create_session',
  'kf_close_session',
  'kf_switch_session',
])

function eventInputFromFlags(flags: SendFlags, event: string): PushInput {
  switch (event) {
    case 'subscribe': {
      if (!flags.key) return { msgType: 'event', event }
      const eventKey = flags.key.startsWith('qrscene_') ? flags.key : `qrscene_${flags.key}`
      return { msgType: 'event', event, eventKey, ...(flags.ticket ? { ticket: flags.ticket } : {}) }
    }
    case 'unsubscribe':
      return { msgType: 'event', event }
    case 'SCAN':
      return { msgType: 'event', event, eventKey: requireKey(flags, event, 'the QR scene'), ...(flags.ticket ? { ticket: flags.ticket } : {}) }
    case 'LOCATION': {
      // --location LAT,LNG[,PRECISION]
      const at = location(flags, '--event LOCATION')
      return { msgType: 'event', event, latitude: at.locationX, longitude: at.locationY, ...(at.label ? { precision: at.label } : {}) }
    }
    case 'CLICK':
      return { msgType: 'event', event, eventKey: requireKey(flags, event, 'the menu button key') }
    case 'VIEW':
    case 'view_miniprogram':
      return { msgType: 'event', event, eventKey: requireKey(flags, event, event === 'VIEW' ? 'the URL of the button' : 'the page path') }
    case 'scancode_push':
    case 'scancode_waitmsg':
      return { msgType: 'event', event, eventKey: requireKey(flags, event, 'the menu button key'), scanResult: flags.scanResult ?? '' }
    case 'location_select':
      return { msgType: 'event', event, eventKey: requireKey(flags, event, 'the menu button key'), ...location(flags, '--event location_select') }
    case 'TEMPLATESENDJOBFINISH':
      return { msgType: 'event', event }
    default:
      if (picEvents.has(event)) {
        return { msgType: 'event', event: event as 'pic_weixin', eventKey: requireKey(flags, event, 'the menu button key') }
      }
      if (catalogueOnlyEvents.has(event)) return { msgType: 'event', event: event as 'kf_create_session' }
      return { custom: true, msgType: 'event', event, elements: flags.key ? { EventKey: flags.key } : {} }
  }
}

/**
 * The push the `send` flags describe (exactly one kind of message).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export function pushFromFlags(message: string | undefined, flags: SendFlags): PushInput {
  const given = [
    message !== undefined && '[message]',
    flags.text !== undefined && '--text',
    flags.image !== undefined && '--image',
    flags.voice && '--voice',
    flags.video && '--video',
    flags.shortvideo && '--shortvideo',
    flags.location !== undefined && flags.event === undefined && '--location',
    flags.link !== undefined && '--link',
    flags.event !== undefined && '--event',
  ].filter((g): g is string => typeof g === 'string')
  if (given.length > 1) throw new ConfigError(`Send one kind of message at a time (got ${given.join(', ')}).`)
  if (flags.event !== undefined) return eventFromFlags(flags, flags.event)
  const content = message ?? flags.text
  if (content !== undefined) return { msgType: 'text', content }
  if (flags.image !== undefined) return { msgType: 'image', picUrl: flags.image }
  if (flags.voice) return flags.recognition === undefined ? { msgType: 'voice' } : { msgType: 'voice', recognition: flags.recognition }
  if (flags.video) return { msgType: 'video' }
  if (flags.shortvideo) return { msgType: 'shortvideo' }
  if (flags.location !== undefined) return { msgType: 'location', ...location(flags, '--location') }
  if (flags.link !== undefined) return { msgType: 'link', url: flags.link }
  throw new ConfigError('Nothing to send: give a text (wx-mp-svr send URL "hello") or one of --text, --image, --voice, --video, --location, --link, --event.')
}

/** `--wait` in milliseconds (0 when absent). */
function waitMsOf(flags: MockApiFlags): number {
  if (flags.wait === undefined) return 0
  const seconds = Number(flags.wait)
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 3600) {
    throw new ConfigError(`--wait takes seconds, from 0 to 3600 (got ${JSON.stringify(String(flags.wait))}).`)
  }
  return Math.round(seconds * 1000)
}

function presetOf(flags: MockApiFlags): MockApiPreset {
  const account = flags.account ?? 'test'
  if (!(mockApiPresets as readonly string[]).includes(account)) {
    throw new ConfigError(`--account must be ${mockApiPresets.join(', ')} (got ${JSON.stringify(account)}).`)
  }
  return account as MockApiPreset
}

function apiPortOf(flags: MockApiFlags): number {
  if (flags.apiPort === undefined) return DEFAULT_MOCK_API_PORT
  const port = Number(flags.apiPort)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--api-port must be a port number, 0 for any free one (got ${JSON.stringify(String(flags.apiPort))}).`)
  return port
}

/**
 * Starts the mock WeChat API for `send`/`chat`: the account kind from `--account`, the AppID and
 * AppSecret the bot uses (`--appid`/`WX_MP_APPID`, `WX_MP_APPSECRET`) or the mock's defaults.
 * A taken port is a {@link ConfigError} naming `--api-port`.
 */
async function startCliMockApi(flags: EmulatorFlags & MockApiFlags, env: EmulatorIo['env']): Promise<MockApi> {
  const preset = presetOf(flags)
  const port = apiPortOf(flags)
  const appId = nonEmpty(flags.appid) ?? nonEmpty(env['WX_MP_APPID'])
  const appSecret = nonEmpty(env['WX_MP_APPSECRET'])
  try {
    return await startMockApi({ preset, port, ...(appId ? { appId } : {}), ...(appSecret ? { appSecret } : {}) })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') {
      throw new ConfigError(`The mock WeChat API cannot listen on 127.0.0.1:${port}: the port is in use (another chat?). Pass --api-port PORT, or --api-port 0 for any free port.`)
    }
    throw new ConfigError(`The mock WeChat API cannot start on 127.0.0.1:${port}: ${(err as Error).message}`)
  }
}

/** The lines telling the user where the mock API is and how to point the bot at it. */
function mockApiBanner(api: MockApi, env: EmulatorIo['env']): string {
  const secretFromEnv = nonEmpty(env['WX_MP_APPSECRET']) !== undefined
  const credentials = secretFromEnv
    ? `AppID ${api.appId}, the AppSecret in WX_MP_APPSECRET`
    : `AppID ${api.appId}, AppSecret ${api.appSecret}${api.appId === MOCK_APP_ID && api.appSecret === MOCK_APP_SECRET ? ' (the mock\'s defaults)' : ''}`
  return [
    `Mock WeChat API at ${api.baseUrl} — ${describePreset(api.preset)}.`,
    `  It accepts ${credentials}. Start the bot with:`,
    `  WX_MP_API_BASE_URL=${api.baseUrl} WX_MP_APPID=${api.appId} WX_MP_APPSECRET=${secretFromEnv ? '…' : api.appSecret}`,
  ].join('\n') + '\n'
}

function reportConfigError(err: unknown, io: EmulatorIo, json: boolean | undefined): number {
  if (!(err instanceof ConfigError) && !isWxMpError(err)) throw err
  const message = err.message
  io.stderr.write(`wx-mp-svr: ${message}\n`)
  if (json) io.stdout.write(JSON.stringify({ error: { code: 'INVALID_CONFIG', message } }, null, 2) + '\n')
  return 1
}

/**
 * `wx-mp-svr verify <url>`: the admin page's URL check. Exit 0 when it would pass, 1 otherwise.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 */
export async function runVerify(url: string, flags: EmulatorFlags, io: EmulatorIo): Promise<number> {
  let emulator: Emulator
  try {
    emulator = emulatorFrom(url, flags, io.env, true)
  } catch (err) {
    return reportConfigError(err, io, flags.json)
  }
  const result = await emulator.verify()
  io.stdout.write(flags.json ? JSON.stringify(result, null, 2) + '\n' : formatVerifyResult(result))
  return result.ok ? 0 : 1
}

/**
 * `wx-mp-svr send <url> [message]`: one push, judged as WeChat would. Exit 0 when the user sees
 * a reply or nothing, 1 when WeChat would show its failure notice (or the configuration is wrong).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export async function runSend(url: string, message: string | undefined, flags: SendFlags, io: EmulatorIo): Promise<number> {
  let result: SendResult
  let mockApi: MockApi | undefined
  let waitMs = 0
  try {
    waitMs = waitMsOf(flags)
    const push = pushFromFlags(message, flags)
    resolveEmulatorOptions(url, flags, io.env)
    if (flags.account !== undefined || flags.apiPort !== undefined || waitMs > 0) {
      mockApi = await startCliMockApi(flags, io.env)
      io.stderr.write(mockApiBanner(mockApi, io.env))
    }
    const emulator = emulatorFrom(url, flags, io.env, false, mockApi)
    if (waitMs > 0 && !flags.json) io.stderr.write(`Listening for customer-service messages until ${(waitMs / 1000).toFixed(1)} s after the push…\n`)
    result = await emulator.send(push, { waitMs })
  } catch (err) {
    await mockApi?.close()
    return reportConfigError(err, io, flags.json)
  }
  await mockApi?.close()
  io.stdout.write(flags.json ? JSON.stringify(result, null, 2) + '\n' : formatSendResult(result, { timeline: waitMs > 0, waitMs }))
  return result.ok ? 0 : 1
}

/**
 * The flags of `chat`.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface ChatFlags extends EmulatorFlags, MockApiFlags {}

/**
 * `wx-mp-svr chat <url>`: a conversation from one user, a line per message, replies as bubbles.
 * It starts the mock WeChat API (`--account`, default `test`) and shows the bot's
 * customer-service messages as they arrive, marked 客服, above the prompt. With a pipe on stdin,
 * sends every line in order, listens `--wait` seconds more for late customer-service messages,
 * and exits: 0 when every push got a reply or nothing, 1 when any got WeChat's failure notice.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export async function runChat(url: string, flags: ChatFlags, io: EmulatorIo): Promise<number> {
  let emulator: Emulator
  let mockApi: MockApi | undefined
  let waitMs: number
  try {
    waitMs = waitMsOf(flags)
    resolveEmulatorOptions(url, flags, io.env)
    try {
      mockApi = await startCliMockApi(flags, io.env)
    } catch (err) {
      // Without an explicit --account/--api-port, a taken default port only costs the 客服 view.
      if (flags.account !== undefined || flags.apiPort !== undefined) throw err
      io.stderr.write(`${(err as Error).message}\nChatting without the mock WeChat API: customer-service messages will not show.\n`)
    }
    emulator = emulatorFrom(url, flags, io.env, false, mockApi)
  } catch (err) {
    await mockApi?.close()
    return reportConfigError(err, io, false)
  }
  const interactive = io.stdin.isTTY === true
  io.stdout.write(`Chatting with ${url} as ${emulator.fromUserName} → ${emulator.toUserName} (${emulator.mode} mode). /help for commands.\n`)
  if (mockApi) io.stdout.write(mockApiBanner(mockApi, io.env))
  const rl = createInterface({
    input: io.stdin,
    ...(interactive ? { output: io.stdout as NodeJS.WritableStream, terminal: true } : { terminal: false }),
  })
  rl.setPrompt('▶ ')
  let busy = false
  let lastPushAt = Date.now()
  // Customer-service messages arrive at any time: print them above the prompt and redraw it with
  // what the user was typing, so the prompt stays usable.
  const printAbove = (text: string): void => {
    if (interactive && !busy) {
      const out = io.stdout as NodeJS.WritableStream
      clearLine(out, 0)
      cursorTo(out, 0)
      io.stdout.write(text)
      rl.prompt(true)
    } else {
      io.stdout.write(text)
    }
  }
  const unsubscribe = mockApi?.onMessage((m) => {
    if (m.openId === emulator.fromUserName) printAbove(formatCustomerServiceBubble(m.text, Math.max(0, m.at - lastPushAt)))
  })
  const unsubscribeTyping = mockApi?.onTyping((openId, typing) => {
    if (openId === emulator.fromUserName && typing) printAbove('  … 对方正在输入 (typing)\n')
  })
  if (interactive) rl.prompt()
  let failures = 0
  for await (const line of rl) {
    const parsed = parseChatLine(line)
    if (parsed.kind === 'quit') break
    if (parsed.kind === 'help') io.stdout.write(chatHelp + '\n')
    else if (parsed.kind === 'error') io.stderr.write(parsed.message + '\n')
    else if (parsed.kind === 'push') {
      if (!interactive) io.stdout.write(`▶ ${line}\n`)
      busy = true
      lastPushAt = Date.now()
      try {
        const result = await emulator.send(parsed.push, {
          // Show each retry as it happens: a held attempt takes 5 s, and the user should see why.
          onAttempt: (a, n) => {
            if (a.error !== undefined && n < MAX_ATTEMPTS) {
              io.stdout.write(`  · attempt ${n}: ${a.error} after ${a.ms} ms — WeChat pushes again${a.error === 'timeout' ? '' : ' at once'}\n`)
            }
          },
        })
        if (!result.ok) failures++
        io.stdout.write(formatBubble(result))
      } catch (err) {
        if (!isWxMpError(err)) throw err
        io.stderr.write(err.message + '\n')
      } finally {
        busy = false
      }
    }
    if (interactive) rl.prompt()
  }
  rl.close()
  // Piped input ends at once: --wait leaves time for late customer-service messages. (At the
  // prompt, the user waits as long as they like before /quit.)
  const rest = interactive ? 0 : lastPushAt + waitMs - Date.now()
  if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest))
  unsubscribe?.()
  unsubscribeTyping?.()
  await mockApi?.close()
  return failures > 0 ? 1 : 0
}

function mockApiOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--account <kind>', 'start the mock WeChat API as this account: test (测试号), personal (个人订阅号: 客服 answers 48001), verified (认证号: 5 客服 messages per 48 h)').choices([
        ...mockApiPresets,
      ]),
    )
    .option('--api-port <port>', `port of the mock WeChat API on 127.0.0.1 (0: any free port; default ${DEFAULT_MOCK_API_PORT})`)
}

const emulatorHelp = `
The emulator keeps WeChat's timing: attempts at 0 / 5 / 10 s on new connections with the same
query and body, each dropped at 5 s, an immediate re-push after a non-200 answer, and the failure
notice after the third failed attempt.

Mock WeChat API: with --account (chat: always) the emulator serves token, stable_token,
message/custom/send and message/custom/typing on 127.0.0.1:${DEFAULT_MOCK_API_PORT} and prints the
base URL: start the bot with WX_MP_API_BASE_URL=<that URL> so that its customer-service messages
reach the emulator.

HTTPS with a self-signed certificate (local tests only; WeChat itself needs a public CA):
  NODE_EXTRA_CA_CERTS=ca.pem wx-mp-svr send https://127.0.0.1:8443/wx --text hi
`

function credentialOptions(command: Command, withMode: boolean): Command {
  withEnvFileOptions(command)
  command
    .option('--token <token>', 'the Token (令牌); overrides WX_MP_TOKEN')
    .option('--aes-key <key>', 'the EncodingAESKey (消息加解密密钥); overrides WX_MP_AES_KEY')
    .option('--appid <appid>', 'the AppID; overrides WX_MP_APPID')
  if (withMode) {
    command
      .addOption(new Option('--mode <mode>', 'message encryption: plain, compat or safe (default: safe when an AES key is set, else plain)').choices([...emulatorModes]))
      .option('--from <openid>', "the user's OpenID (default: a random one)")
      .option('--to <gh_id>', "the account's original id, gh_… (default: a random one)")
  }
  return command
}

/**
 * Adds `verify`, `send` and `chat` to the CLI. The actions set `process.exitCode`; run the
 * program with `parseAsync`.
 *
 * @example
 * ```ts
 * const program = new Command('wx-mp-svr')
 * registerEmulatorCommands(program)
 * await program.parseAsync()
 * ```
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 */
export function registerEmulatorCommands(program: Command): void {
  credentialOptions(
    program.command('verify').description("check a server URL as the admin page's 提交 button does (GET with echostr)").argument('<url>', 'the server URL'),
    false,
  )
    .option('--json', 'print the result as JSON')
    .action(async (url: string, flags: EmulatorFlags) => {
      loadEnvOf(flags)
      process.exitCode = await runVerify(url, flags, processIo())
    })

  const send = credentialOptions(
    program
      .command('send')
      .description('send one push to a server as WeChat does (signed, encrypted, 5 s × 3 attempts) and show what the phone would show')
      .argument('<url>', 'the server URL')
      .argument('[message]', 'a text message'),
    true,
  )
    .option('--text <text>', 'a text message')
    .option('--image <picurl>', 'an image message with this PicUrl')
    .option('--voice', 'a voice message')
    .option('--recognition <text>', 'with --voice: the speech recognition result')
    .option('--video', 'a video message')
    .option('--shortvideo', 'a short video message')
    .option('--location <lat,lng[,label]>', 'a location message (with --event LOCATION or location_select: the location)')
    .option('--link <url>', 'a link message')
    .option(
      '--event <event>',
      'an event: subscribe, unsubscribe, SCAN, LOCATION, CLICK, VIEW, view_miniprogram, scancode_push, scancode_waitmsg, pic_sysphoto, pic_photo_or_album, pic_weixin, location_select, TEMPLATESENDJOBFINISH, MASSSENDJOBFINISH, PUBLISHJOBFINISH, subscribe_msg_popup_event, subscribe_msg_change_event, subscribe_msg_sent_event, kf_create_session, kf_close_session, kf_switch_session, or any other name (sent as is)',
    )
    .option('--field <tag=value>', 'with --event: an element of the push, e.g. KfAccount=kf2001@gh_123 or MsgID=1000001625 (repeatable)', (value: string, all: string[] = []) => [...all, value])
    .option('--key <key>', 'the EventKey (menu key, QR scene, URL)')
    .option('--ticket <ticket>', 'the QR code Ticket (subscribe, SCAN)')
    .option('--scan-result <text>', 'scancode_push/scancode_waitmsg: what the scanner read')
    .option('--json', 'print { ok, attempts, reply, shown, warnings, messages, … } as JSON')
    .option('--wait <seconds>', 'keep listening (to the mock WeChat API) until this many seconds after the push, and report every message the user sees, with times')
  mockApiOptions(send)
  send.addHelpText('after', emulatorHelp)
  send.action(async (url: string, message: string | undefined, flags: SendFlags) => {
      loadEnvOf(flags)
      process.exitCode = await runSend(url, message, flags, processIo())
    })

  const chat = credentialOptions(
    program.command('chat').description('chat with a server as one WeChat user: a line per message, /help for events; 客服 messages show as they arrive').argument('<url>', 'the server URL'),
    true,
  ).option('--wait <seconds>', 'with piped input: after the last line, keep listening this many seconds for customer-service messages')
  mockApiOptions(chat)
  chat.addHelpText('after', emulatorHelp)
  chat.action(async (url: string, flags: ChatFlags) => {
    loadEnvOf(flags)
    process.exitCode = await runChat(url, flags, processIo())
  })
}
