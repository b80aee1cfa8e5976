// Property tests of the symmetric core (issue #10): every format the kit reads it can write, and
// the two directions agree over the whole catalogue, every reply kind, and all three modes.
import fc from 'fast-check'
import t from 'tap'
import {
  WxMpCrypto,
  catalogue,
  checkSignature,
  parseMessage,
  parseReply,
  parseXmlDocument,
  renderReply,
  signPushQuery,
  stripIllegalXmlChars,
  writeMessage,
  type FieldSpec,
  type FieldTable,
  type Message,
  type MessageToWrite,
  type ReplyMessage,
  type XmlElement,
  type XmlNode,
} from '../../src/index.js'

const runs = { numRuns: 40 }

// ---------------------------------------------------------------------------------------------
// Values

/**
 * Text as XML can carry it: any characters but those XML 1.0 forbids (dropped by the writer) and
 * CR (every XML reader turns it into LF). Includes the troublemakers: `]]>`, markup, entities,
 * surrounding whitespace, CJK and emoji.
 */
const text = fc
  .oneof(
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    fc.constantFrom('', ' ', '  padded  ', '\n\tindented\n', ']]>', 'a]]>b]]>', '<xml><MsgType>event</MsgType></xml>', '&amp;&lt;', '中文😀👨‍👩‍👧', 'qrscene_42'),
  )
  .map((s) => stripIllegalXmlChars(s).replaceAll('\r', ''))
const decimal = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String), fc.double({ min: -180, max: 180, noNaN: true }).map((d) => d.toFixed(6)))
const integer = fc.oneof(fc.integer({ min: -1000, max: 2 ** 31 }), fc.constant(999_999_999_999_999))

function valueOf(spec: FieldSpec, allOptional: boolean): fc.Arbitrary<unknown> {
  switch (spec.kind) {
    case 'text':
      return spec.bare ? fc.oneof(decimal, text) : text
    case 'integer':
      return integer
    case 'group':
      return record(spec.fields, allOptional)
    case 'list':
      // A list without a wrapper element cannot be empty: nothing would be written.
      return fc.array(record(spec.fields, allOptional), { minLength: spec.path.includes('.') ? 0 : 1, maxLength: 3 })
    case 'textList':
      return fc.array(spec.bare ? fc.oneof(decimal, text) : text, { minLength: 1, maxLength: 3 })
  }
}

function record(table: FieldTable, allOptional: boolean): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {}
  for (const name in table) model[name] = valueOf(table[name]!, allOptional)
  const requiredKeys = allOptional ? [] : Object.keys(table).filter((name) => !table[name]!.optional)
  return fc.record(model, { requiredKeys }) as fc.Arbitrary<Record<string, unknown>>
}

const header = fc.record({ toUserName: text, fromUserName: text, createTime: integer })

/** Every known kind: [label, the fixed discriminants, its table]. */
const kinds: Array<[string, Record<string, string>, FieldTable]> = [
  ...Object.entries(catalogue.messages).map(([msgType, table]): [string, Record<string, string>, FieldTable] => [msgType, { msgType }, table]),
  ...Object.entries(catalogue.events).map(([event, table]): [string, Record<string, string>, FieldTable] => [event, { msgType: 'event', event }, table]),
]

/** What parseMessage adds to an event beside the catalogue's fields. */
function derived(m: Record<string, unknown>): Record<string, unknown> {
  const key = m['eventKey']
  if (m['event'] === 'SCAN' && typeof key === 'string') return { ...m, qrScene: key }
  if (m['event'] === 'subscribe' && typeof key === 'string' && key.startsWith('qrscene_')) return { ...m, qrScene: key.slice('qrscene_'.length) }
  return m
}

function withoutRaw(m: Message): Record<string, unknown> {
  const { raw: _raw, ...rest } = m as Message & Record<string, unknown>
  return rest
}

// ---------------------------------------------------------------------------------------------
// writeMessage ↔ parseMessage

