/**
 * XML → typed {@link Message}, dispatched by the {@link catalogue} table (whose module lists the
 * official page of each kind).
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

/**
 * `createTime` of a push that lacks `<CreateTime>`: `0`, which no real push has (WeChat always
 * sends one; a push without it is answered rather than refused).
 */
export const MISSING_CREATE_TIME = 0

function describe(context: string, tag: string): string {
  return context ? `${context}.${tag}` : tag
}

/**
 * The text of an element as read by {@link parseXmlDocument} (the first, when repeated);
 * `undefined` when absent. Shared with the reply reader (`reply.ts`).
 *
 * @throws {WxMpError} `MALFORMED_XML` when the element holds child elements.
 */
export function readText(node: XmlNode | XmlNode[] | undefined, where: string): string | undefined {
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
      let tag: string = spec.tag
      if (parent[tag] === undefined && spec.aliases) tag = spec.aliases.find((alias) => parent[alias] !== undefined) ?? tag
      return readText(parent[tag], describe(context, tag))
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

/**
 * Reads the fields of `table` from `element` into `into`. An element the push lacks leaves its
 * field absent, whether or not WeChat documents it as always sent (see the module `messages.ts`).
 */
function readFields(element: XmlElement, table: FieldTable, context: string, into: Record<string, unknown> = {}): Record<string, unknown> {
  for (const name in table) {
    const value = readField(element, table[name]!, context)
    if (value !== undefined) into[name] = value
  }
  return into
}

/**
 * The mechanical mapping of an element of an unknown kind: text stays text, child elements become
 * an object of camelCased names, repeated elements an array. `#text` beside child elements (mixed
 * content, which WeChat does not send) is left to `raw`.
 */
function camelCaseNode(node: XmlNode | XmlNode[]): unknown {
  if (Array.isArray(node)) return node.map(camelCaseNode)
  if (typeof node === 'string') return node
  const keys = Object.keys(node)
  if (keys.length > 0 && keys.every((k) => k === '#text')) return String(node['#text'])
  const out: Record<string, unknown> = {}
  for (const tag of keys) {
    if (tag === '#text') continue
    const name = camelCaseTag(tag)
    if (!(name in out)) out[name] = camelCaseNode(node[tag]!)
  }
  return out
}

/**
 * Copies every element of an unknown kind of push onto the message, camelCased (nested elements
 * too), without overwriting what is already there (the header, `msgType`, `event`, `original*`).
 */
function readUnknownFields(element: XmlElement, into: Record<string, unknown>): void {
  for (const tag in element) {
    if (tag === '#text') continue
    const name = camelCaseTag(tag)
    if (name in into || name === 'raw') continue
    into[name] = camelCaseNode(element[tag]!)
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
 * - Only `ToUserName`, `FromUserName`, `MsgType` (and `Event` for events) are required: any other
 *   element the push lacks is absent from the result; a missing `CreateTime` reads as
 *   {@link MISSING_CREATE_TIME} (`0`). `MsgId` and `MsgID` are both read as `msgId`.
 * - Unknown kinds get every element camelCased onto the object, nested elements too.
 *
 * {@link writeMessage} is the inverse: `parseMessage(writeMessage(m))` deep-equals `m`.
 *
 * @throws {WxMpError} `MALFORMED_XML` when the document is not XML, has no `<xml>` root, lacks one
 * of the required elements, or holds an element of the wrong shape (nested elements where text is
 * expected, a count that is not an integer); `DOCTYPE_FORBIDDEN`.
 *
 * @example
 * ```ts
 * const msg = parseMessage(xml)
 * if (msg.msgType === 'text') console.log(msg.content)
 * else if (msg.msgType === 'event' && msg.event === 'CLICK') console.log(msg.eventKey)
 * ```
 */
export function parseMessage(xml: string): Message {
  const root = parseXmlDocument(xml)
  const msgType = readText(root['MsgType'], 'MsgType')
  if (msgType === undefined || msgType === '') throw new WxMpError('MALFORMED_XML', 'The push lacks <MsgType>.')
  const msg: Record<string, unknown> = readFields(root, commonFields, '')
  for (const name of ['toUserName', 'fromUserName'] as const) {
    if (msg[name] === undefined) throw new WxMpError('MALFORMED_XML', `The push lacks <${commonFields[name].tag}>.`)
  }
  msg['createTime'] ??= MISSING_CREATE_TIME
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
      } else if (event === 'SCAN' && msg['eventKey'] !== undefined) {
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
