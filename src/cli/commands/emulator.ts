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
import { createInterface } from 'node:readline'
import { Option, type Command } from 'commander'
import { isWxMpError } from '../../core/index.js'
import {
  chatHelp,
  createEmulator,
  emulatorModes,
  formatBubble,
  formatSendResult,
  formatVerifyResult,
  parseChatLine,
  parseLatLng,
  type Emulator,
  type EmulatorMode,
  type EmulatorOptions,
  type PushInput,
  type SendResult,
} from '../../emulator/index.js'

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
export interface EmulatorFlags {
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
}

/**
 * The flags of `send`.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface SendFlags extends EmulatorFlags {
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
  return options
}

function emulatorFrom(url: string, flags: EmulatorFlags, env: EmulatorIo['env'], forVerify = false): Emulator {
  const options = resolveEmulatorOptions(url, flags, env, forVerify)
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
  try {
    const emulator = emulatorFrom(url, flags, io.env)
    result = await emulator.send(pushFromFlags(message, flags))
  } catch (err) {
    return reportConfigError(err, io, flags.json)
  }
  io.stdout.write(flags.json ? JSON.stringify(result, null, 2) + '\n' : formatSendResult(result))
  return result.ok ? 0 : 1
}

/**
 * `wx-mp-svr chat <url>`: a conversation from one user, a line per message, replies as bubbles.
 * With a pipe on stdin, sends every line in order and exits at EOF: 0 when every push got a
 * reply or nothing, 1 when any got WeChat's failure notice.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export async function runChat(url: string, flags: EmulatorFlags, io: EmulatorIo): Promise<number> {
  let emulator: Emulator
  try {
    emulator = emulatorFrom(url, flags, io.env)
  } catch (err) {
    return reportConfigError(err, io, false)
  }
  const interactive = io.stdin.isTTY === true
  io.stdout.write(`Chatting with ${url} as ${emulator.fromUserName} → ${emulator.toUserName} (${emulator.mode} mode). /help for commands.\n`)
  const rl = createInterface({
    input: io.stdin,
    ...(interactive ? { output: io.stdout as NodeJS.WritableStream, terminal: true } : { terminal: false }),
  })
  rl.setPrompt('▶ ')
  if (interactive) rl.prompt()
  let failures = 0
  for await (const line of rl) {
    const parsed = parseChatLine(line)
    if (parsed.kind === 'quit') break
    if (parsed.kind === 'help') io.stdout.write(chatHelp + '\n')
    else if (parsed.kind === 'error') io.stderr.write(parsed.message + '\n')
    else if (parsed.kind === 'push') {
      if (!interactive) io.stdout.write(`▶ ${line}\n`)
      try {
        const result = await emulator.send(parsed.push)
        if (!result.ok) failures++
        io.stdout.write(formatBubble(result))
      } catch (err) {
        if (!isWxMpError(err)) throw err
        io.stderr.write(err.message + '\n')
      }
    }
    if (interactive) rl.prompt()
  }
  rl.close()
  return failures > 0 ? 1 : 0
}

function credentialOptions(command: Command, withMode: boolean): Command {
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
      process.exitCode = await runVerify(url, flags, processIo())
    })

  credentialOptions(
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
    .option('--json', 'print { attempts, reply, shown, warnings, ok } as JSON')
    .action(async (url: string, message: string | undefined, flags: SendFlags) => {
      process.exitCode = await runSend(url, message, flags, processIo())
    })

  credentialOptions(
    program.command('chat').description('chat with a server as one WeChat user: a line per message, /help for events').argument('<url>', 'the server URL'),
    true,
  ).action(async (url: string, flags: EmulatorFlags) => {
    process.exitCode = await runChat(url, flags, processIo())
  })
}