t.test('parseMessage(writeMessage(m)) equals m for every kind of the catalogue', async (t) => {
  for (const [label, fixed, table] of kinds) {
    for (const allOptional of [false, true]) {
      fc.assert(
        fc.property(header, record(table, allOptional), (head, fields) => {
          const m0 = { ...head, ...fixed, ...fields }
          const xml = writeMessage(m0 as MessageToWrite)
          const m = parseMessage(xml)
          t.same(withoutRaw(m), derived(m0), `${label}: the typed fields come back`) || t.comment(xml)
          // and the full message, raw included, survives another trip unchanged
          t.same(parseMessage(writeMessage(m)), m, `${label}: parse(write(m)) equals m`)
          t.equal(writeMessage(m), xml, `${label}: writing is stable`)
        }),
        runs,
      )
    }
  }
  t.equal(kinds.length, Object.keys(catalogue.messages).length + Object.keys(catalogue.events).length)
})

/** Element names for unknown kinds, including the always-repeated ones (item, List, fail_idx). */
const tagName = fc.constantFrom('HoloUrl', 'Frame_Rate', 'SomeInfo', 'publish_x', 'MsgID', 'EventKey', 'Detail', 'Count', 'item', 'List', 'fail_idx', 'A')
const alwaysRepeated = new Set(['item', 'List', 'fail_idx'])

/** A raw element in the form the reader returns it (repeated tags always arrays; others arrays only when repeated). */
const rawElement: fc.Arbitrary<XmlElement> = fc.letrec<{ node: XmlNode; element: XmlElement }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, fc.oneof(text, decimal), tie('element')),
  element: fc
    .uniqueArray(fc.tuple(tagName, tie('node'), fc.array(tie('node'), { maxLength: 2 })), { minLength: 1, maxLength: 4, selector: ([tag]) => tag })
    .map((entries) => {
      const element: XmlElement = {}
      for (const [tag, first, more] of entries) element[tag] = alwaysRepeated.has(tag) ? [first, ...more] : more.length > 0 ? [first, ...more] : first
      return element
    }),
})).element

const unknownName = fc.stringMatching(/^[a-z][a-zA-Z_]{0,10}$/).filter((n) => !Object.hasOwn(catalogue.messages, n) && !Object.hasOwn(catalogue.events, n) && n !== 'event')

t.test('unknown kinds are written from raw and read back with every element camelCased', async (t) => {
  fc.assert(
    fc.property(header, unknownName, fc.boolean(), rawElement, (head, name, isEvent, extras) => {
      const m0 = isEvent
        ? { ...head, msgType: 'event' as const, event: 'unknown' as const, originalEvent: name, raw: extras }
        : { ...head, msgType: 'unknown' as const, originalMsgType: name, raw: extras }
      const m = parseMessage(writeMessage(m0))
      const expectedRaw = {
        ToUserName: head.toUserName,
        FromUserName: head.fromUserName,
        CreateTime: String(head.createTime),
        MsgType: isEvent ? 'event' : name,
        ...(isEvent ? { Event: name } : {}),
        ...extras,
      }
      t.same(m.raw, expectedRaw, 'raw holds every element exactly')
      t.same(parseMessage(writeMessage(m)), m, 'parse(write(m)) equals m')
      const rec = m as unknown as Record<string, unknown>
      t.equal(isEvent ? rec['originalEvent'] : rec['originalMsgType'], name)
      // every element is on the object, camelCased: spot-check a nested one
      const info = extras['SomeInfo']
      if (info !== undefined && !Array.isArray(info) && typeof info === 'object' && 'A' in info && !('a' in info)) {
        t.ok((rec['someInfo'] as Record<string, unknown>)['a'] !== undefined, 'nested elements camelCased')
      }
    }),
    runs,
  )
})

t.test('writeMessage refuses what it cannot write', async (t) => {
  const head = { toUserName: 'gh_1', fromUserName: 'o1', createTime: 1 }
  const bad: Array<[string, unknown]> = [
    ['a number where the catalogue has text', { ...head, msgType: 'text', content: 42 }],
    ['a count that is not an integer', { ...head, msgType: 'event', event: 'pic_weixin', eventKey: 'k', sendPicsInfo: { count: 1.5, picList: [] } }],
    ['a list that is not an array', { ...head, msgType: 'event', event: 'pic_weixin', eventKey: 'k', sendPicsInfo: { count: 1, picList: 'x' } }],
    ['an unknown kind without raw', { ...head, msgType: 'unknown', originalMsgType: 'hologram' }],
    ['an unknown kind without originalMsgType', { ...head, msgType: 'unknown', raw: {} }],
    ['no fromUserName', { toUserName: 'gh_1', createTime: 1, msgType: 'text', content: 'x' }],
    ['no createTime', { toUserName: 'gh_1', fromUserName: 'o1', msgType: 'text', content: 'x' }],
    ['not an object', 'text'],
  ]
  for (const [what, m] of bad) {
    let err: unknown
    try {
      writeMessage(m as MessageToWrite)
    } catch (e) {
      err = e
    }
    t.equal((err as { code?: string } | undefined)?.code, 'INVALID_MESSAGE', what)
  }
})

