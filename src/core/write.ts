/**
 * Typed {@link Message} → the XML WeChat pushes: the inverse of {@link parseMessage}, driven by the
 * same {@link catalogue} (whose module lists the official page of each kind).
 *
 * @module
 */
import { WxMpError } from './errors.js'
import { catalogue, commonFields, type FieldSpec, type FieldTable, type MessageToWrite } from './messages.js'
import { XmlBuilder, isDecimal, type XmlElement, type XmlNode } from './xml.js'

function invalid(message: string): WxMpError {
  return new WxMpError('INVALID_MESSAGE', message)
}

function where(context: string, name: string): string {
  return context ? `${context}.${name}` : name
}

function asElement(node: XmlNode | XmlNode[] | undefined): XmlElement | undefined {
  const value = Array.isArray(node) ? node[0] : node
  return value !== undefined && typeof value === 'object' ? value : undefined
}

function asArray(node: XmlNode | XmlNode[] | undefined): XmlNode[] {
  return node === undefined ? [] : Array.isArray(node) ? node : [node]
}

function addText(xml: XmlBuilder, tag: string, value: unknown, bare: boolean | undefined, path: string): void {
  if (typeof value !== 'string') throw invalid(`${path} must be a string, got ${typeof value}.`)
  if (bare && isDecimal(value)) xml.addDecimal(tag, value)
  else xml.add(tag, value)
}

/**
 * Writes an element of `raw` exactly as it was read: text (bare when it is a decimal number, as
 * WeChat writes numbers; CDATA otherwise), child elements, or one element per entry of an array.
 */
function addRaw(xml: XmlBuilder, tag: string, node: XmlNode | XmlNode[]): void {
  if (Array.isArray(node)) {
    for (const entry of node) addRaw(xml, tag, entry)
    return
  }
  if (typeof node === 'string') {
    if (isDecimal(node)) xml.addDecimal(tag, node)
    else xml.add(tag, node)
    return
  }
  const keys = Object.keys(node)
  if (keys.length > 0 && keys.every((k) => k === '#text')) {
    addRaw(xml, tag, String(node['#text']))
    return
  }
  const inner = new XmlBuilder()
  for (const key of keys) if (key !== '#text') addRaw(inner, key, node[key]!)
  xml.add(tag, inner)
}

/** Writes the elements of `raw` that `written` does not hold yet, in `raw`'s order. */
function addRawLeftovers(xml: XmlBuilder, raw: XmlElement | undefined, written: ReadonlySet<string>): void {
  if (!raw) return
  for (const tag of Object.keys(raw)) if (tag !== '#text' && !written.has(tag)) addRaw(xml, tag, raw[tag]!)
}

/**
 * Writes `values` as the elements `table` describes, in the table's order, then the elements of
 * `raw` (the same element as read, if any) no field covers. Absent values are not written.
 */
function addFields(xml: XmlBuilder, table: FieldTable, values: Record<string, unknown>, raw: XmlElement | undefined, context: string, written = new Set<string>()): void {
  for (const name in table) {
    const spec = table[name]!
    for (const tag of tagsOf(spec)) written.add(tag)
    const value = values[name]
    if (value === undefined) continue
    addField(xml, spec, value, raw, where(context, name))
  }
  addRawLeftovers(xml, raw, written)
}

/** The element names a field covers (all spellings; the wrapper of a list). */
function tagsOf(spec: FieldSpec): string[] {
  switch (spec.kind) {
    case 'text':
      return [spec.tag, ...(spec.aliases ?? [])]
    case 'list':
      return [spec.path.split('.')[0]!]
    default:
      return [spec.tag]
  }
}

function addField(xml: XmlBuilder, spec: FieldSpec, value: unknown, raw: XmlElement | undefined, path: string): void {
  switch (spec.kind) {
    case 'text': {
      // Keep the spelling the push was read with (MsgID vs MsgId).
      const tag = raw && raw[spec.tag] === undefined ? (spec.aliases?.find((alias) => raw[alias] !== undefined) ?? spec.tag) : spec.tag
      addText(xml, tag, value, spec.bare, path)
      return
    }
    case 'integer':
      // The reader takes up to 15 digits (a count or a time in seconds never needs more).
      if (typeof value !== 'number' || !Number.isInteger(value) || Math.abs(value) >= 1e15) {
        throw invalid(`${path} must be an integer of at most 15 digits, got ${String(value)}.`)
      }
      xml.add(spec.tag, value)
      return
    case 'group': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(`${path} must be an object.`)
      const inner = new XmlBuilder()
      addFields(inner, spec.fields, value as Record<string, unknown>, asElement(raw?.[spec.tag]), path)
      xml.add(spec.tag, inner)
      return
    }
    case 'list': {
      if (!Array.isArray(value)) throw invalid(`${path} must be an array.`)
      const [wrapperTag, itemTag] = spec.path.includes('.') ? (spec.path.split('.') as [string, string]) : [undefined, spec.path]
      const rawHolder = wrapperTag === undefined ? raw : asElement(raw?.[wrapperTag])
      const rawItems = asArray(rawHolder?.[itemTag])
      const holder = wrapperTag === undefined ? xml : new XmlBuilder()
      value.forEach((item: unknown, i) => {
        if (item === null || typeof item !== 'object' || Array.isArray(item)) throw invalid(`${path}[${i}] must be an object.`)
        const inner = new XmlBuilder()
        addFields(inner, spec.fields, item as Record<string, unknown>, asElement(rawItems[i]), `${path}[${i}]`)
        holder.add(itemTag, inner)
      })
      if (wrapperTag !== undefined) {
        addRawLeftovers(holder, rawHolder, new Set([itemTag]))
        xml.add(wrapperTag, holder)
      }
      return
    }
    case 'textList':
      if (!Array.isArray(value)) throw invalid(`${path} must be an array of strings.`)
      value.forEach((entry: unknown, i) => addText(xml, spec.tag, entry, spec.bare, `${path}[${i}]`))
      return
  }
}

