import t from 'tap'
import fc from 'fast-check'
import { renderReply, reply, parseMessage, parseXmlDocument, stripIllegalXmlChars, newsArticleLimits, type Reply, type Article } from '../../src/index.js'
import { textPush, throwsCode } from './helpers.js'

const incoming = parseMessage(textPush('hi'))
const event = parseMessage(
  '<xml><ToUserName><![CDATA[gh_123456789abc]]></ToUserName><FromUserName><![CDATA[oUser123]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[K]]></EventKey></xml>',
)
const now = () => 1700000000123
const render = (r: Reply, to: Parameters<typeof renderReply>[1] = incoming) => renderReply(r, to, { now })
const HEAD = '<xml><ToUserName><![CDATA[oUser123]]></ToUserName><FromUserName><![CDATA[gh_123456789abc]]></FromUserName><CreateTime>1700000000</CreateTime>'

t.test('each reply kind renders the documented XML', async (t) => {
  t.equal(render('你好'), `${HEAD}<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content></xml>`, 'a string is a text reply')
  t.equal(render(reply.text('你好')), render('你好'), 'reply.text')
  t.equal(render({ msgType: 'text', content: '你好' }), render('你好'), 'text object')
  t.equal(render(reply.image('media_id')), `${HEAD}<MsgType><![CDATA[image]]></MsgType><Image><MediaId><![CDATA[media_id]]></MediaId></Image></xml>`, 'image')
  t.equal(render(reply.voice('media_id')), `${HEAD}<MsgType><![CDATA[voice]]></MsgType><Voice><MediaId><![CDATA[media_id]]></MediaId></Voice></xml>`, 'voice')
  t.equal(
    render(reply.video('media_id', { title: 'title', description: 'description' })),
    `${HEAD}<MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[media_id]]></MediaId><Title><![CDATA[title]]></Title><Description><![CDATA[description]]></Description></Video></xml>`,
    'video',
  )
  t.equal(render(reply.video('media_id')), `${HEAD}<MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[media_id]]></MediaId></Video></xml>`, 'video without title')
  t.equal(
    render(reply.music({ title: 'TITLE', description: 'DESCRIPTION', musicUrl: 'MUSIC_Url', hqMusicUrl: 'HQ_MUSIC_Url', thumbMediaId: 'media_id' })),
    `${HEAD}<MsgType><![CDATA[music]]></MsgType><Music><Title><![CDATA[TITLE]]></Title><Description><![CDATA[DESCRIPTION]]></Description>` +
      '<MusicUrl><![CDATA[MUSIC_Url]]></MusicUrl><HQMusicUrl><![CDATA[HQ_MUSIC_Url]]></HQMusicUrl><ThumbMediaId><![CDATA[media_id]]></ThumbMediaId></Music></xml>',
    'music',
  )
  t.equal(
    render(reply.news([{ title: 'title1', description: 'description1', picUrl: 'picurl', url: 'url' }])),
    `${HEAD}<MsgType><![CDATA[news]]></MsgType><ArticleCount>1</ArticleCount><Articles><item><Title><![CDATA[title1]]></Title>` +
      '<Description><![CDATA[description1]]></Description><PicUrl><![CDATA[picurl]]></PicUrl><Url><![CDATA[url]]></Url></item></Articles></xml>',
    'news',
  )
  t.equal(
    render(reply.transferCustomerService()),
    `${HEAD}<MsgType><![CDATA[transfer_customer_service]]></MsgType></xml>`,
    'transfer_customer_service',
  )
  t.equal(
    render(reply.transferCustomerService('test1@test')),
    `${HEAD}<MsgType><![CDATA[transfer_customer_service]]></MsgType><TransInfo><KfAccount><![CDATA[test1@test]]></KfAccount></TransInfo></xml>`,
    'transfer_customer_service to one agent',
  )
})

t.test('builders', async (t) => {
  t.same(reply.text('a'), { msgType: 'text', content: 'a' })
  t.same(reply.image('m'), { msgType: 'image', mediaId: 'm' })
  t.same(reply.voice('m'), { msgType: 'voice', mediaId: 'm' })
  t.same(reply.video('m'), { msgType: 'video', mediaId: 'm' })
  t.same(reply.video('m', { title: 't' }), { msgType: 'video', mediaId: 'm', title: 't' })
  t.same(reply.music({ thumbMediaId: 'th' }), { msgType: 'music', thumbMediaId: 'th' })
  t.same(reply.news([{ title: 'x' }]), { msgType: 'news', articles: [{ title: 'x' }] })
  t.same(reply.transferCustomerService(), { msgType: 'transfer_customer_service' })
  t.notOk('kfAccount' in reply.transferCustomerService(), 'no kfAccount key at all')
  t.same(reply.transferCustomerService('a@b'), { msgType: 'transfer_customer_service', kfAccount: 'a@b' })
})