t.test('writeMessage writes what WeChat writes: header first, ids bare, text in CDATA', async (t) => {
  const xml = writeMessage({ toUserName: 'gh_1', fromUserName: 'o1', createTime: 1700000000, msgType: 'text', content: '42', msgId: '9223372036854775807' })
  t.equal(
    xml,
    '<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName><CreateTime>1700000000</CreateTime>' +
      '<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[42]]></Content><MsgId>9223372036854775807</MsgId></xml>',
  )
  // a message read with MsgID is written with MsgID again, and raw's other elements follow
  const published = parseMessage(xml.replaceAll('MsgId>', 'MsgID>').replace('</xml>', '<Extra><![CDATA[x]]></Extra></xml>'))
  const again = writeMessage(published)
  t.match(again, '<MsgID>9223372036854775807</MsgID><Extra><![CDATA[x]]></Extra></xml>')
  t.notMatch(again, '<MsgId>')
})

// ---------------------------------------------------------------------------------------------
// renderReply ↔ parseReply

const nonEmpty = text.filter((s) => s !== '')
const article = fc.record({ title: nonEmpty, description: text, picUrl: text, url: text }, { requiredKeys: ['title'] })
const anyReply: fc.Arbitrary<ReplyMessage> = fc.oneof(
  fc.record({ msgType: fc.constant('text' as const), content: text }),
  fc.record({ msgType: fc.constant('image' as const), mediaId: nonEmpty }),
  fc.record({ msgType: fc.constant('voice' as const), mediaId: nonEmpty }),
  fc.record({ msgType: fc.constant('video' as const), mediaId: nonEmpty, title: text, description: text }, { requiredKeys: ['msgType', 'mediaId'] }),
  fc.record(
    { msgType: fc.constant('music' as const), thumbMediaId: nonEmpty, title: text, description: text, musicUrl: text, hqMusicUrl: text },
    { requiredKeys: ['msgType', 'thumbMediaId'] },
  ),
  fc.record({ msgType: fc.constant('news' as const), articles: fc.array(article, { minLength: 1, maxLength: 8 }) }),
  fc.record({ msgType: fc.constant('transfer_customer_service' as const), kfAccount: text }, { requiredKeys: ['msgType'] }),
)
const seconds = fc.integer({ min: 0, max: 2 ** 32 })

t.test('parseReply(renderReply(r)) gives r back for every reply kind', async (t) => {
  const seen = new Set<string>()
  fc.assert(
    fc.property(anyReply, header, seconds, (r, head, s) => {
      seen.add(r.msgType)
      const incoming = { ...head, msgType: 'event' } // events allow 8 articles
      const parsed = parseReply(renderReply(r, incoming, { now: () => s * 1000 + 999 }))
      t.same(parsed, { toUserName: head.fromUserName, fromUserName: head.toUserName, createTime: s, reply: r })
    }),
    { numRuns: 300 },
  )
  t.same([...seen].sort(), ['image', 'music', 'news', 'text', 'transfer_customer_service', 'video', 'voice'], 'every kind generated')
  t.same(parseReply(renderReply('plain string', { toUserName: 'gh', fromUserName: 'o' }, { now: () => 0 })).reply, { msgType: 'text', content: 'plain string' })
})

