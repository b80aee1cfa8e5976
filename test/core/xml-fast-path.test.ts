/**
 * The flat-document fast path of parseXmlDocument (added for the benchmark, #5) must return
 * exactly what the full parser returns. A comment right after `<xml>` sends a document down the
 * full parser without changing its meaning, so each generated document is parsed both ways.
 */
import fc from 'fast-check'
import t from 'tap'
import { parseXmlDocument } from '../../src/core/xml.js'

function outcome(xml: string): unknown {
  try {
    return { ok: parseXmlDocument(xml) }
  } catch (err) {
    return { code: (err as { code?: string }).code }
  }
}

const space = fc.constantFrom('', ' ', '\n', '\t', '  \n  ', '\r\n', 'x', '\u00a0')
const name = fc.constantFrom('ToUserName', 'MsgId', 'Content', 'A', 'item', 'List', 'a.b', 'x-y', '_u', 'constructor', '__proto__', 'xml', 'B1', 'ns:Tag', '1x')
const text = fc.string({ unit: fc.constantFrom('a', ' ', '\n', '\t', '\r', '<', '>', '&amp;', '&#65;', '&', ']', ']]>', '\x1d', '你', '😀', '\u00a0', '"') })
const cdataText = fc.string({ unit: fc.constantFrom('a', ' ', '\n', '\t', '\r', '<', '>', '&amp;', ']', ']]', '\x1d', '你', '😀', '<![CDATA[') })
const value = fc.oneof(
  text,
  cdataText.map((s) => `<![CDATA[${s}]]>`),
  fc.tuple(space, cdataText, space).map(([a, s, b]) => `${a}<![CDATA[${s}]]>${b}`),
  fc.constant('<![CDATA[a]]><![CDATA[b]]>'),
  fc.constant('<X>1</X>'),
)
const element = fc.tuple(name, value, fc.boolean()).map(([n, v, closeOk]) => `<${n}>${v}</${closeOk ? n : n + 'z'}>`)
const documents = fc
  .tuple(space, fc.array(fc.tuple(element, space), { maxLength: 8 }), space, fc.boolean())
  .map(([lead, parts, trail, closed]) => `${lead}<xml>${parts.map(([e, s]) => e + s).join('')}${closed ? '</xml>' : ''}${trail}`)

// Mostly documents the fast path takes: distinct plain names, one CDATA section or plain text each.
const flatDocuments = fc
  .uniqueArray(fc.constantFrom('ToUserName', 'FromUserName', 'CreateTime', 'MsgType', 'Content', 'MsgId', 'Event', 'EventKey', 'a.b', 'x-y'), { minLength: 1, maxLength: 8 })
  .chain((names) =>
    fc.tuple(
      fc.tuple(...names.map((n) => fc.tuple(fc.constant(n), fc.oneof(cdataText.map((s) => `<![CDATA[${s}]]>`), text), fc.constantFrom('', ' ', '\n  ')))),
      fc.constantFrom('', '\n', ' '),
    ),
  )
  .map(([parts, lead]) => `${lead}<xml>${parts.map(([n, v, s]) => `${s}<${n}>${v}</${n}>`).join('')}\n</xml>`)

t.test('the fast path agrees with the full parser', async (t) => {
  fc.assert(
    fc.property(fc.oneof(documents, flatDocuments), (xml) => {
      const full = xml.replace('<xml>', '<xml><!-- full parser -->')
      t.strictSame(outcome(xml), outcome(full), JSON.stringify(xml))
    }),
    { numRuns: 5000 },
  )
})

t.test('a WeChat push takes the fast path and keeps CDATA exactly', async (t) => {
  const xml =
    '<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName>' +
    '<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>' +
    '<Content><![CDATA[  hi \x1d ]]></Content><MsgId> 123 </MsgId></xml>'
  t.strictSame(parseXmlDocument(xml), {
    ToUserName: 'gh_1',
    FromUserName: 'o1',
    CreateTime: '1700000000',
    MsgType: 'text',
    Content: '  hi \x1d ',
    MsgId: '123',
  })
})
