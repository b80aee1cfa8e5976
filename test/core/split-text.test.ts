import t from 'tap'
import fc from 'fast-check'
import { splitText, TEXT_REPLY_MAX_BYTES } from '../../src/index.js'

const bytes = (s: string) => Buffer.byteLength(s, 'utf8')
const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' })

/** Checks every property of a split; returns a reason when one fails. */
function check(text: string, maxBytes: number, chunks: string[]): string | undefined {
  if (chunks.join('') !== text) return 'chunks do not join back to the input'
  if (text === '' ? chunks.length !== 0 : chunks.some((c) => c === '')) return 'empty chunk'
  for (const c of chunks) if (bytes(c) > maxBytes) return `chunk of ${bytes(c)} bytes over ${maxBytes}`
  // boundaries, in UTF-16 offsets of the input
  const graphemes = [...segmenter.segment(text)]
  const graphemeAt = new Map<number, string>() // start offset → grapheme
  for (const g of graphemes) graphemeAt.set(g.index, g.segment)
  let at = 0
  for (const c of chunks.slice(0, -1)) {
    at += c.length
    if (isHigh(text.charCodeAt(at - 1)) && isLow(text.charCodeAt(at))) return `surrogate pair cut at ${at}`
    if (!graphemeAt.has(at)) {
      // allowed only inside a grapheme that alone exceeds the budget
      const g = graphemes.find((x) => x.index < at && at < x.index + x.segment.length)
      if (g === undefined || bytes(g.segment) <= maxBytes) return `grapheme ${JSON.stringify(g?.segment)} cut at ${at}`
    }
  }
  return undefined
}

const pieces = fc.constantFrom(
  'a', ' ', '\n', '中', 'é', 'e\u0301', '😀', '👍🏽', '👨‍👩‍👧‍👦', '🇨🇳', '🏳️‍🌈', 'ก์', '\u0915\u094d\u0937', '\r\n', '\x1d', '\uFFFD', 'Ω',
)
const texts = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 120 }),
  fc.string({ unit: 'binary', maxLength: 120 }),
  fc.string({ unit: pieces, maxLength: 120 }),
  fc.string({ unit: fc.oneof(pieces, fc.string({ unit: 'grapheme-composite', minLength: 1, maxLength: 1 })), maxLength: 200 }),
)

t.test('property: within budget, never cutting a character, joins back', async (t) => {
  fc.assert(
    fc.property(texts, fc.integer({ min: 4, max: 64 }), (text, maxBytes) => {
      const reason = check(text, maxBytes, splitText(text, maxBytes))
      if (reason) throw new Error(reason)
    }),
    { numRuns: 1000 },
  )
  t.pass('held for 1000 random texts and budgets')
})

t.test('property: lone surrogates (malformed UTF-16) are still joined back exactly', async (t) => {
  const broken = fc.string({ unit: fc.oneof(pieces, fc.constantFrom('\uD800', '\uDFFF', '\uDBFF')), maxLength: 80 })
  fc.assert(
    fc.property(broken, fc.integer({ min: 4, max: 32 }), (text, maxBytes) => {
      const chunks = splitText(text, maxBytes)
      // a lone surrogate is written as U+FFFD (3 bytes) by Buffer.byteLength, like by the encoder
      return chunks.join('') === text && chunks.every((c) => bytes(c) <= maxBytes)
    }),
    { numRuns: 500 },
  )
  t.pass('held')
})

t.test('the default budget is one passive text reply: 2048 bytes', async (t) => {
  t.equal(TEXT_REPLY_MAX_BYTES, 2048)
  t.same(splitText('a'.repeat(2048)), ['a'.repeat(2048)])
  t.same(splitText('a'.repeat(2049)), ['a'.repeat(2048), 'a'])
  const cjk = '中'.repeat(1000) // 3000 bytes
  const parts = splitText(cjk)
  t.same(parts.map(bytes), [2046, 954], 'never 2048 when that would cut a 3-byte character')
  t.equal(parts.join(''), cjk)
})

t.test('examples', async (t) => {
  t.same(splitText(''), [], 'empty text: no chunk')
  t.same(splitText('short'), ['short'])
  t.same(splitText('😀😀😀', 8), ['😀😀', '😀'], 'surrogate pairs whole')
  t.same(splitText('👍🏽👍🏽', 8), ['👍🏽', '👍🏽'], 'emoji with a skin tone whole (8 bytes)')
  t.same(splitText('a👍🏽', 8), ['a', '👍🏽'], 'a cluster moves to the next chunk rather than being cut')
  t.same(splitText('🇨🇳🇨🇳', 8), ['🇨🇳', '🇨🇳'], 'flags whole')
  const family = '👨‍👩‍👧‍👦' // 25 bytes: larger than the budget, split between code points
  const famParts = splitText(family, 8)
  t.equal(famParts.join(''), family)
  t.ok(famParts.every((p) => bytes(p) <= 8))
  t.ok(famParts.every((p) => !isLow(p.charCodeAt(0)) && !isHigh(p.charCodeAt(p.length - 1))), 'even then no surrogate pair is cut')
  // prefers a line break in the chunk's second half
  const para = 'a'.repeat(30) + '\n' + 'b'.repeat(30)
  t.same(splitText(para, 40), ['a'.repeat(30) + '\n', 'b'.repeat(30)])
  t.same(splitText('\r\n'.repeat(5), 4), ['\r\n\r\n', '\r\n\r\n', '\r\n'], 'CR LF is one grapheme')
})

t.test('arguments', async (t) => {
  for (const bad of [3, 0, -1, 2.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.throws(() => splitText('abc', bad), RangeError, `maxBytes ${bad}`)
  }
  t.throws(() => splitText(undefined as never, 10), TypeError, 'text not a string')
  t.same(splitText('abcd', 4), ['abcd'], 'the smallest budget, one code point of any size fits')
  t.same(splitText('\u{10FFFF}\u{10FFFF}', 4), ['\u{10FFFF}', '\u{10FFFF}'])
})