t.test('parseReply refuses malformed replies with MALFORMED_XML', async (t) => {
  const ok = renderReply({ msgType: 'image', mediaId: 'M' }, { toUserName: 'gh', fromUserName: 'o' }, { now: () => 0 })
  const news = renderReply({ msgType: 'news', articles: [{ title: 'a' }, { title: 'b' }] }, { toUserName: 'gh', fromUserName: 'o', msgType: 'event' }, { now: () => 0 })
  const bad: Array<[string, string]> = [
    ['not XML', 'success'],
    ['JSON', '{"MsgType":"text"}'],
    ['no ToUserName', ok.replace(/<ToUserName>.*?<\/ToUserName>/, '')],
    ['no CreateTime', ok.replace(/<CreateTime>.*?<\/CreateTime>/, '')],
    ['CreateTime in milliseconds with a fraction', ok.replace(/<CreateTime>.*?<\/CreateTime>/, '<CreateTime>1.5</CreateTime>')],
    ['unknown MsgType', ok.replace('[image]', '[sticker]')],
    ['image without MediaId', ok.replace(/<MediaId>.*?<\/MediaId>/, '')],
    ['image without <Image>', ok.replace(/<Image>.*<\/Image>/, '')],
    ['text without Content', renderReply('x', { toUserName: 'gh', fromUserName: 'o' }).replace(/<Content>.*?<\/Content>/, '')],
    ['news ArticleCount that disagrees', news.replace('<ArticleCount>2<', '<ArticleCount>3<')],
    ['news article without Title', news.replace(/<Title>.*?<\/Title>/, '')],
    ['news without items', news.replace(/<Articles>.*<\/Articles>/, '<Articles></Articles>')],
  ]
  for (const [what, xml] of bad) {
    let err: unknown
    try {
      parseReply(xml)
    } catch (e) {
      err = e
    }
    t.equal((err as { code?: string } | undefined)?.code, 'MALFORMED_XML', what)
  }
})

// ---------------------------------------------------------------------------------------------
// Both directions through the crypto, in all three modes

const TOKEN = 'roundTripToken42'
const crypto = new WxMpCrypto({ token: TOKEN, aesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', appId: 'wx1234567890abcdef' })
const modes = ['plain', 'compat', 'safe'] as const
const anyKnownMessage = fc.oneof(...kinds.map(([, fixed, table]) => fc.tuple(header, record(table, false)).map(([head, fields]) => ({ ...head, ...fixed, ...fields }) as MessageToWrite)))
const nonce = fc.stringMatching(/^[0-9]{1,10}$/)

t.test('a sealed push opens on the server side and parses to the message, in every mode', async (t) => {
  for (const mode of modes) {
    fc.assert(
      fc.property(anyKnownMessage, seconds, nonce, (m, timestamp, n) => {
        const xml = writeMessage(m)
        // WeChat's side
        const sealed = mode === 'plain' ? { body: xml, query: signPushQuery(TOKEN, { timestamp, nonce: n, openid: m.fromUserName }) } : crypto.sealPush(xml, { timestamp, nonce: n, mode })
        const q = sealed.query
        // the server's side: the URL signature always, msg_signature + decrypt when encrypted
        t.ok(checkSignature(TOKEN, q.signature, q.timestamp, q.nonce), `${mode}: signature`)
        t.equal(q.openid, m.fromUserName, `${mode}: openid`)
        let plaintext = sealed.body
        if (mode === 'plain') {
          t.equal(q.encrypt_type, undefined)
        } else {
          t.equal(q.encrypt_type, 'aes')
          const envelope = parseXmlDocument(sealed.body)
          if (mode === 'safe') t.same(Object.keys(envelope), ['ToUserName', 'Encrypt'], 'safe: ToUserName and Encrypt only')
          else t.equal(envelope['MsgType'], parseXmlDocument(xml)['MsgType'], 'compat: plaintext fields beside Encrypt')
          plaintext = crypto.decryptMessage(sealed.body, { msgSignature: q.msg_signature!, timestamp: q.timestamp, nonce: q.nonce })
        }
        t.equal(plaintext, xml, `${mode}: the plaintext arrives unchanged`)
        t.same(parseMessage(plaintext), parseMessage(xml), `${mode}: parses to the message`)
      }),
      { numRuns: 40 },
    )
  }
})

t.test('a rendered reply opens on WeChat\'s side and parses to the reply, in every mode', async (t) => {
  for (const mode of modes) {
    fc.assert(
      fc.property(anyReply, header, seconds, nonce, (r, head, s, n) => {
        const replyXml = renderReply(r, { ...head, msgType: 'event' }, { now: () => s * 1000 })
        const body = mode === 'plain' ? replyXml : crypto.encryptMessage(replyXml, { timestamp: s, nonce: n })
        const plaintext = mode === 'plain' ? body : crypto.openReply(body, { timestamp: s, nonce: n })
        t.same(parseReply(plaintext).reply, r, `${mode}: the reply comes back`)
      }),
      { numRuns: 40 },
    )
  }
})