t.test('To/From swapped, CreateTime in integer seconds', async (t) => {
  const doc = parseXmlDocument(renderReply('x', { toUserName: 'gh_account', fromUserName: 'oOpenId' }, { now: () => 1700000000999 }))
  t.equal(doc['ToUserName'], 'oOpenId')
  t.equal(doc['FromUserName'], 'gh_account')
  t.equal(doc['CreateTime'], '1700000000', 'floor(ms / 1000), no milliseconds')
  const live = Number(parseXmlDocument(renderReply('x', incoming))['CreateTime'])
  t.ok(Number.isInteger(live) && live < 1e11, 'the default clock writes seconds too')
})

t.test('CDATA safety', async (t) => {
  const xml = render('a]]>b]]>]]>c')
  t.match(xml, '<Content><![CDATA[a]]]]><![CDATA[>b]]]]><![CDATA[>]]]]><![CDATA[>c]]></Content>')
  t.equal(parseXmlDocument(xml)['Content'], 'a]]>b]]>]]>c')
  const injection = ']]></Content><MsgType><![CDATA[news]]></MsgType><Content><![CDATA['
  const doc = parseXmlDocument(render(injection))
  t.equal(doc['Content'], injection, 'an injection attempt is just text')
  t.equal(doc['MsgType'], 'text')
  // every text field is escaped, not only Content
  const news = parseXmlDocument(render(reply.news([{ title: 'a]]>b', description: '<x>', url: 'https://e.com/?a=1&b=2' }]))) as { Articles: { item: Record<string, string>[] } }
  t.same(news.Articles.item[0], { Title: 'a]]>b', Description: '<x>', Url: 'https://e.com/?a=1&b=2' })
  const target = parseXmlDocument(renderReply('x', { toUserName: 'gh]]>', fromUserName: 'o]]><evil/>' }, { now }))
  t.equal(target['ToUserName'], 'o]]><evil/>')
})

t.test('characters illegal in XML 1.0 are removed, everything else kept exactly', async (t) => {
  const content = (s: string) => parseXmlDocument(render(s))['Content']
  t.equal(content('a\x00b\x1dc\x08d\x0be\x0cf\x1fg'), 'abcdefg', 'C0 controls except tab/LF/CR')
  t.equal(content('a\uFFFEb\uFFFFc'), 'abc', 'U+FFFE and U+FFFF')
  t.equal(content('a\uD800b\uDFFFc'), 'abc', 'lone surrogates')
  t.equal(content('  \t lead and trail \n '), '  \t lead and trail \n ', 'whitespace never trimmed')
  t.equal(content('😀👍🏽👨‍👩‍👧中文\u00a0\x7f\u0085\uFFFD'), '😀👍🏽👨‍👩‍👧中文\u00a0\x7f\u0085\uFFFD', 'astral, ZWJ, NBSP, DEL, NEL, U+FFFD kept')
  t.equal(stripIllegalXmlChars('a\x1d😀\uDBFF'), 'a😀')
})

t.test('property: renderReply → parseMessage keeps text content exactly', async (t) => {
  // parseMessage wants a complete user message: the reply gets the <MsgId> a real push carries.
  const roundTrip = (s: string) => {
    const msg = parseMessage(render(s).replace('</xml>', '<MsgId>1</MsgId></xml>'))
    if (msg.msgType !== 'text') throw new Error('expected text')
    t.equal(msg.toUserName, 'oUser123')
    return msg.content
  }
  // XML 1.0 normalises line ends on input (CR LF and lone CR become LF, in CDATA too), so a bare
  // CR cannot travel inside CDATA; the properties compare against that normalised form.
  const xmlNormalised = (s: string) => stripIllegalXmlChars(s).replace(/\r\n?/g, '\n')

  const legal = fc.string({
    unit: fc.oneof(
      { weight: 6, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).map(stripIllegalXmlChars).filter((c) => c !== '' && c !== '\r') },
      { weight: 2, arbitrary: fc.constantFrom(']]>', ']', ']]', '>', '<', '&', '&amp;', ' ', '\t', '\n', '<![CDATA[', '<!DOCTYPE x>', '😀', '中') },
    ),
    maxLength: 60,
  })
  fc.assert(fc.property(legal, (s) => roundTrip(s) === s), { numRuns: 300 })
  t.pass('legal text (with ]]>, markup, spaces, tabs, newlines, emoji) round-trips exactly')

  const anything = fc.string({
    unit: fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.constantFrom('\uD800', '\uDC00', '\x00', '\x1d', '\r', '\uFFFE', ']]>')),
    maxLength: 60,
  })
  fc.assert(fc.property(anything, (s) => roundTrip(s) === xmlNormalised(s)), { numRuns: 300 })
  t.pass('arbitrary text round-trips to its XML-legal form')
})

