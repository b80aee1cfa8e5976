/**
 * The XML layer: a hardened reader for WeChat's `<xml>` documents and a CDATA-safe writer.
 *
 * Reading: DOCTYPE and entity declarations are refused before the parser sees the document, so
 * only XML's five predefined entities and character references are ever expanded. Values stay
 * strings (no number guessing: a 64-bit MsgId would lose digits); CDATA is unwrapped and kept
 * exactly (whitespace around plain, non-CDATA text is trimmed, as indentation); raw control
 * characters (WeChat sends `\x1d`) pass through.
 *
 * Writing: every text value goes through {@link cdata}, which splits `]]>` and drops the characters
 * XML 1.0 forbids; there is no string-template path around it.
 *
 * Official reference (message format):
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 *
 * @module
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { WxMpError } from './errors.js'

/** A parsed XML element: text, or child elements by tag name (repeated tags become arrays). */
export type XmlNode = string | XmlElement
/** Child elements of an XML element by tag name. */
export interface XmlElement {
  [tag: string]: XmlNode | XmlNode[]
}

/** Tags that are lists in WeChat's documents, even when they hold a single entry. */
const repeatedTags = new Set(['item', 'List', 'fail_idx'])

/** The five entities XML predefines. */
const xmlPredefinedEntities = { amp: '&', apos: "'", gt: '>', lt: '<', quot: '"' }

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  // Trims whitespace around plain text only: CDATA sections (which WeChat uses for every text
  // value) are kept exactly, so indentation in pretty-printed documents never reaches the values.
  trimValues: true,
  processEntities: true,
  // XML's five predefined entities plus character references (&#65; &#x41;), and nothing else:
  // HTML names such as &nbsp; stay as written. (fast-xml-parser takes an object here as the
  // complete table of named entities; `true` would add the HTML ones.) With DOCTYPE refused, no
  // declared entity exists. Covered by test/core/parse.test.ts.
  htmlEntities: xmlPredefinedEntities as unknown as boolean,
  removeNSPrefix: false,
  isArray: (tagName: string) => repeatedTags.has(tagName),
})

/**
 * Refuses documents that declare a DOCTYPE, entities or any other `<!…>` markup besides CDATA
 * sections and comments, wherever it appears (the text inside CDATA is user content and may well
 * contain the characters `<!DOCTYPE`).
 *
 * This is what makes entity-expansion bombs and external entities impossible: the scan is linear
 * and runs before the parser.
 *
 * @throws {WxMpError} `DOCTYPE_FORBIDDEN`
 */
export function assertNoDeclarations(xml: string): void {
  let at = xml.indexOf('<!')
  while (at !== -1) {
    if (xml.startsWith('<![CDATA[', at)) {
      const end = xml.indexOf(']]>', at + 9)
      if (end === -1) throw new WxMpError('MALFORMED_XML', 'Unterminated CDATA section in the XML document.')
      at = xml.indexOf('<!', end + 3)
    } else if (xml.startsWith('<!--', at)) {
      const end = xml.indexOf('-->', at + 4)
      if (end === -1) throw new WxMpError('MALFORMED_XML', 'Unterminated comment in the XML document.')
      at = xml.indexOf('<!', end + 3)
    } else {
      throw new WxMpError(
        'DOCTYPE_FORBIDDEN',
        'XML documents with a DOCTYPE or entity declarations are refused: WeChat never sends them, and they enable entity-expansion and external-entity attacks.',
      )
    }
  }
}

/**
 * Parses a WeChat XML document and returns the children of its `<xml>` root.
 *
 * @throws {WxMpError} `DOCTYPE_FORBIDDEN` for declarations, `MALFORMED_XML` when the text is not XML
 * or its root is not a `<xml>` element with children.
 */
