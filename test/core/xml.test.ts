import t from 'tap'
import { cdata, stripIllegalXmlChars, parseXmlDocument, readElementText, XmlBuilder } from '../../src/index.js'
// not part of the package entry
import { assertNoDeclarations } from '../../src/core/xml.js'
import { throwsCode } from './helpers.js'

t.test('cdata', async (t) => {
  t.equal(cdata('plain'), '<![CDATA[plain]]>')
  t.equal(cdata(''), '<![CDATA[]]>')
  t.equal(cdata(']]>'), '<![CDATA[]]]]><![CDATA[>]]>')
  t.equal(cdata('a]]>b]]>c'), '<![CDATA[a]]]]><![CDATA[>b]]]]><![CDATA[>c]]>')
  t.equal(cdata(']]]>>'), '<![CDATA[]]]]]><![CDATA[>>]]>')
  t.equal(cdata(' x\x00\x1d '), '<![CDATA[ x ]]>', 'illegal characters dropped, spaces kept')
  t.equal(parseXmlDocument(`<xml><a>${cdata(']]]>>]]>')}</a></xml>`)['a'], ']]]>>]]>')
})

t.test('stripIllegalXmlChars', async (t) => {
  let all = ''
  for (let c = 0; c < 0x20; c++) all += String.fromCharCode(c)
  t.equal(stripIllegalXmlChars(all), '\t\n\r', 'of the C0 controls only tab, LF and CR stay')
  t.equal(stripIllegalXmlChars('\uD7FF\uE000\uFFFD\u{10000}\u{10FFFF}'), '\uD7FF\uE000\uFFFD\u{10000}\u{10FFFF}', 'range edges kept')
  t.equal(stripIllegalXmlChars('\uFFFE\uFFFF\uD800\uDBFFx\uDC00\uDFFF'), 'x', 'non-characters and lone surrogates removed')
  t.equal(stripIllegalXmlChars('\uDBFF\uDFFF'), '\u{10FFFF}', 'a valid pair is one character')
  t.equal(stripIllegalXmlChars('\x7f\x80\x9f'), '\x7f\x80\x9f', 'C1 controls and DEL are legal in XML 1.0')
})

t.test('parseXmlDocument', async (t) => {
  t.same(parseXmlDocument('<xml><A>1</A><B><![CDATA[ two ]]></B></xml>'), { A: '1', B: ' two ' })
  t.same(parseXmlDocument('<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n  <A>1</A>\n</xml>\n'), { A: '1' }, 'declaration and indentation')
  t.same(parseXmlDocument('<xml><A attr="x">1</A></xml>'), { A: '1' }, 'attributes ignored')
  t.same(parseXmlDocument('<xml><A>007</A><B>1e3</B><C>true</C></xml>'), { A: '007', B: '1e3', C: 'true' }, 'values stay strings')
  // list tags are arrays even with one entry
  t.same(parseXmlDocument('<xml><L><item><x>1</x></item></L></xml>'), { L: { item: [{ x: '1' }] } })
  t.same(parseXmlDocument('<xml><L><List><x>1</x></List></L></xml>'), { L: { List: [{ x: '1' }] } })
  t.same(parseXmlDocument('<xml><fail_idx>1</fail_idx></xml>'), { fail_idx: ['1'] })
  t.same(parseXmlDocument('<xml><A>1</A><A>2</A></xml>'), { A: ['1', '2'] }, 'other repeated tags become arrays')
  throwsCode(t, () => parseXmlDocument('plain text'), 'MALFORMED_XML', 'not XML')
  throwsCode(t, () => parseXmlDocument('<other><A>1</A></other>'), 'MALFORMED_XML', 'no <xml> root')
  throwsCode(t, () => parseXmlDocument('<xml/>'), 'MALFORMED_XML', 'empty root')
  throwsCode(t, () => parseXmlDocument('<xml><A>1</A></xml><xml><A>2</A></xml>'), 'MALFORMED_XML', 'two roots')
  throwsCode(t, () => parseXmlDocument(null as never), 'MALFORMED_XML', 'not a string')
})

