/**
 * XML → typed {@link Message}, dispatched by the {@link catalogue} table.
 *
 * Official references:
 * - https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 * - https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 *
 * @module
 */
import { WxMpError } from './errors.js'
import { catalogue, commonFields, type FieldSpec, type FieldTable, type Message } from './messages.js'
import { parseXmlDocument, type XmlElement, type XmlNode } from './xml.js'

/**
 * The camelCase of a WeChat element name: `FromUserName` → `fromUserName`,
 * `Location_X` → `locationX`, `MsgID` → `msgId`, `publish_id` → `publishId`.
 */
export function camelCaseTag(tag: string): string {
  const words = tag.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+|[0-9]+/g)
  if (!words) return tag
  return words
    .map((w, i) => (i === 0 ? w.toLowerCase() : w[0]!.toUpperCase() + w.slice(1).toLowerCase()))
    .join('')
}

const integerForm = /^\s*-?\d{1,15}\s*$/

function describe(context: string, tag: string): string {
  return context ? `${context}.${tag}` : tag
}

function readText(node: XmlNode | XmlNode[] | undefined, where: string): string | undefined {
  if (node === undefined) return undefined
  const value = Array.isArray(node) ? node[0] : node
  if (typeof value === 'string') return value
  if (value !== undefined && Object.keys(value).every((k) => k === '#text')) return String(value['#text'] ?? '')
  throw new WxMpError('MALFORMED_XML', `<${where}> must hold text, not nested elements.`)
}

function readElement(node: XmlNode | XmlNode[] | undefined, where: string): XmlElement | undefined {
  if (node === undefined) return undefined
  const value = Array.isArray(node) ? node[0] : node
  if (value === '' || value === undefined) return {}
  if (typeof value === 'string') {
    if (value.trim() === '') return {}
    throw new WxMpError('MALFORMED_XML', `<${where}> must hold child elements.`)
  }
  return value
}

function readField(parent: XmlElement, spec: FieldSpec, context: string): unknown {
  switch (spec.kind) {
    case 'text': {
      const where = describe(context, spec.tag)
      return readText(parent[spec.tag], where)
    }
    case 'integer': {
      const where = describe(context, spec.tag)
      const text = readText(parent[spec.tag], where)
      if (text === undefined) return undefined
      if (!integerForm.test(text)) throw new WxMpError('MALFORMED_XML', `<${where}> must be an integer, got "${text.slice(0, 32)}".`)
      return Number(text)
    }
    case 'group': {
      const where = describe(context, spec.tag)
      const element = readElement(parent[spec.tag], where)
      return element === undefined ? undefined : readFields(element, spec.fields, where)
    }
    case 'list': {
      const [wrapperTag, itemTag] = spec.path.includes('.') ? spec.path.split('.') : [undefined, spec.path]
      let holder: XmlElement | undefined = parent
      let where = context
      if (wrapperTag !== undefined) {
        where = describe(context, wrapperTag)
        holder = readElement(parent[wrapperTag], where)
        if (holder === undefined) return undefined
      }
      const items = holder[itemTag!]
      if (items === undefined) return wrapperTag === undefined ? undefined : []
      const list = Array.isArray(items) ? items : [items]
      const itemWhere = describe(where, itemTag!)
      return list.map((item) => readFields(readElement(item, itemWhere) ?? {}, spec.fields, itemWhere))
    }
    case 'textList': {
      const where = describe(context, spec.tag)
      const node = parent[spec.tag]
      if (node === undefined) return undefined
      return (Array.isArray(node) ? node : [node]).map((n) => readText(n, where)!)
    }
  }
}

function readFields(element: XmlElement, table: FieldTable, context: string, into: Record<string, unknown> = {}): Record<string, unknown> {
  for (const name in table) {
    const spec = table[name]!
    const value = readField(element, spec, context)
    if (value === undefined) {
      if (!spec.optional) {
        const tag = 'tag' in spec ? spec.tag : spec.path.split('.')[0]!
        throw new WxMpError('MALFORMED_XML', `The push lacks <${describe(context, tag)}>.`)
      }
      continue
    }
    into[name] = value
  }
  return into
}

/** Copies every element of an unknown kind of push, camelCased, without overwriting known fields. */
function readUnknownFields(element: XmlElement, into: Record<string, unknown>): void {
  for (const tag in element) {
    if (tag === '#text') continue
    const name = camelCaseTag(tag)
    if (name in into || name === 'msgType' || name === 'event') continue
    into[name] = element[tag]
  }
}

/**
 * Parses a plaintext WeChat push (plain mode, or what {@link WxMpCrypto.decryptMessage} returns)
 * into a typed {@link Message}.
 *
 * - Values are strings unless they are counts or `CreateTime` (seconds, a number); `msgId` stays
 *   an exact string.
 * - CDATA is unwrapped; text is kept exactly, including raw control characters such as `\x1d`.
 * - Documents with a DOCTYPE or entity declarations are refused (`DOCTYPE_FORBIDDEN`); only XML's
 *   five predefined entities and character references are expanded.
 * - An unknown `MsgType` or `Event` becomes an {@link UnknownMessage} (`msgType: 'unknown'`) or
 *   {@link UnknownEvent} (`event: 'unknown'`), never an exception; the value sent is kept in
 *   `originalMsgType` / `originalEvent` (and `raw`).
 * - Subscribe events from a parametric QR code get `qrScene` (EventKey without `qrscene_`);
 *   `eventKey` itself is kept exactly as sent.
 *
 * @throws {WxMpError} `MALFORMED_XML` when the document is not XML, has no `<xml>` root, or lacks a
 * field the catalogue requires; `DOCTYPE_FORBIDDEN`.
 *
 * @example
 * ```ts
 * const msg = parseMessage(xml)
 * if (msg.msgType === 'text') console.log(msg.content)
 * else if (msg.msgType === 'event' && msg.event === 'CLICK') console.log(msg.eventKey)
 * ```
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export function parseMessage(xml: string): Message {
  const root = parseXmlDocument(xml)
  const msgType = readText(root['MsgType'], 'MsgType')
  if (msgType === undefined || msgType === '') throw new WxMpError('MALFORMED_XML', 'The push lacks <MsgType>.')
  const msg: Record<string, unknown> = readFields(root, commonFields, '')
  msg['msgType'] = msgType
  if (msgType === 'event') {
    const event = readText(root['Event'], 'Event')
    if (event === undefined || event === '') throw new WxMpError('MALFORMED_XML', 'The event push lacks <Event>.')
    msg['event'] = event
    const table = Object.hasOwn(catalogue.events, event) ? (catalogue.events as Record<string, FieldTable>)[event] : undefined
    if (table) {
      readFields(root, table, '', msg)
      if (event === 'subscribe') {
        const key = msg['eventKey']
        if (typeof key === 'string' && key.startsWith('qrscene_')) msg['qrScene'] = key.slice('qrscene_'.length)
      } else if (event === 'SCAN') {
        msg['qrScene'] = msg['eventKey']
      }
    } else {
      msg['event'] = 'unknown'
      msg['originalEvent'] = event
      readUnknownFields(root, msg)
    }
  } else {
    const table = Object.hasOwn(catalogue.messages, msgType)
      ? (catalogue.messages as Record<string, FieldTable>)[msgType]
      : undefined
    if (table) {
      readFields(root, table, '', msg)
    } else {
      msg['msgType'] = 'unknown'
      msg['originalMsgType'] = msgType
      readUnknownFields(root, msg)
    }
  }
  msg['raw'] = root
  return msg as unknown as Message
}