export function parseXmlDocument(xml: string): XmlElement {
  if (typeof xml !== 'string') throw new WxMpError('MALFORMED_XML', 'Expected the XML document as a string.')
  assertNoDeclarations(xml)
  const flat = readFlatDocument(xml)
  if (flat !== undefined) return flat
  // Documents the flat reader did not take get a well-formedness check first: fast-xml-parser
  // alone accepts mismatched or missing end tags.
  const valid = XMLValidator.validate(xml)
  if (valid !== true) {
    const cause = Object.assign(new Error(valid.err.msg), { code: valid.err.code, line: valid.err.line, col: valid.err.col })
    throw new WxMpError('MALFORMED_XML', `The body is not well-formed XML (line ${valid.err.line}: ${valid.err.msg}).`, { cause })
  }
  let doc: unknown
  try {
    doc = parser.parse(xml)
  } catch (cause) {
    throw new WxMpError('MALFORMED_XML', 'The body is not well-formed XML.', { cause })
  }
  const root = (doc as Record<string, unknown> | undefined)?.['xml']
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    throw new WxMpError('MALFORMED_XML', 'Expected a WeChat message: an <xml> root element with child elements.')
  }
  return root as XmlElement
}

/** Element names the flat reader takes; anything else (namespaces, odd names) goes to the full parser. */
const flatName = /^[A-Za-z_][A-Za-z0-9_.-]*$/

function skipSpace(xml: string, at: number): number {
  for (;;) {
    const c = xml.charCodeAt(at)
    if (c !== 0x20 && c !== 0x0a && c !== 0x09) return at
    at++
  }
}

/**
 * The fast path of {@link parseXmlDocument}: reads the one shape WeChat pushes have, a flat
 * `<xml>` of distinct elements each holding a single CDATA section or plain text, in one linear
 * scan, and returns exactly what the full parser would. Returns `undefined` for anything else
 * (nesting, repeated or list tags, entities, comments, attributes, declarations, carriage returns,
 * stray text), which then goes through the full parser, so its behaviour decides every case this
 * reader does not take.
 */
function readFlatDocument(xml: string): XmlElement | undefined {
  // The full parser normalises line ends first; leave those documents to it.
  if (xml.includes('\r')) return undefined
  let at = skipSpace(xml, 0)
  if (!xml.startsWith('<xml>', at)) return undefined
  at += 5
  const root: XmlElement = {}
  let count = 0
  for (;;) {
    at = skipSpace(xml, at)
    if (xml.charCodeAt(at) !== 0x3c) return undefined
    if (xml.startsWith('</xml>', at)) {
      // An empty root is the full parser's to refuse.
      return skipSpace(xml, at + 6) === xml.length && count > 0 ? root : undefined
    }
    const close = xml.indexOf('>', at + 1)
    if (close === -1) return undefined
    const name = xml.slice(at + 1, close)
    if (!flatName.test(name) || repeatedTags.has(name) || name in root) return undefined
    at = close + 1
    let value: string
    if (xml.startsWith('<![CDATA[', at)) {
      const end = xml.indexOf(']]>', at + 9)
      if (end === -1) return undefined
      value = xml.slice(at + 9, end)
      at = end + 3
    } else {
      const end = xml.indexOf('<', at)
      if (end === -1) return undefined
      value = xml.slice(at, end)
      if (value.includes('&')) return undefined
      value = value.trim()
      at = end
    }
    if (xml.charCodeAt(at) !== 0x3c || xml.charCodeAt(at + 1) !== 0x2f || !xml.startsWith(name, at + 2) || xml.charCodeAt(at + 2 + name.length) !== 0x3e) {
      return undefined
    }
    at += name.length + 3
    root[name] = value
    count++
  }
}

/**
 * Reads the text of the first `<name>` element of a small, flat document without a full parse,
 * unwrapping CDATA. Used for the `<Encrypt>` envelope of safe-mode pushes, so that a push costs
 * one XML parse (of the decrypted message), not two.
 *
 * Returns `undefined` when the element is absent.
 *
 * @throws {WxMpError} `DOCTYPE_FORBIDDEN` when the document carries declarations.
 */
