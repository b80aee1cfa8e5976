import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import t from 'tap'
import { isWxMpError } from '../../src/core/errors.js'
import { WxMpApiError, buildCustomMessageBody, qrcodeImageUrl, type CustomMessage } from '../../src/api/index.js'
import { harness } from './harness.js'

const SEND = '/cgi-bin/message/custom/send'

t.test('sendCustomMessage maps every type to the exact official body', async (t) => {
  const h = await harness(t)
  const cases: Array<[string | CustomMessage, Record<string, unknown>]> = [
    ['hello <a href="https://x">x</a>', { msgtype: 'text', text: { content: 'hello <a href="https://x">x</a>' } }],
    [{ msgType: 'text', content: '你好' }, { msgtype: 'text', text: { content: '你好' } }],
    [{ msgType: 'image', mediaId: 'M1' }, { msgtype: 'image', image: { media_id: 'M1' } }],
    [{ msgType: 'voice', mediaId: 'M2' }, { msgtype: 'voice', voice: { media_id: 'M2' } }],
    [
      { msgType: 'video', mediaId: 'M3', thumbMediaId: 'T3', title: 'v', description: 'd' },
      { msgtype: 'video', video: { media_id: 'M3', thumb_media_id: 'T3', title: 'v', description: 'd' } },
    ],
    [{ msgType: 'video', mediaId: 'M4' }, { msgtype: 'video', video: { media_id: 'M4' } }],
    [
      { msgType: 'music', title: 't', description: 'd', musicUrl: 'http://m', hqMusicUrl: 'http://hq', thumbMediaId: 'T' },
      { msgtype: 'music', music: { title: 't', description: 'd', musicurl: 'http://m', hqmusicurl: 'http://hq', thumb_media_id: 'T' } },
    ],
    [
      { msgType: 'news', articles: [{ title: 'Happy Day', description: 'Is Really A Happy Day', url: 'https://u', picUrl: 'https://p' }] },
      { msgtype: 'news', news: { articles: [{ title: 'Happy Day', description: 'Is Really A Happy Day', url: 'https://u', picurl: 'https://p' }] } },
    ],
    [{ msgType: 'mpnews', mediaId: 'MP' }, { msgtype: 'mpnews', mpnews: { media_id: 'MP' } }],
    [{ msgType: 'mpnewsarticle', articleId: 'ART' }, { msgtype: 'mpnewsarticle', mpnewsarticle: { article_id: 'ART' } }],
    [
      { msgType: 'msgmenu', headContent: '您对本次服务是否满意呢?', list: [{ id: '101', content: '满意' }, { id: '102', content: '不满意' }], tailContent: '欢迎再次光临' },
      {
        msgtype: 'msgmenu',
        msgmenu: { head_content: '您对本次服务是否满意呢?', list: [{ id: '101', content: '满意' }, { id: '102', content: '不满意' }], tail_content: '欢迎再次光临' },
      },
    ],
    [
      { msgType: 'miniprogrampage', title: 'title', appId: 'wxapp', pagePath: 'pages/index', thumbMediaId: 'TM' },
      { msgtype: 'miniprogrampage', miniprogrampage: { title: 'title', appid: 'wxapp', pagepath: 'pages/index', thumb_media_id: 'TM' } },
    ],
  ]
  for (const [message, expected] of cases) await h.api.sendCustomMessage('oUser', message)
  const bodies = h.server.requestsTo(SEND).map((r) => r.body)
  t.same(bodies, cases.map(([, expected]) => ({ touser: 'oUser', ...expected })))
  t.strictSame(bodies[5], { touser: 'oUser', msgtype: 'video', video: { media_id: 'M4' } }, 'absent optional fields are left out')

  await h.api.sendCustomMessage('oUser', 'from kf', { kfAccount: 'test1@kftest' })
  t.same(h.server.requestsTo(SEND).at(-1)?.body, {
    touser: 'oUser',
    msgtype: 'text',
    text: { content: 'from kf' },
    customservice: { kf_account: 'test1@kftest' },
  })
})

