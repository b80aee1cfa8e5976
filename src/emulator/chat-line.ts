/**
 * The little language of `wx-mp-svr chat`: a line is a text message from the user; a line
 * starting with `/` is another kind of push or a command.
 *
 * The kinds of pushes and their official pages are listed in `push.ts` (the inputs) and in the
 * core's catalogue (`messages.ts`).
 *
 * @module
 */
import { catalogue } from '../core/index.js'
import type { PushInput } from './push.js'

/**
 * What one line of chat input means.
 */
export type ChatLine =
  | { kind: 'push'; push: PushInput }
  | { kind: 'help' }
  | { kind: 'quit' }
  | { kind: 'skip' }
  | { kind: 'error'; message: string }

/**
 * The help text of the chat commands.
 */
export const chatHelp = [
  'Type a line to send it as a text message. Commands:',
  '  /sub [SCENE]        subscribe (with SCENE: through a parametric QR code)',
  '  /unsub              unsubscribe',
  '  /click KEY          tap a click menu button',
  '  /view URL           tap a link menu button',
  '  /scan SCENE         scan a parametric QR code as a subscriber',
  '  /image URL          send a picture',
  '  /voice [TEXT]       send a voice message (TEXT: the speech recognition)',
  '  /video              send a video',
  '  /loc LAT,LNG[,LABEL]  send a location',
  '  /link URL           share a link',
  '  /event NAME [TAG=VALUE …]  any event (kf_create_session, MASSSENDJOBFINISH, …) with its elements',
  '  //text              send a text that starts with /',
  '  /help, /quit',
].join('\n')

/**
 * Reads `LAT,LNG[,LABEL]` (as `--location` and `/loc` take it) into WeChat's `locationX`
 * (latitude), `locationY` (longitude) and `label`; `undefined` when it is not two numbers.
 */
export function parseLatLng(arg: string): { locationX: string; locationY: string; label?: string } | undefined {
  const [lat, lng, ...label] = arg.split(',')
  if (lat === undefined || lng === undefined || !isFinite(Number(lat)) || !isFinite(Number(lng)) || lat.trim() === '' || lng.trim() === '') {
    return undefined
  }
  return label.length > 0 ? { locationX: lat.trim(), locationY: lng.trim(), label: label.join(',').trim() } : { locationX: lat.trim(), locationY: lng.trim() }
}

/**
 * Reads one line of chat input. Text is sent exactly as typed (not trimmed); an empty line is
 * skipped.
 *
 * @example
 * ```ts
 * parseChatLine('/click MENU_HELP') // { kind: 'push', push: { msgType: 'event', event: 'CLICK', eventKey: 'MENU_HELP' } }
 * ```
 */
export function parseChatLine(line: string): ChatLine {
  if (line.trim() === '') return { kind: 'skip' }
  if (!line.startsWith('/')) return { kind: 'push', push: { msgType: 'text', content: line } }
  if (line.startsWith('//')) return { kind: 'push', push: { msgType: 'text', content: line.slice(1) } }
  const match = /^\/(\S+)\s*(.*)$/.exec(line.trimEnd())
  const command = match?.[1]?.toLowerCase() ?? ''
  const arg = match?.[2] ?? ''
  const needs = (what: string): ChatLine => ({ kind: 'error', message: `/${command} needs ${what}. Type /help for the commands.` })
  switch (command) {
    case 'help':
    case '?':
      return { kind: 'help' }
    case 'quit':
    case 'exit':
      return { kind: 'quit' }
    case 'sub':
    case 'subscribe':
      return { kind: 'push', push: arg ? { msgType: 'event', event: 'subscribe', eventKey: `qrscene_${arg}`, ticket: 'TICKET' } : { msgType: 'event', event: 'subscribe' } }
    case 'unsub':
    case 'unsubscribe':
      return { kind: 'push', push: { msgType: 'event', event: 'unsubscribe' } }
    case 'click':
      return arg ? { kind: 'push', push: { msgType: 'event', event: 'CLICK', eventKey: arg } } : needs('the button KEY')
    case 'view':
      return arg ? { kind: 'push', push: { msgType: 'event', event: 'VIEW', eventKey: arg } } : needs('the URL')
    case 'scan':
      return arg ? { kind: 'push', push: { msgType: 'event', event: 'SCAN', eventKey: arg, ticket: 'TICKET' } } : needs('the SCENE')
    case 'image':
      return arg ? { kind: 'push', push: { msgType: 'image', picUrl: arg } } : needs('the picture URL')
    case 'voice':
      return { kind: 'push', push: arg ? { msgType: 'voice', recognition: arg } : { msgType: 'voice' } }
    case 'video':
      return { kind: 'push', push: { msgType: 'video' } }
    case 'loc':
    case 'location': {
      const at = parseLatLng(arg)
      return at ? { kind: 'push', push: { msgType: 'location', ...at } } : needs('LAT,LNG (e.g. /loc 39.9,116.4)')
    }
    case 'link':
      return arg ? { kind: 'push', push: { msgType: 'link', url: arg } } : needs('the URL')
    case 'event': {
      const [name, ...pairs] = arg.split(/\s+/).filter((w) => w !== '')
      if (name === undefined) return needs('the event NAME')
      const extra: Record<string, string> = {}
      for (const pair of pairs) {
        const at = pair.indexOf('=')
        if (at <= 0) return needs(`TAG=VALUE pairs after the name (got ${JSON.stringify(pair)})`)
        extra[pair.slice(0, at)] = pair.slice(at + 1)
      }
      // A catalogue event gets its defaults and the pairs set its fields; any other name is sent as is.
      const push: PushInput = Object.hasOwn(catalogue.events, name)
        ? ({ msgType: 'event', event: name, extra } as PushInput)
        : { custom: true, msgType: 'event', event: name, elements: extra }
      return { kind: 'push', push }
    }
    default:
      return { kind: 'error', message: `Unknown command /${command}. Type /help for the commands, or //text to send a text starting with /.` }
  }
}