export function readElementText(xml: string, name: string): string | undefined {
  assertNoDeclarations(xml)
  const open = `<${name}>`
  // Find the element in markup, skipping CDATA sections and comments: in compatible mode the
  // user's own text (which may contain "<Encrypt>") travels in CDATA next to the real element.
  let at = xml.indexOf('<')
  while (at !== -1) {
    if (xml.startsWith('<![CDATA[', at)) {
      at = xml.indexOf('<', xml.indexOf(']]>', at + 9) + 3)
      continue
    }
    // Comments are not markup either (the full parser ignores them); assertNoDeclarations has
    // already refused an unterminated one.
    if (xml.startsWith('<!--', at)) {
      at = xml.indexOf('<', xml.indexOf('-->', at + 4) + 3)
      continue
    }
    if (xml.startsWith(open, at)) {
      const from = at + open.length
      const end = xml.indexOf(`</${name}>`, from)
      if (end === -1) return undefined
      const text = xml.slice(from, end)
      const trimmed = text.trim()
      if (trimmed.startsWith('<![CDATA[') && trimmed.endsWith(']]>')) return trimmed.slice(9, -3)
      return text
    }
    at = xml.indexOf('<', at + 1)
  }
  return undefined
}

/** Characters XML 1.0 does not allow anywhere in a document (including lone surrogates). */
const illegalXmlChars = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu

/**
 * Removes the characters that XML 1.0 forbids (C0 controls other than tab, LF and CR; U+FFFE,
 * U+FFFF; lone surrogates), keeping every other character exactly.
 */
export function stripIllegalXmlChars(text: string): string {
  return text.replace(illegalXmlChars, '')
}

/**
 * Wraps text in a CDATA section that is safe for any input: `]]>` is split across two sections
 * and characters illegal in XML 1.0 are dropped. Nothing is trimmed.
 */
export function cdata(text: string): string {
  return '<![CDATA[' + stripIllegalXmlChars(text).replaceAll(']]>', ']]]]><![CDATA[>') + ']]>'
}

const decimalForm = /^-?\d+(?:\.\d+)?$/

/** Whether `text` is a decimal number that can be written without CDATA and reads back the same. */
export function isDecimal(text: string): boolean {
  return typeof text === 'string' && text.length <= 64 && decimalForm.test(text)
}

/** A value an {@link XmlBuilder} can write: text (CDATA), an integer, or nested elements. */
export type XmlValue = string | number | XmlBuilder

/**
 * Builds an XML fragment element by element. Text always goes through {@link cdata}; numbers are
 * written bare and must be finite integers.
 */
export class XmlBuilder {
  #parts: string[] = []

  /** Appends `<name>value</name>`; `undefined` skips the element. */
  add(name: string, value: XmlValue | undefined): this {
    if (value === undefined) return this
    let body: string
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) throw new WxMpError('INVALID_REPLY', `<${name}> must be an integer, got ${value}.`)
      body = String(value)
    } else if (typeof value === 'string') {
      body = cdata(value)
    } else {
      body = value.toString()
    }
    this.#parts.push('<', name, '>', body, '</', name, '>')
    return this
  }

  /**
   * Appends `<name>digits</name>` without CDATA, as WeChat writes ids and coordinates (a 64-bit
   * MsgId is beyond a safe integer, so {@link XmlBuilder.add} cannot write it bare). Only a decimal
   * number is taken, so nothing can be injected.
   *
   * @throws {RangeError} when `digits` is not a decimal number (`-?\d+(\.\d+)?`).
   */
  addDecimal(name: string, digits: string): this {
    if (!isDecimal(digits)) throw new RangeError(`<${name}> must be a decimal number, got ${JSON.stringify(String(digits).slice(0, 32))}`)
    this.#parts.push('<', name, '>', digits, '</', name, '>')
    return this
  }

  /** The fragment built so far. */
  toString(): string {
    return this.#parts.join('')
  }

  /** The fragment wrapped in WeChat's `<xml>` root. */
  toDocument(): string {
    return '<xml>' + this.toString() + '</xml>'
  }
}