t.test('bad custom messages are rejected before any network call', async (t) => {
  const h = await harness(t)
  const bad: Array<[string, unknown]> = [
    ['', 'hi'],
    ['oUser', ''],
    ['oUser', { msgType: 'image' }],
    ['oUser', { msgType: 'news', articles: [] }],
    ['oUser', { msgType: 'news', articles: [{ title: 'a' }, { title: 'b' }] }],
    ['oUser', { msgType: 'music', musicUrl: 'x', hqMusicUrl: 'y' }],
    ['oUser', { msgType: 'msgmenu', headContent: 'h', list: [], tailContent: '' }],
    ['oUser', { msgType: 'location' }],
    ['oUser', null],
  ]
  for (const [openId, message] of bad) {
    const err = await h.api.sendCustomMessage(openId, message as CustomMessage).catch((e: unknown) => e)
    t.ok(isWxMpError(err) && err.code === 'INVALID_REPLY', `rejected: ${JSON.stringify(message)}`)
  }
  t.match(
    String((await h.api.sendCustomMessage('o', { msgType: 'news', articles: [{ title: 'a' }, { title: 'b' }] } as never).catch((e: Error) => e.message))),
    /exactly 1 article/,
  )
  t.equal(h.server.requests.length, 0, 'nothing was sent, not even a token request')
  t.same(buildCustomMessageBody('o', 'x'), { touser: 'o', msgtype: 'text', text: { content: 'x' } })
})

t.test('setTyping sends Typing / CancelTyping', async (t) => {
  const h = await harness(t)
  await h.api.setTyping('oUser', true)
  await h.api.setTyping('oUser', false)
  t.same(
    h.server.requestsTo('/cgi-bin/message/custom/typing').map((r) => r.body),
    [
      { touser: 'oUser', command: 'Typing' },
      { touser: 'oUser', command: 'CancelTyping' },
    ],
  )
})

t.test('menu create / get / delete', async (t) => {
  const h = await harness(t)
  const menu = {
    button: [
      { type: 'click' as const, name: '今日歌曲', key: 'V1001_TODAY_MUSIC' },
      {
        name: '菜单',
        sub_button: [
          { type: 'view' as const, name: '搜索', url: 'http://www.soso.com/' },
          { type: 'miniprogram' as const, name: 'wxa', url: 'http://mp.weixin.qq.com', appid: 'wx286b93c14bbf93aa', pagepath: 'pages/lunar/index' },
        ],
      },
    ],
  }
  await h.api.menu.create(menu)
  t.same(h.server.requestsTo('/cgi-bin/menu/create')[0]?.body, menu)
  const got = await h.api.menu.get()
  t.equal(got.menu.menuid, 208396938)
  t.same(got.menu.button, menu.button)
  await h.api.menu.create({ menu: { button: [{ type: 'click', name: 'x', key: 'k', sub_button: [] }], menuid: 1 } })
  t.same(h.server.requestsTo('/cgi-bin/menu/create')[1]?.body, { button: [{ type: 'click', name: 'x', key: 'k' }] }, 'menu/get output is accepted')
  await h.api.menu.delete()
  const err = (await h.api.menu.get().catch((e: unknown) => e)) as WxMpApiError
  t.equal(err.errcode, 46003)
  t.match(err.hint, /menu push/)
})

t.test('menus are validated before sending', async (t) => {
  const h = await harness(t)
  const bad: unknown[] = [
    { button: [] },
    { button: [1, 2, 3, 4].map((i) => ({ type: 'click', name: `b${i}`, key: `k${i}` })) },
    { button: [{ type: 'click', name: 'no key' }] },
    { button: [{ type: 'view', name: 'no url' }] },
    { button: [{ name: 'x'.repeat(17), type: 'click', key: 'k' }] },
    { button: [{ name: '一二三四五六', type: 'click', key: 'k' }] }, // 18 bytes
    { button: [{ name: 'parent', sub_button: Array.from({ length: 6 }, (_, i) => ({ type: 'click', name: `s${i}`, key: 'k' })) }] },
    { button: [{ name: 'no type' }] },
    { button: [{ name: 'bad', type: 'teleport' }] },
    { buttons: [] },
  ]
  for (const menu of bad) {
    await t.rejects(h.api.menu.create(menu as never), Error, JSON.stringify(menu).slice(0, 60))
  }
  t.equal(h.server.requests.length, 0)
})