t.test('news article limits', async (t) => {
  t.same(newsArticleLimits, { userMessage: 1, other: 8 })
  const articles = (n: number): Article[] => Array.from({ length: n }, (_, i) => ({ title: `t${i}`, url: `https://e.com/${i}` }))
  const count = (xml: string) => parseXmlDocument(xml)['ArticleCount']
  t.equal(count(render(reply.news(articles(1)))), '1', '1 article to a text message')
  throwsCode(t, () => render(reply.news(articles(2))), 'INVALID_REPLY', '2 articles replying to a text message')
  t.equal(count(render(reply.news(articles(8)), event)), '8', '8 articles to an event')
  throwsCode(t, () => render(reply.news(articles(9)), event), 'INVALID_REPLY', '9 articles to an event')
  throwsCode(t, () => render(reply.news([]), event), 'INVALID_REPLY', 'news with 0 articles')
  throwsCode(t, () => renderReply(reply.news(articles(2)), { toUserName: 'a', fromUserName: 'b' }), 'INVALID_REPLY', 'no msgType: the stricter limit')
  for (const kind of ['image', 'voice', 'video', 'shortvideo', 'location', 'link']) {
    throwsCode(t, () => renderReply(reply.news(articles(2)), { toUserName: 'a', fromUserName: 'b', msgType: kind }), 'INVALID_REPLY', `2 articles replying to ${kind}`)
  }
  const doc = parseXmlDocument(render(reply.news(articles(3)), event)) as { Articles: { item: unknown[] } }
  t.equal(doc.Articles.item.length, 3, 'items in order')
})

t.test('INVALID_REPLY', async (t) => {
  const bad = (r: unknown) => () => render(r as Reply)
  throwsCode(t, bad({ msgType: 'file', mediaId: 'm' }), 'INVALID_REPLY', 'unknown msgType')
  throwsCode(t, bad({ msgType: 'TEXT', content: 'x' }), 'INVALID_REPLY', 'msgType is case-sensitive')
  throwsCode(t, bad({ content: 'x' }), 'INVALID_REPLY', 'no msgType')
  throwsCode(t, bad(null), 'INVALID_REPLY', 'null')
  throwsCode(t, bad(42), 'INVALID_REPLY', 'a number')
  throwsCode(t, bad({ msgType: 'text' }), 'INVALID_REPLY', 'text without content')
  throwsCode(t, bad({ msgType: 'text', content: 5 }), 'INVALID_REPLY', 'text content not a string')
  throwsCode(t, bad({ msgType: 'image' }), 'INVALID_REPLY', 'image without mediaId')
  throwsCode(t, bad({ msgType: 'image', mediaId: '' }), 'INVALID_REPLY', 'image with an empty mediaId')
  throwsCode(t, bad({ msgType: 'voice' }), 'INVALID_REPLY', 'voice without mediaId')
  throwsCode(t, bad({ msgType: 'video', title: 't' }), 'INVALID_REPLY', 'video without mediaId')
  throwsCode(t, bad({ msgType: 'video', mediaId: 'm', title: 5 }), 'INVALID_REPLY', 'video title not a string')
  throwsCode(t, bad({ msgType: 'music', title: 't' }), 'INVALID_REPLY', 'music without thumbMediaId')
  throwsCode(t, bad({ msgType: 'news' }), 'INVALID_REPLY', 'news without articles')
  throwsCode(t, bad({ msgType: 'news', articles: [{ description: 'no title' }] }), 'INVALID_REPLY', 'article without title')
  throwsCode(t, bad({ msgType: 'news', articles: [null] }), 'INVALID_REPLY', 'article not an object')
  throwsCode(t, bad({ msgType: 'transfer_customer_service', kfAccount: 7 }), 'INVALID_REPLY', 'kfAccount not a string')
  throwsCode(t, () => renderReply('x', undefined as never), 'INVALID_REPLY', 'no incoming message')
  throwsCode(t, () => renderReply('x', { toUserName: 'a' } as never), 'INVALID_REPLY', 'incoming without fromUserName')
  throwsCode(t, () => renderReply('x', incoming, { now: () => Number.NaN }), 'INVALID_REPLY', 'a clock that returns NaN')
})