t.test('readElementText', async (t) => {
  t.equal(readElementText('<xml><Encrypt><![CDATA[abc]]></Encrypt></xml>', 'Encrypt'), 'abc')
  t.equal(readElementText('<xml><Encrypt>abc</Encrypt></xml>', 'Encrypt'), 'abc')
  t.equal(readElementText('<xml>\n  <Encrypt>\n    <![CDATA[abc]]>\n  </Encrypt>\n</xml>', 'Encrypt'), 'abc', 'pretty-printed CDATA')
  t.equal(readElementText('<xml><A>1</A></xml>', 'Encrypt'), undefined, 'absent')
  t.equal(readElementText('<xml><Encrypt>abc</xml>', 'Encrypt'), undefined, 'unterminated')
  t.equal(readElementText('<xml><EncryptX>no</EncryptX><Encrypt>yes</Encrypt></xml>', 'Encrypt'), 'yes', 'a longer tag name is another element')
  t.equal(
    readElementText('<xml><Content><![CDATA[<Encrypt>fake</Encrypt>]]></Content><Encrypt><![CDATA[real]]></Encrypt></xml>', 'Encrypt'),
    'real',
    'skips CDATA sections',
  )
  t.equal(readElementText('<xml><Content><![CDATA[<Encrypt>fake</Encrypt>]]></Content></xml>', 'Encrypt'), undefined, 'only in CDATA: absent')
  t.equal(readElementText('<xml><!-- <Encrypt>fake</Encrypt> --><Encrypt><![CDATA[real]]></Encrypt></xml>', 'Encrypt'), 'real', 'skips comments, like the full parser')
  t.equal(readElementText('<xml><!-- <Encrypt>fake</Encrypt> --></xml>', 'Encrypt'), undefined, 'only in a comment: absent')
  throwsCode(t, () => readElementText('<!DOCTYPE x><xml><Encrypt>a</Encrypt></xml>', 'Encrypt'), 'DOCTYPE_FORBIDDEN', 'DOCTYPE')
  throwsCode(t, () => readElementText('<xml><Content><![CDATA[never closed <Encrypt>a</Encrypt></xml>', 'Encrypt'), 'MALFORMED_XML', 'unterminated CDATA')
})

t.test('assertNoDeclarations', async (t) => {
  t.doesNotThrow(() => assertNoDeclarations('<xml><a><![CDATA[<!DOCTYPE x>]]></a><!-- <!ENTITY y "z"> --></xml>'), 'CDATA and comments are not declarations')
  for (const decl of ['<!DOCTYPE x>', '<!doctype x>', '<!ENTITY a "b">', '<!ELEMENT a ANY>', '<!ATTLIST a b CDATA #IMPLIED>', '<!NOTATION n SYSTEM "x">', '<![INCLUDE[ x ]]>']) {
    throwsCode(t, () => assertNoDeclarations(`<xml><a>1</a>${decl}</xml>`), 'DOCTYPE_FORBIDDEN', decl)
  }
  throwsCode(t, () => assertNoDeclarations('<xml><![CDATA[ok]]><!DOCTYPE x></xml>'), 'DOCTYPE_FORBIDDEN', 'after a CDATA section')

  // billion laughs and a quadratic blow-up: refused by the scan before any expansion happens
  let bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
  for (let i = 1; i <= 20; i++) bomb += `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`
  bomb += ']><xml><a>&lol20;</a></xml>'
  throwsCode(t, () => parseXmlDocument(bomb), 'DOCTYPE_FORBIDDEN', 'billion laughs')
  const quadratic = `<!DOCTYPE x [<!ENTITY a "${'a'.repeat(100_000)}">]><xml><a>${'&a;'.repeat(10_000)}</a></xml>`
  throwsCode(t, () => parseXmlDocument(quadratic), 'DOCTYPE_FORBIDDEN', 'quadratic blow-up')
  // many CDATA sections with "<!" inside: a linear scan, still accepted
  const many = `<xml><a>${'<![CDATA[<!x]]>'.repeat(20_000)}</a></xml>`
  t.equal((parseXmlDocument(many)['a'] as string).length, 3 * 20_000)
})

t.test('XmlBuilder', async (t) => {
  const inner = new XmlBuilder().add('MediaId', 'm').add('Skipped', undefined)
  const xml = new XmlBuilder().add('Text', 'a]]>b').add('Count', 3).add('Zero', 0).add('Nested', inner).toDocument()
  t.equal(xml, '<xml><Text><![CDATA[a]]]]><![CDATA[>b]]></Text><Count>3</Count><Zero>0</Zero><Nested><MediaId><![CDATA[m]]></MediaId></Nested></xml>')
  t.equal(inner.toString(), '<MediaId><![CDATA[m]]></MediaId>')
  for (const n of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
    throwsCode(t, () => new XmlBuilder().add('N', n), 'INVALID_REPLY', `number ${n}`)
  }
})

t.test('documents that are not well-formed are refused, on the full parser path too', async (t) => {
  for (const xml of [
    '<xml><ToUserName>a</ToUserName><FromUserName>b</Other></xml>',
    '<xml><ToUserName>a</ToUserName><SendPicsInfo><Count>1</Count>',
    '<xml><ToUserName>a</ToUserName></xml>trailing junk',
    '<xml><ToUserName>a</ToUserName><Nested><A>1</B></Nested></xml>',
  ]) {
    t.throws(() => parseXmlDocument(xml), { code: 'MALFORMED_XML' }, JSON.stringify(xml))
  }
  t.same(parseXmlDocument('<xml>\n  <A><![CDATA[ x ]]></A>\n  <B><C>1</C></B>\n</xml>'), { A: ' x ', B: { C: '1' } }, 'nested, indented documents still parse')
})
