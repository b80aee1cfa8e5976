/**
 * The playground page's script (plain browser JavaScript, no framework, no build step): posts the
 * forms as `application/x-www-form-urlencoded`, follows the state over server-sent events and
 * draws the phone pane, the inspector and the timeline with DOM calls (text is never parsed as
 * HTML).
 *
 * @module
 */

/** The script, inlined into the page under its nonce. */
export const pageScript = String.raw`
'use strict'
const token = new URLSearchParams(location.search).get('token') || ''
const withToken = (path) => path + (path.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token)
const $ = (selector) => document.querySelector(selector)
let state = { bubbles: [], exchanges: [], settings: {} }
let selected = null
let followLatest = true
let lastBubbleCount = 0

function h(tag, attrs, ...children) {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue
    if (name === 'class') el.className = value
    else if (name === 'text') el.textContent = value
    else if (name.startsWith('on')) el.addEventListener(name.slice(2), value)
    else el.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) el.append(child)
  return el
}

function say(message) {
  $('#alert').textContent = message || ''
}

async function post(path, fields) {
  say('')
  let response
  try {
    response = await fetch(withToken(path), { method: 'POST', body: new URLSearchParams(fields) })
  } catch (err) {
    say('连接中断 Connection lost: ' + err.message)
    return null
  }
  const body = await response.json().catch(() => ({}))
  if (!response.ok) {
    say(body.message || ('HTTP ' + response.status))
    return null
  }
  return body
}

async function act(fields) {
  followLatest = true
  const body = await post('/action', fields)
  if (body && typeof body.id === 'number') selected = body.id
  render()
}

const seconds = (ms) => (ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)
const speaker = { user: '用户', bot: '公众号', kefu: '客服', notice: '公众号' }

function cardView(card) {
  switch (card.kind) {
    case 'text':
    case 'other':
      return [card.text]
    case 'image':
      return [h('div', { class: 'card' }, h('div', { class: 'media', text: '图片 Image\nMediaId ' + card.mediaId }))]
    case 'voice':
      return [h('div', { class: 'card' }, h('div', { class: 'media', text: '语音 Voice ▶\nMediaId ' + card.mediaId }))]
    case 'video':
      return [h('div', { class: 'card' }, h('div', { class: 'media', text: '视频 Video ▶\nMediaId ' + card.mediaId }),
        card.title ? h('div', { class: 'caption', text: card.title }) : null,
        card.description ? h('div', { class: 'desc', text: card.description }) : null)]
    case 'music':
      return [h('div', { class: 'card' }, h('div', { class: 'caption', text: '♪ ' + (card.title || '音乐 Music') }),
        card.description ? h('div', { class: 'desc', text: card.description }) : null,
        card.musicUrl ? h('div', { class: 'desc', text: card.musicUrl }) : null)]
    case 'news':
      return [h('div', { class: 'card' }, card.articles.map((a) => h('div', { class: 'article' },
        h('div', { class: 'caption', text: a.title }),
        a.description ? h('div', { class: 'desc', text: a.description }) : null)))]
    case 'transfer':
      return ['[转人工客服 transfer to customer service' + (card.kfAccount ? ' ' + card.kfAccount : '') + ']']
    default:
      return ['']
  }
}

function select(exchangeId) {
  selected = exchangeId
  followLatest = false
  render()
}

function bubbleView(bubble, exchange) {
  const isSelected = bubble.exchangeId === selected
  const name = speaker[bubble.from] + (bubble.from === 'notice' ? ' 系统提示' : '') + ': ' + bubble.text
  const onclick = () => select(bubble.exchangeId)
  const onkeydown = (event) => { if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); select(bubble.exchangeId) } }
  if (bubble.from === 'notice') {
    return h('div', { role: 'article', 'aria-label': name, tabindex: 0, class: 'notice' + (isSelected ? ' selected' : ''), onclick, onkeydown, text: bubble.text })
  }
  const late = exchange && bubble.from === 'kefu' ? Math.max(0, bubble.at - exchange.sentAt) : null
  return h('div', { class: 'row ' + bubble.from },
    h('div', { class: 'avatar', 'aria-hidden': 'true', text: bubble.from === 'user' ? '我' : bubble.from === 'kefu' ? '客服' : '号' }),
    h('div', { role: 'article', 'aria-label': name, tabindex: 0, class: 'bubble' + (isSelected ? ' selected' : ''), onclick, onkeydown },
      bubble.from === 'kefu' ? h('span', { class: 'tag', text: '客服' }) : null,
      bubble.placeholder ? h('span', { class: 'tag placeholder', text: '占位 placeholder' }) : null,
      cardView(bubble.card),
      late !== null ? h('span', { class: 'late', text: '晚到 ' + seconds(late) + ' s later' }) : null))
}

function renderLog() {
  const log = $('#log')
  const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 40
  const byId = new Map(state.exchanges.map((e) => [e.id, e]))
  const views = state.bubbles.map((b) => bubbleView(b, byId.get(b.exchangeId)))
  const busy = state.exchanges.filter((e) => e.status !== 'done')
  if (busy.length > 0) views.push(h('div', { class: 'typing', role: 'status', text: '对方正在输入… waiting for the answer' }))
  log.replaceChildren(...views)
  if (stick || state.bubbles.length !== lastBubbleCount) log.scrollTop = log.scrollHeight
  lastBubbleCount = state.bubbles.length
}

const stateText = { answered: '已回复 answered', held: '挂起 held', 'timed-out': '超时 timed out', failed: '失败 failed' }

function timelineView(exchange) {
  const runEnd = Math.max(0, ...exchange.handlerRuns.map((r) => (r.end !== undefined ? r.end : Date.now() - exchange.sentAt)))
  const scale = Math.max(15000, Math.ceil(Math.max(runEnd, exchange.endedMs || 0) / 5000) * 5000)
  const pct = (ms) => Math.min(100, (ms / scale) * 100) + '%'
  const bar = (cls, from, ms) => {
    const el = h('div', { class: 'bar ' + cls })
    el.style.left = pct(from)
    el.style.width = pct(Math.max(ms, 1))
    return el
  }
  const ticks = []
  for (let t = 0; t <= scale; t += 5000) {
    const tick = h('span', { text: seconds(t) + ' s' })
    tick.style.left = pct(t)
    ticks.push(tick)
  }
  const items = exchange.attempts.map((a) => h('li', { class: 'lane' },
    h('span', { class: 'label', text: '第 ' + a.number + ' 次 · ' + Math.round(a.at / 1000) + ' s · ' + stateText[a.state] + (a.state === 'failed' && a.error ? ' (' + a.error + ')' : '') }),
    h('div', { class: 'track', 'aria-hidden': 'true' }, bar(a.state, a.at, a.ms))))
  if (exchange.status === 'sending') {
    const last = exchange.attempts[exchange.attempts.length - 1]
    const start = last ? last.at + last.ms : 0
    const number = exchange.attempts.length + 1
    items.push(h('li', { class: 'lane' },
      h('span', { class: 'label', text: '第 ' + number + ' 次 · ' + Math.round(start / 1000) + ' s · 进行中 in flight' }),
      h('div', { class: 'track', 'aria-hidden': 'true' }, bar('in-flight', start, Math.max(1, Date.now() - exchange.sentAt - start)))))
  }
  const runs = exchange.handlerRuns.map((r) => {
    const end = r.end !== undefined ? r.end : Date.now() - exchange.sentAt
    return h('div', { class: 'lane' },
      h('span', { class: 'label', text: '处理函数 handler · ' + seconds(r.start) + '–' + (r.end !== undefined ? seconds(r.end) + ' s' : '… 运行中 running') + (r.error ? ' · ' + r.error : '') }),
      h('div', { class: 'track', 'aria-hidden': 'true' }, bar('handler' + (r.error ? ' error' : ''), r.start, end - r.start)))
  })
  return h('div', { class: 'timeline' },
    h('div', { class: 'axis', 'aria-hidden': 'true' }, ticks),
    h('ol', { 'aria-label': '尝试 Attempts', class: 'attempts' }, items),
    runs.length > 0 ? runs : h('div', { class: 'empty', text: exchange.status === 'done' ? '处理函数未运行 the handler did not run (a retry answered from the dedup record, or no handler for this push)' : '' }))
}

function pre(text, label) {
  return h('pre', { 'aria-label': label, text: text || '—' })
}

function renderInspector() {
  const body = $('#inspector-body')
  const exchange = state.exchanges.find((e) => e.id === selected)
  if (!exchange) {
    body.replaceChildren(h('p', { class: 'empty', text: '点击一条消息查看它的请求、回复与时间线。 Click a bubble to inspect its exchange.' }))
    return
  }
  const s = exchange.settings
  const request = exchange.request ? exchange.request.method + ' ' + exchange.request.url + '\nContent-Type: text/xml\n\n' + exchange.request.body : ''
  const problems = exchange.problems.length === 0
    ? h('p', { class: 'empty', text: exchange.status === 'done' ? '无 none' : '…' })
    : h('ul', { class: 'problems' }, exchange.problems.map((p) => h('li', { class: p.level }, h('code', { text: p.code }), ' ' + p.message)))
  body.replaceChildren(...[
    h('p', {}, h('strong', { text: '#' + exchange.id + ' ' + exchange.label }), ' · ' + s.mode + ' · ' + s.account + ' · ' + s.strategy +
      ' · ' + (exchange.status === 'done' ? (exchange.ok ? '送达 delivered' : '失败 failed') : exchange.status === 'queued' ? '排队 queued' : '发送中 sending')),
    exchange.error ? h('p', { class: 'alert', text: exchange.error }) : null,
    h('h3', { text: '时间线 Timeline' }), timelineView(exchange),
    h('h3', { text: '问题 Problems' }), problems,
    h('h3', { text: '请求（签名' + (s.mode === 'plain' ? '' : '、加密') + '）Request as sent' }), pre(request, '请求 Request as sent'),
    h('h3', { text: '解密后的推送 Decrypted XML' }), pre(exchange.requestXml, '解密后的推送 Decrypted XML'),
    h('h3', { text: '回复 Reply as sent' }), pre(exchange.replyBody, '回复 Reply as sent'),
    h('h3', { text: '解密后的回复 Reply decrypted' }), pre(exchange.replyXml, '解密后的回复 Reply decrypted'),
  ].filter(Boolean))
}

function renderControls() {
  for (const name of ['mode', 'account', 'strategy']) {
    const el = $('#' + name)
    if (document.activeElement !== el && state.settings[name]) el.value = state.settings[name]
  }
}

function render() {
  if (followLatest && state.exchanges.length > 0) selected = state.exchanges[state.exchanges.length - 1].id
  renderLog()
  renderInspector()
  renderControls()
}

function connect() {
  const events = new EventSource(withToken('/events'))
  events.onmessage = (event) => {
    state = JSON.parse(event.data)
    render()
  }
  events.onerror = () => say(events.readyState === EventSource.CLOSED ? '与 play 的连接已断开 The playground stopped.' : '')
}

$('#send-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const box = $('#message')
  const text = box.value
  if (text.trim() === '') return
  box.value = ''
  act({ action: 'text', text })
})
$('#follow').addEventListener('click', () => act({ action: 'follow' }))
$('#unfollow').addEventListener('click', () => act({ action: 'unfollow' }))
$('#image').addEventListener('click', () => act({ action: 'image' }))
$('#click-form').addEventListener('submit', (event) => { event.preventDefault(); act({ action: 'click', key: $('#menu-key').value }) })
$('#scan-form').addEventListener('submit', (event) => { event.preventDefault(); act({ action: 'scan', scene: $('#scene').value }) })
$('#location-form').addEventListener('submit', (event) => { event.preventDefault(); act({ action: 'location', lat: $('#lat').value, lng: $('#lng').value }) })
for (const name of ['mode', 'account', 'strategy']) {
  $('#' + name).addEventListener('change', async (event) => {
    const el = event.target
    el.disabled = true
    await post('/settings', { [name]: el.value })
    el.disabled = false
  })
}
$('#export').addEventListener('click', () => {
  const link = h('a', { href: withToken('/export'), download: '' })
  document.body.append(link)
  link.click()
  link.remove()
})
setInterval(() => { if (state.exchanges.some((e) => e.status === 'sending')) renderInspector() }, 250)
connect()
`