t.test('media.uploadTemp sends multipart field "media" from a path, a Buffer or a stream', async (t) => {
  const h = await harness(t)
  const dir = await mkdtemp(join(tmpdir(), 'wx-mp-api-'))
  const file = join(dir, 'photo.png')
  await writeFile(file, Buffer.from('PNGDATA'))
  const a = await h.api.media.uploadTemp('image', file)
  t.match(a, { type: 'image', mediaId: 'MEDIA_1' })
  t.equal(typeof a.createdAt, 'number')
  const b = await h.api.media.uploadTemp('voice', Buffer.from('AMR!'), { filename: 'hello.amr', contentType: 'audio/amr' })
  t.equal(b.mediaId, 'MEDIA_2')
  const c = await h.api.media.uploadTemp('thumb', Readable.from([Buffer.from('JP'), Buffer.from('EG')]))
  t.equal(c.mediaId, 'MEDIA_3')

  const uploads = h.server.requestsTo('/cgi-bin/media/upload')
  t.same(uploads.map((u) => u.query['type']), ['image', 'voice', 'thumb'])
  t.same(
    uploads.map((u) => u.parts?.map((p) => [p.field, p.filename, p.bytes.toString()])),
    [[['media', 'photo.png', 'PNGDATA']], [['media', 'hello.amr', 'AMR!']], [['media', 'media.jpg', 'JPEG']]],
  )
  t.equal(uploads[1]?.parts?.[0]?.contentType, 'audio/amr')
  t.match(uploads[0]?.contentType, /^multipart\/form-data; boundary=/)
  await t.rejects(h.api.media.uploadTemp('gif' as never, Buffer.from('x')), TypeError)
  await t.rejects(h.api.media.uploadTemp('image', Buffer.alloc(0)), RangeError)
})

t.test('media.getTemp returns bytes, a video URL, or the JSON error', async (t) => {
  const h = await harness(t)
  h.server.media.set('IMG', { type: 'image', bytes: Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x7b]), contentType: 'image/jpeg', filename: 'a.jpg' })
  h.server.media.set('VID', { type: 'video', bytes: Buffer.alloc(0), contentType: 'video/mp4', filename: 'v.mp4' })
  const img = await h.api.media.getTemp('IMG')
  t.equal(img.kind, 'file')
  if (img.kind === 'file') {
    t.same([...img.data], [0xff, 0xd8, 0xff, 0x00, 0x7b])
    t.equal(img.contentType, 'image/jpeg')
    t.equal(img.filename, 'IMG.jpg')
  }
  t.same(await h.api.media.getTemp('VID'), { kind: 'video', videoUrl: 'http://fake.video/VID.mp4' })
  const err = (await h.api.media.getTemp('NOPE').catch((e: unknown) => e)) as WxMpApiError
  t.equal(err.errcode, 40007)
  t.equal(h.server.requestsTo('/cgi-bin/media/get')[0]?.query['media_id'], 'IMG')
})

t.test('template.send maps fields and keeps the 64-bit msgid exact', async (t) => {
  const h = await harness(t)
  const res = await h.api.template.send({
    toUser: 'oUser',
    templateId: 'ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY',
    url: 'http://weixin.qq.com/download',
    miniprogram: { appId: 'xiaochengxuappid12345', pagePath: 'index?foo=bar' },
    clientMsgId: 'MSG_000001',
    data: { keyword1: '巧克力', keyword2: { value: '39.8元', color: '#173177' } },
  })
  t.equal(res.msgId, '3147483648123456789')
  t.same(h.server.requestsTo('/cgi-bin/message/template/send')[0]?.body, {
    touser: 'oUser',
    template_id: 'ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY',
    url: 'http://weixin.qq.com/download',
    miniprogram: { appid: 'xiaochengxuappid12345', pagepath: 'index?foo=bar' },
    client_msg_id: 'MSG_000001',
    data: { keyword1: { value: '巧克力' }, keyword2: { value: '39.8元', color: '#173177' } },
  })
  await t.rejects(h.api.template.send({ toUser: '', templateId: 'x', data: {} }), TypeError)
})