/**
 * Writes a message as the XML document WeChat pushes: the inverse of {@link parseMessage}, for
 * every kind of the catalogue and for unknown kinds.
 *
 * - The header comes first (`ToUserName`, `FromUserName`, `CreateTime`, `MsgType`, `Event`), then
 *   the kind's fields in the catalogue's order (WeChat's), then every element of `raw` that no
 *   field covers, in `raw`'s order. Absent fields are not written.
 * - Text goes through the CDATA-safe {@link XmlBuilder} (`]]>` split, characters XML 1.0 forbids
 *   dropped); ids, coordinates and counts are written bare, as WeChat does.
 * - A field read under another spelling (`MsgID` for `MsgId`) is written under that spelling again.
 * - Unknown kinds (`msgType: 'unknown'`, `event: 'unknown'`) are written from `raw` and the
 *   `originalMsgType` / `originalEvent` sent; derived fields (`qrScene`) are never written.
 *
 * So `parseMessage(writeMessage(m))` deep-equals `m` for every message `parseMessage` returns,
 * except that a missing `<CreateTime>` comes back as `<CreateTime>0</CreateTime>`, and that XML
 * cannot carry a carriage return or a character XML 1.0 forbids (a reader turns `\r` into `\n`).
 *
 * @throws {WxMpError} `INVALID_MESSAGE` when a value has the wrong type (a number where the
 * catalogue has text, a non-integer count), the header is missing, or an unknown kind has no `raw`.
 *
 * @example
 * ```ts
 * const xml = writeMessage({ msgType: 'event', event: 'CLICK', eventKey: 'MENU_HELP',
 *   toUserName: 'gh_0123456789ab', fromUserName: 'oUser', createTime: 1700000000 })
 * ```
 */
export function writeMessage(message: MessageToWrite): string {
  if (message === null || typeof message !== 'object') throw invalid('writeMessage needs a message object.')
  const m = message as unknown as Record<string, unknown>
  const raw = m['raw'] as XmlElement | undefined
  if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) throw invalid('raw must be an object of elements.')
  const msgType = m['msgType'] === 'unknown' ? m['originalMsgType'] : m['msgType']
  if (typeof msgType !== 'string' || msgType === '') {
    throw invalid(m['msgType'] === 'unknown' ? 'An unknown kind of message needs originalMsgType: the MsgType to send.' : 'A message needs msgType.')
  }
  let event: unknown
  if (msgType === 'event') {
    event = m['event'] === 'unknown' ? m['originalEvent'] : m['event']
    if (typeof event !== 'string' || event === '') {
      throw invalid(m['event'] === 'unknown' ? 'An unknown kind of event needs originalEvent: the Event to send.' : 'An event needs event.')
    }
  }
  const table: FieldTable | undefined =
    msgType === 'event'
      ? Object.hasOwn(catalogue.events, event as string) && m['event'] !== 'unknown'
        ? (catalogue.events as Record<string, FieldTable>)[event as string]
        : undefined
      : Object.hasOwn(catalogue.messages, msgType) && m['msgType'] !== 'unknown'
        ? (catalogue.messages as Record<string, FieldTable>)[msgType]
        : undefined
  if (table === undefined && raw === undefined) {
    throw invalid(`An unknown kind of push (${msgType}${event === undefined ? '' : ` ${String(event)}`}) is written from raw, its elements exactly as sent: give raw.`)
  }
  for (const name of ['toUserName', 'fromUserName'] as const) {
    if (typeof m[name] !== 'string') throw invalid(`${name} must be a string.`)
  }
  const xml = new XmlBuilder()
  const written = new Set<string>()
  for (const name in commonFields) {
    const spec = commonFields[name as keyof typeof commonFields]
    written.add(spec.tag)
    addField(xml, spec, m[name], undefined, name)
  }
  xml.add('MsgType', msgType)
  written.add('MsgType')
  if (msgType === 'event') {
    xml.add('Event', event as string)
    written.add('Event')
  }
  addFields(xml, table ?? {}, m, raw, '', written)
  return xml.toDocument()
}