t.test('users.info and users.list', async (t) => {
  const h = await harness(t)
  h.server.users.set('o1', {
    subscribe: 1,
    openid: 'o1',
    language: 'zh_CN',
    subscribe_time: 1382694957,
    unionid: 'u1',
    remark: '',
    groupid: 0,
    tagid_list: [128, 2],
    subscribe_scene: 'ADD_SCENE_QR_CODE',
    qr_scene: 98765,
    qr_scene_str: '',
  })
  h.server.users.set('o2', { subscribe: 0, openid: 'o2' })
  h.server.users.set('o3', { subscribe: 1, openid: 'o3' })
  const u = await h.api.users.info('o1')
  t.match(u, {
    subscribe: 1,
    openId: 'o1',
    language: 'zh_CN',
    subscribeTime: 1382694957,
    unionId: 'u1',
    tagIdList: [128, 2],
    subscribeScene: 'ADD_SCENE_QR_CODE',
    qrScene: 98765,
  })
  t.same(h.server.requestsTo('/cgi-bin/user/info')[0]?.query, { openid: 'o1', lang: 'zh_CN', access_token: h.server.currentStableToken })
  const all: string[] = []
  for (let page = await h.api.users.list(); page.count > 0; page = await h.api.users.list(page.nextOpenId)) all.push(...page.openIds)
  t.same(all, ['o1', 'o2', 'o3'])
  t.same(h.server.requestsTo('/cgi-bin/user/get').map((r) => r.query['next_openid']), [undefined, 'o2', 'o3'])
})

t.test('qrcode.create: temporary and permanent, scene id and string, with the image URL', async (t) => {
  const h = await harness(t)
  const tmp = await h.api.qrcode.create({ scene: 123, expireSeconds: 604800 })
  t.equal(tmp.expireSeconds, 604800)
  t.equal(tmp.url, 'http://weixin.qq.com/q/kZgfwMTm72WWPkovabbI')
  t.equal(tmp.imageUrl, `https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=${encodeURIComponent(tmp.ticket)}`)
  t.match(tmp.imageUrl, /%2B%2F%3D/, 'ticket is URL-encoded')
  t.equal(h.api.qrcode.imageUrl('a+b/c='), 'https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=a%2Bb%2Fc%3D')
  t.equal(qrcodeImageUrl('x'), 'https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=x')
  await h.api.qrcode.create({ scene: 'test' })
  const perm = await h.api.qrcode.create({ permanent: true, scene: 123 })
  t.equal(perm.expireSeconds, undefined)
  await h.api.qrcode.create({ permanent: true, scene: 'test' })
  t.same(h.server.requestsTo('/cgi-bin/qrcode/create').map((r) => r.body), [
    { expire_seconds: 604800, action_name: 'QR_SCENE', action_info: { scene: { scene_id: 123 } } },
    { action_name: 'QR_STR_SCENE', action_info: { scene: { scene_str: 'test' } } },
    { action_name: 'QR_LIMIT_SCENE', action_info: { scene: { scene_id: 123 } } },
    { action_name: 'QR_LIMIT_STR_SCENE', action_info: { scene: { scene_str: 'test' } } },
  ])
  await t.rejects(h.api.qrcode.create({ permanent: true, scene: 100_001 }), RangeError)
  await t.rejects(h.api.qrcode.create({ scene: 0 }), RangeError)
  await t.rejects(h.api.qrcode.create({ scene: 'x'.repeat(65) }), RangeError)
  await t.rejects(h.api.qrcode.create({ scene: 1, expireSeconds: 2_592_001 }), RangeError)
  t.equal(h.server.requestsTo('/cgi-bin/qrcode/create').length, 4)
})
