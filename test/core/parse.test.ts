import t from 'tap'
import { parseMessage, isUnknownMessage, isEvent, sentMsgType, sentEvent, camelCaseTag, catalogue, MISSING_CREATE_TIME, type Message } from '../../src/index.js'
import { textPush, throwsCode } from './helpers.js'

/** The common header of a push, as in the official samples. */
function push(msgType: string, body: string, event?: string): string {
  return (
    '<xml>\n  <ToUserName><![CDATA[gh_3a6a5f8ab1c2]]></ToUserName>\n  <FromUserName><![CDATA[oAbCdEfGhIjKlMnOpQrStUvWxYz0]]></FromUserName>\n' +
    `  <CreateTime>1348831860</CreateTime>\n  <MsgType><![CDATA[${msgType}]]></MsgType>\n` +
    (event === undefined ? '' : `  <Event><![CDATA[${event}]]></Event>\n`) +
    body +
    '\n</xml>'
  )
}
const head = { toUserName: 'gh_3a6a5f8ab1c2', fromUserName: 'oAbCdEfGhIjKlMnOpQrStUvWxYz0', createTime: 1348831860 }

/** parseMessage without `raw`, for exact comparison of the typed fields. */
function fields(xml: string): Record<string, unknown> {
  const { raw, ...rest } = parseMessage(xml) as Message & Record<string, unknown>
  return rest
}

// Samples follow the official docs: 接收普通消息, 接收事件推送, 自定义菜单事件推送, 模板消息 and 群发 results,
// 发布能力 (PUBLISHJOBFINISH), 订阅通知 events and 客服会话 events.
const cases: Array<{ name: string; xml: string; expected: Record<string, unknown> }> = [
  {
    name: 'text',
    xml: push('text', '  <Content><![CDATA[this is a test]]></Content>\n  <MsgId>1234567890123456</MsgId>'),
    expected: { ...head, msgType: 'text', content: 'this is a test', msgId: '1234567890123456' },
  },
  {
    name: 'text from an article comment (MsgDataId, Idx)',
    xml: push('text', '<Content><![CDATA[好文]]></Content><MsgId>1234567890123456</MsgId><MsgDataId>2247483700</MsgDataId><Idx>1</Idx>'),
    expected: { ...head, msgType: 'text', content: '好文', msgId: '1234567890123456', msgDataId: '2247483700', idx: '1' },
  },
  {
    name: 'text from a menu (bizmsgmenuid)',
    xml: push('text', '<Content><![CDATA[满意]]></Content><MsgId>1234567890123456</MsgId><bizmsgmenuid>101</bizmsgmenuid>'),
    expected: { ...head, msgType: 'text', content: '满意', msgId: '1234567890123456', bizmsgmenuid: '101' },
  },
  {
    name: 'image',
    xml: push('image', '<PicUrl><![CDATA[http://mmbiz.qpic.cn/mmbiz_jpg/abc/0]]></PicUrl><MediaId><![CDATA[media_id]]></MediaId><MsgId>1234567890123456</MsgId>'),
    expected: { ...head, msgType: 'image', picUrl: 'http://mmbiz.qpic.cn/mmbiz_jpg/abc/0', mediaId: 'media_id', msgId: '1234567890123456' },
  },
  {
    name: 'voice',
    xml: push('voice', '<MediaId><![CDATA[media_id]]></MediaId><Format><![CDATA[amr]]></Format><MsgId>1234567890123456</MsgId>'),
    expected: { ...head, msgType: 'voice', mediaId: 'media_id', format: 'amr', msgId: '1234567890123456' },
  },
  {
    name: 'voice with Recognition and MediaId16K',
    xml: push(
      'voice',
      '<MediaId><![CDATA[media_id]]></MediaId><Format><![CDATA[Format]]></Format><Recognition><![CDATA[腾讯微信团队]]></Recognition><MsgId>1234567890123456</MsgId><MediaId16K><![CDATA[media_id_16k]]></MediaId16K>',
    ),
    expected: { ...head, msgType: 'voice', mediaId: 'media_id', format: 'Format', recognition: '腾讯微信团队', mediaId16K: 'media_id_16k', msgId: '1234567890123456' },
  },
  {
    name: 'video',
    xml: push('video', '<MediaId><![CDATA[media_id]]></MediaId><ThumbMediaId><![CDATA[thumb_media_id]]></ThumbMediaId><MsgId>1234567890123456</MsgId>'),
    expected: { ...head, msgType: 'video', mediaId: 'media_id', thumbMediaId: 'thumb_media_id', msgId: '1234567890123456' },
  },
  {
    name: 'shortvideo',
    xml: push('shortvideo', '<MediaId><![CDATA[media_id]]></MediaId><ThumbMediaId><![CDATA[thumb_media_id]]></ThumbMediaId><MsgId>1234567890123456</MsgId>'),
    expected: { ...head, msgType: 'shortvideo', mediaId: 'media_id', thumbMediaId: 'thumb_media_id', msgId: '1234567890123456' },
  },
  {
    name: 'location',
    xml: push('location', '<Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[位置信息]]></Label><MsgId>1234567890123456</MsgId>'),
    expected: { ...head, msgType: 'location', locationX: '23.134521', locationY: '113.358803', scale: '20', label: '位置信息', msgId: '1234567890123456' },
  },
  {
    name: 'link',
    xml: push('link', '<Title><![CDATA[公众平台官网链接]]></Title><Description><![CDATA[公众平台官网链接]]></Description><Url><![CDATA[https://mp.weixin.qq.com/]]></Url><MsgId>1234567890123456</MsgId>'),
    expected: { ...head, msgType: 'link', title: '公众平台官网链接', description: '公众平台官网链接', url: 'https://mp.weixin.qq.com/', msgId: '1234567890123456' },
  },
  {
    name: 'subscribe',
    xml: push('event', '', 'subscribe'),
    expected: { ...head, msgType: 'event', event: 'subscribe' },
  },
  {
    name: 'subscribe with an empty EventKey',
    xml: push('event', '<EventKey><![CDATA[]]></EventKey>', 'subscribe'),
    expected: { ...head, msgType: 'event', event: 'subscribe', eventKey: '' },
  },
  {
    name: 'subscribe via a parametric QR code (qrscene_)',
    xml: push('event', '<EventKey><![CDATA[qrscene_123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>', 'subscribe'),
    expected: { ...head, msgType: 'event', event: 'subscribe', eventKey: 'qrscene_123', ticket: 'TICKET', qrScene: '123' },
  },
  {
    name: 'unsubscribe',
    xml: push('event', '<EventKey><![CDATA[]]></EventKey>', 'unsubscribe'),
    expected: { ...head, msgType: 'event', event: 'unsubscribe', eventKey: '' },
  },
  {
    name: 'SCAN',
    xml: push('event', '<EventKey><![CDATA[SCENE_VALUE]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>', 'SCAN'),
    expected: { ...head, msgType: 'event', event: 'SCAN', eventKey: 'SCENE_VALUE', ticket: 'TICKET', qrScene: 'SCENE_VALUE' },
  },
  {
    name: 'LOCATION',
    xml: push('event', '<Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision>', 'LOCATION'),
    expected: { ...head, msgType: 'event', event: 'LOCATION', latitude: '23.137466', longitude: '113.352425', precision: '119.385040' },
  },
  {
    name: 'CLICK',
    xml: push('event', '<EventKey><![CDATA[EVENTKEY]]></EventKey>', 'CLICK'),
    expected: { ...head, msgType: 'event', event: 'CLICK', eventKey: 'EVENTKEY' },
  },
  {
    name: 'VIEW',
    xml: push('event', '<EventKey><![CDATA[www.qq.com]]></EventKey><MenuId>MENUID</MenuId>', 'VIEW'),
    expected: { ...head, msgType: 'event', event: 'VIEW', eventKey: 'www.qq.com', menuId: 'MENUID' },
  },
  {
    name: 'view_miniprogram',
    xml: push('event', '<EventKey><![CDATA[pages/index/index]]></EventKey><MenuId>MENUID</MenuId>', 'view_miniprogram'),
    expected: { ...head, msgType: 'event', event: 'view_miniprogram', eventKey: 'pages/index/index', menuId: 'MENUID' },
  },
  {
    name: 'scancode_push',
    xml: push('event', '<EventKey><![CDATA[6]]></EventKey><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[1]]></ScanResult></ScanCodeInfo>', 'scancode_push'),
    expected: { ...head, msgType: 'event', event: 'scancode_push', eventKey: '6', scanCodeInfo: { scanType: 'qrcode', scanResult: '1' } },
  },
  {
    name: 'scancode_waitmsg',
    xml: push('event', '<EventKey><![CDATA[6]]></EventKey><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[2]]></ScanResult></ScanCodeInfo>', 'scancode_waitmsg'),
    expected: { ...head, msgType: 'event', event: 'scancode_waitmsg', eventKey: '6', scanCodeInfo: { scanType: 'qrcode', scanResult: '2' } },
  },
  {
    name: 'pic_sysphoto (one picture)',
    xml: push('event', '<EventKey><![CDATA[6]]></EventKey><SendPicsInfo><Count>1</Count><PicList><item><PicMd5Sum><![CDATA[1b5f7c23b5bf75682a53e7b6d163e185]]></PicMd5Sum></item></PicList></SendPicsInfo>', 'pic_sysphoto'),
    expected: { ...head, msgType: 'event', event: 'pic_sysphoto', eventKey: '6', sendPicsInfo: { count: 1, picList: [{ picMd5Sum: '1b5f7c23b5bf75682a53e7b6d163e185' }] } },
  },
  {
    name: 'pic_photo_or_album',
    xml: push('event', '<EventKey><![CDATA[6]]></EventKey><SendPicsInfo><Count>1</Count><PicList><item><PicMd5Sum><![CDATA[5a75aaca956d97be686719218f275c6b]]></PicMd5Sum></item></PicList></SendPicsInfo>', 'pic_photo_or_album'),
    expected: { ...head, msgType: 'event', event: 'pic_photo_or_album', eventKey: '6', sendPicsInfo: { count: 1, picList: [{ picMd5Sum: '5a75aaca956d97be686719218f275c6b' }] } },
  },
  {
    name: 'pic_weixin with one picture',
    xml: push('event', '<EventKey><![CDATA[6]]></EventKey><SendPicsInfo><Count>1</Count><PicList><item><PicMd5Sum><![CDATA[5a75aaca956d97be686719218f275c6b]]></PicMd5Sum></item></PicList></SendPicsInfo>', 'pic_weixin'),
    expected: { ...head, msgType: 'event', event: 'pic_weixin', eventKey: '6', sendPicsInfo: { count: 1, picList: [{ picMd5Sum: '5a75aaca956d97be686719218f275c6b' }] } },
  },
  {
    name: 'pic_weixin with two pictures',
    xml: push(
      'event',
      '<EventKey><![CDATA[6]]></EventKey><SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum><![CDATA[aaa]]></PicMd5Sum></item><item><PicMd5Sum><![CDATA[bbb]]></PicMd5Sum></item></PicList></SendPicsInfo>',
      'pic_weixin',
    ),
    expected: { ...head, msgType: 'event', event: 'pic_weixin', eventKey: '6', sendPicsInfo: { count: 2, picList: [{ picMd5Sum: 'aaa' }, { picMd5Sum: 'bbb' }] } },
  },
  {
    name: 'pic_weixin with an empty PicList',
    xml: push('event', '<EventKey><![CDATA[6]]></EventKey><SendPicsInfo><Count>0</Count><PicList></PicList></SendPicsInfo>', 'pic_weixin'),
    expected: { ...head, msgType: 'event', event: 'pic_weixin', eventKey: '6', sendPicsInfo: { count: 0, picList: [] } },
  },
  {
    name: 'location_select',
    xml: push(
      'event',
      '<EventKey><![CDATA[6]]></EventKey><SendLocationInfo><Location_X><![CDATA[23]]></Location_X><Location_Y><![CDATA[113]]></Location_Y><Scale><![CDATA[15]]></Scale><Label><![CDATA[ 广州市海珠区客村艺苑路 106号]]></Label><Poiname><![CDATA[]]></Poiname></SendLocationInfo>',
      'location_select',
    ),
    expected: {
      ...head,
      msgType: 'event',
      event: 'location_select',
      eventKey: '6',
      sendLocationInfo: { locationX: '23', locationY: '113', scale: '15', label: ' 广州市海珠区客村艺苑路 106号', poiname: '' },
    },
  },
  {
    name: 'TEMPLATESENDJOBFINISH (MsgID → msgId)',
    xml: push('event', '<MsgID>200163836</MsgID><Status><![CDATA[success]]></Status>', 'TEMPLATESENDJOBFINISH'),
    expected: { ...head, msgType: 'event', event: 'TEMPLATESENDJOBFINISH', msgId: '200163836', status: 'success' },
  },
  {
    name: 'MASSSENDJOBFINISH',
    xml: push(
      'event',
      '<MsgID>1000001625</MsgID><Status><![CDATA[err(30003)]]></Status><TotalCount>0</TotalCount><FilterCount>0</FilterCount><SentCount>0</SentCount><ErrorCount>0</ErrorCount>' +
        '<CopyrightCheckResult><Count>2</Count><ResultList><item><ArticleIdx>1</ArticleIdx><UserDeclareState>0</UserDeclareState><AuditState>2</AuditState>' +
        '<OriginalArticleUrl><![CDATA[Url_1]]></OriginalArticleUrl><OriginalArticleType>1</OriginalArticleType><CanReprint>1</CanReprint><NeedReplaceContent>1</NeedReplaceContent>' +
        '<NeedShowReprintSource>1</NeedShowReprintSource></item><item><ArticleIdx>2</ArticleIdx><UserDeclareState>0</UserDeclareState><AuditState>2</AuditState>' +
        '<OriginalArticleUrl><![CDATA[Url_2]]></OriginalArticleUrl><OriginalArticleType>1</OriginalArticleType><CanReprint>1</CanReprint><NeedReplaceContent>1</NeedReplaceContent>' +
        '<NeedShowReprintSource>1</NeedShowReprintSource></item></ResultList><CheckState>2</CheckState></CopyrightCheckResult>' +
        '<ArticleUrlResult><Count>1</Count><ResultList><item><ArticleIdx>1</ArticleIdx><ArticleUrl><![CDATA[Url]]></ArticleUrl></item></ResultList></ArticleUrlResult>',
      'MASSSENDJOBFINISH',
    ),
    expected: {
      ...head,
      msgType: 'event',
      event: 'MASSSENDJOBFINISH',
      msgId: '1000001625',
      status: 'err(30003)',
      totalCount: 0,
      filterCount: 0,
      sentCount: 0,
      errorCount: 0,
      copyrightCheckResult: {
        count: 2,
        resultList: [
          { articleIdx: '1', userDeclareState: '0', auditState: '2', originalArticleUrl: 'Url_1', originalArticleType: '1', canReprint: '1', needReplaceContent: '1', needShowReprintSource: '1' },
          { articleIdx: '2', userDeclareState: '0', auditState: '2', originalArticleUrl: 'Url_2', originalArticleType: '1', canReprint: '1', needReplaceContent: '1', needShowReprintSource: '1' },
        ],
        checkState: '2',
      },
      articleUrlResult: { count: 1, resultList: [{ articleIdx: '1', articleUrl: 'Url' }] },
    },
  },
  {
    name: 'PUBLISHJOBFINISH (success)',
    xml: push(
      'event',
      '<PublishEventInfo><publish_id>2247503051</publish_id><publish_status>0</publish_status><article_id><![CDATA[b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvy_Z3Vm8]]></article_id>' +
        '<article_detail><count>1</count><item><idx>1</idx><article_url><![CDATA[ARTICLE_URL]]></article_url></item></article_detail></PublishEventInfo>',
      'PUBLISHJOBFINISH',
    ),
    expected: {
      ...head,
      msgType: 'event',
      event: 'PUBLISHJOBFINISH',
      publishEventInfo: {
        publishId: '2247503051',
        publishStatus: '0',
        articleId: 'b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvy_Z3Vm8',
        articleDetail: { count: 1, item: [{ idx: '1', articleUrl: 'ARTICLE_URL' }] },
      },
    },
  },
  {
    name: 'PUBLISHJOBFINISH (failed articles, fail_idx)',
    xml: push(
      'event',
      '<PublishEventInfo><publish_id>2247503051</publish_id><publish_status>2</publish_status><fail_idx>1</fail_idx><fail_idx>2</fail_idx></PublishEventInfo>',
      'PUBLISHJOBFINISH',
    ),
    expected: { ...head, msgType: 'event', event: 'PUBLISHJOBFINISH', publishEventInfo: { publishId: '2247503051', publishStatus: '2', failIdx: ['1', '2'] } },
  },
  {
    name: 'subscribe_msg_popup_event with one List',
    xml: push(
      'event',
      '<SubscribeMsgPopupEvent><List><TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List></SubscribeMsgPopupEvent>',
      'subscribe_msg_popup_event',
    ),
    expected: {
      ...head,
      msgType: 'event',
      event: 'subscribe_msg_popup_event',
      subscribeMsgPopupEvent: [{ templateId: 'VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc', subscribeStatusString: 'accept', popupScene: '2' }],
    },
  },
  {
    name: 'subscribe_msg_popup_event with two Lists',
    xml: push(
      'event',
      '<SubscribeMsgPopupEvent><List><TemplateId><![CDATA[T1]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List>' +
        '<List><TemplateId><![CDATA[T2]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString><PopupScene>2</PopupScene></List></SubscribeMsgPopupEvent>',
      'subscribe_msg_popup_event',
    ),
    expected: {
      ...head,
      msgType: 'event',
      event: 'subscribe_msg_popup_event',
      subscribeMsgPopupEvent: [
        { templateId: 'T1', subscribeStatusString: 'accept', popupScene: '2' },
        { templateId: 'T2', subscribeStatusString: 'reject', popupScene: '2' },
      ],
    },
  },
  {
    name: 'subscribe_msg_change_event',
    xml: push(
      'event',
      '<SubscribeMsgChangeEvent><List><TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString></List></SubscribeMsgChangeEvent>',
      'subscribe_msg_change_event',
    ),
    expected: {
      ...head,
      msgType: 'event',
      event: 'subscribe_msg_change_event',
      subscribeMsgChangeEvent: [{ templateId: 'VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc', subscribeStatusString: 'reject' }],
    },
  },
  {
    name: 'subscribe_msg_sent_event',
    xml: push(
      'event',
      '<SubscribeMsgSentEvent><List><TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId><MsgID>1700827132819554304</MsgID><ErrorCode>0</ErrorCode><ErrorStatus><![CDATA[success]]></ErrorStatus></List></SubscribeMsgSentEvent>',
      'subscribe_msg_sent_event',
    ),
    expected: {
      ...head,
      msgType: 'event',
      event: 'subscribe_msg_sent_event',
      subscribeMsgSentEvent: [{ templateId: 'VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc', msgId: '1700827132819554304', errorCode: '0', errorStatus: 'success' }],
    },
  },
  {
    name: 'kf_create_session',
    xml: push('event', '<KfAccount><![CDATA[test1@test]]></KfAccount>', 'kf_create_session'),
    expected: { ...head, msgType: 'event', event: 'kf_create_session', kfAccount: 'test1@test' },
  },
  {
    name: 'kf_close_session',
    xml: push('event', '<KfAccount><![CDATA[test1@test]]></KfAccount>', 'kf_close_session'),
    expected: { ...head, msgType: 'event', event: 'kf_close_session', kfAccount: 'test1@test' },
  },
  {
    name: 'kf_switch_session',
    xml: push('event', '<FromKfAccount><![CDATA[test1@test]]></FromKfAccount><ToKfAccount><![CDATA[test2@test]]></ToKfAccount>', 'kf_switch_session'),
    expected: { ...head, msgType: 'event', event: 'kf_switch_session', fromKfAccount: 'test1@test', toKfAccount: 'test2@test' },
  },
]

t.test('every catalogue kind parses into its typed fields', async (t) => {
  for (const c of cases) {
    t.same(fields(c.xml), c.expected, c.name)
    const msg = parseMessage(c.xml)
    t.notOk(isUnknownMessage(msg), `${c.name}: a known kind`)
    t.equal(isEvent(msg), msg.msgType === 'event', `${c.name}: isEvent`)
    t.type(msg.createTime, 'number', `${c.name}: createTime is a number`)
    t.type(msg.raw, 'object', `${c.name}: raw present`)
  }
  // the samples cover the whole catalogue
  const covered = new Set(cases.map((c) => (c.expected['msgType'] === 'event' ? c.expected['event'] : c.expected['msgType'])))
  for (const kind of [...Object.keys(catalogue.messages), ...Object.keys(catalogue.events)]) t.ok(covered.has(kind), `sample for ${kind}`)
})

t.test('raw keeps the original strings', async (t) => {
  const msg = parseMessage(cases.find((c) => c.name === 'pic_weixin with two pictures')!.xml)
  t.equal(msg.raw['CreateTime'], '1348831860')
  t.equal(msg.raw['MsgType'], 'event')
  t.same(msg.raw['SendPicsInfo'], { Count: '2', PicList: { item: [{ PicMd5Sum: 'aaa' }, { PicMd5Sum: 'bbb' }] } })
})

t.test('64-bit MsgId stays exact', async (t) => {
  for (const id of ['9223372036854775807', '18446744073709551615', '24123456789012345', '6054768590064713728']) {
    const msg = parseMessage(textPush('x').replace('<MsgId>24123456789012345</MsgId>', `<MsgId>${id}</MsgId>`))
    if (msg.msgType !== 'text') throw new Error('expected text')
    t.equal(msg.msgId, id)
    t.equal(msg.raw['MsgId'], id)
  }
  t.not(String(Number('9223372036854775807')), '9223372036854775807', '(a JS number would not have kept it)')
})

t.test('CreateTime', async (t) => {
  const withTime = (v: string) => textPush('x').replace('<CreateTime>1700000000</CreateTime>', `<CreateTime>${v}</CreateTime>`)
  t.equal(parseMessage(withTime('1700000000')).createTime, 1700000000)
  t.equal(parseMessage(withTime('<![CDATA[1700000000]]>')).createTime, 1700000000, 'in CDATA')
  for (const bad of ['1.5', 'abc', '', '1e9', '0x10', '17000000000000000000']) {
    throwsCode(t, () => parseMessage(withTime(bad)), 'MALFORMED_XML', `CreateTime ${JSON.stringify(bad)}`)
  }
})

t.test('text content reaches the handler exactly', async (t) => {
  const content = (xmlContent: string) => {
    const msg = parseMessage(textPush('').replace('<Content><![CDATA[]]></Content>', `<Content>${xmlContent}</Content>`))
    if (msg.msgType !== 'text') throw new Error('expected text')
    return msg.content
  }
  t.equal(content('<![CDATA[a\x1db]]>'), 'a\x1db', 'raw \\x1d in CDATA, as WeChat sends it')
  t.equal(content('a\x1db'), 'a\x1db', 'raw \\x1d outside CDATA')
  t.equal(content('<![CDATA[\x01\x08\x0b\x0c\x1f\x7f]]>'), '\x01\x08\x0b\x0c\x1f\x7f', 'other C0 controls')
  t.equal(content('<![CDATA[  leading and trailing  ]]>'), '  leading and trailing  ', 'spaces in CDATA kept')
  t.equal(content('<![CDATA[\n\tindented\n]]>'), '\n\tindented\n', 'newlines and tabs in CDATA kept')
  t.equal(content('<![CDATA[   ]]>'), '   ', 'whitespace-only CDATA kept')
  t.equal(content('<![CDATA[]]>'), '', 'empty CDATA')
  t.equal(content(''), '', 'empty element')
  t.equal(content('&amp;&lt;&gt;&quot;&apos;&#x41;&#65;&#x1F600;'), '&<>"\'AA😀', 'entities and character references decoded outside CDATA')
  t.equal(content('<![CDATA[&amp;&#x41;&lt;]]>'), '&amp;&#x41;&lt;', 'not inside CDATA')
  t.equal(content('<![CDATA[a]]]]><![CDATA[>b]]>'), 'a]]>b', 'a split ]]> joins back')
  t.equal(content('<![CDATA[<!DOCTYPE html><!ENTITY x "y">]]>'), '<!DOCTYPE html><!ENTITY x "y">', '<!DOCTYPE inside CDATA is user text')
  t.equal(content('<![CDATA[<xml><MsgType>event</MsgType></xml>]]>'), '<xml><MsgType>event</MsgType></xml>', 'markup inside CDATA is text')
  t.equal(content('<![CDATA[中文😀👍🏽👨‍👩‍👧]]>'), '中文😀👍🏽👨‍👩‍👧')
  t.equal(content('<!-- a comment --><![CDATA[x]]>'), 'x', 'comments ignored')
})

t.test('HTML named entities are not XML entities: not expanded', async (t) => {
  const msg = parseMessage(textPush('').replace('<Content><![CDATA[]]></Content>', '<Content>&copy;&nbsp;&euro;</Content>'))
  t.equal((msg as { content?: unknown }).content, '&copy;&nbsp;&euro;', 'HTML named entities stay as written')
})

t.test('unknown MsgType and Event become typed unknown messages', async (t) => {
  // Current design (src/core/messages.ts): an unknown kind has the literal msgType 'unknown' /
  // event 'unknown' (so narrowing on known kinds stays exact), and the value WeChat sent is kept in
  // originalMsgType / originalEvent, in raw, and returned by sentMsgType / sentEvent.
  const unknownMsg = parseMessage(push('hologram', '<HoloUrl><![CDATA[https://example.com/h]]></HoloUrl><Frame_Rate>60</Frame_Rate><MsgId>1</MsgId>'))
  t.ok(isUnknownMessage(unknownMsg))
  t.notOk(isEvent(unknownMsg))
  t.equal(sentMsgType(unknownMsg), 'hologram', 'the MsgType exactly as sent')
  t.equal(unknownMsg.raw['MsgType'], 'hologram')
  t.same({ ...unknownMsg, raw: undefined }, { ...head, msgType: 'unknown', originalMsgType: 'hologram', holoUrl: 'https://example.com/h', frameRate: '60', msgId: '1', raw: undefined }, 'fields camelCased')
  t.same(unknownMsg.raw, { ToUserName: 'gh_3a6a5f8ab1c2', FromUserName: 'oAbCdEfGhIjKlMnOpQrStUvWxYz0', CreateTime: '1348831860', MsgType: 'hologram', HoloUrl: 'https://example.com/h', Frame_Rate: '60', MsgId: '1' })

  const unknownEvent = parseMessage(push('event', '<EventKey><![CDATA[k]]></EventKey><SomeInfo><Nested>1</Nested></SomeInfo>', 'Future_EVENT'))
  t.equal(unknownEvent.msgType, 'event')
  if (unknownEvent.msgType !== 'event') throw new Error('expected an event')
  t.ok(isUnknownMessage(unknownEvent))
  t.ok(isEvent(unknownEvent))
  t.equal(sentEvent(unknownEvent), 'Future_EVENT', 'the Event exactly as sent')
  t.equal(unknownEvent.raw['Event'], 'Future_EVENT')
  t.same(
    { ...unknownEvent, raw: undefined },
    { ...head, msgType: 'event', event: 'unknown', originalEvent: 'Future_EVENT', eventKey: 'k', someInfo: { nested: '1' }, raw: undefined },
    'fields camelCased',
  )
  t.equal(unknownEvent.createTime, 1348831860, 'common fields still typed')

  // known kinds report themselves
  const click = parseMessage(push('event', '<EventKey><![CDATA[k]]></EventKey>', 'CLICK'))
  t.equal(sentMsgType(click), 'event')
  if (click.msgType === 'event') t.equal(sentEvent(click), 'CLICK')
  // event names are case-sensitive: 'scan' is not 'SCAN'
  const lower = parseMessage(push('event', '<EventKey><![CDATA[k]]></EventKey>', 'scan'))
  t.ok(isUnknownMessage(lower))
  // names that exist on Object.prototype are not catalogue entries
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    const m = parseMessage(push(name, '<MsgId>1</MsgId>'))
    t.ok(isUnknownMessage(m), `MsgType ${name}`)
    t.equal(sentMsgType(m), name)
    const e = parseMessage(push('event', '', name))
    t.ok(isUnknownMessage(e), `Event ${name}`)
  }
})

t.test('MALFORMED_XML', async (t) => {
  throwsCode(t, () => parseMessage('not xml at all'), 'MALFORMED_XML', 'not XML')
  throwsCode(t, () => parseMessage(''), 'MALFORMED_XML', 'empty')
  throwsCode(t, () => parseMessage('{"MsgType":"text"}'), 'MALFORMED_XML', 'JSON push format')
  throwsCode(t, () => parseMessage(undefined as never), 'MALFORMED_XML', 'not a string')
  throwsCode(t, () => parseMessage('<root><MsgType>text</MsgType></root>'), 'MALFORMED_XML', 'no <xml> root')
  throwsCode(t, () => parseMessage('<xml></xml>'), 'MALFORMED_XML', 'empty <xml>')
  throwsCode(t, () => parseMessage('<xml>just text</xml>'), 'MALFORMED_XML', '<xml> with text only')
  throwsCode(t, () => parseMessage(textPush('x').replace(/<MsgType>.*?<\/MsgType>/, '')), 'MALFORMED_XML', 'missing MsgType')
  throwsCode(t, () => parseMessage(textPush('x').replace(/<MsgType>.*?<\/MsgType>/, '<MsgType></MsgType>')), 'MALFORMED_XML', 'empty MsgType')
  throwsCode(t, () => parseMessage(textPush('x').replace(/<FromUserName>.*?<\/FromUserName>/, '')), 'MALFORMED_XML', 'missing FromUserName')
  throwsCode(t, () => parseMessage(textPush('x').replace(/<ToUserName>.*?<\/ToUserName>/, '')), 'MALFORMED_XML', 'missing ToUserName')
  throwsCode(t, () => parseMessage(textPush('x').replace('<CreateTime>1700000000', '<CreateTime>soon')), 'MALFORMED_XML', 'CreateTime not an integer')
  throwsCode(t, () => parseMessage(textPush('x').replace(/<Content>.*?<\/Content>/, '<Content><b>bold</b></Content>')), 'MALFORMED_XML', 'Content with child elements')
  throwsCode(t, () => parseMessage(push('event', '')), 'MALFORMED_XML', 'event without Event')
  throwsCode(t, () => parseMessage(push('event', '<EventKey>6</EventKey><SendPicsInfo>text</SendPicsInfo>', 'pic_weixin')), 'MALFORMED_XML', 'SendPicsInfo holding text')
  throwsCode(t, () => parseMessage(push('event', '<EventKey>6</EventKey><SendPicsInfo><Count>x</Count><PicList></PicList></SendPicsInfo>', 'pic_weixin')), 'MALFORMED_XML', 'Count not an integer')
  throwsCode(t, () => parseMessage('<xml><MsgType>text</MsgType><Content><![CDATA[unterminated</Content></xml>'), 'MALFORMED_XML', 'unterminated CDATA')
  throwsCode(t, () => parseMessage('<xml><MsgType>text</MsgType><!-- unterminated comment </xml>'), 'MALFORMED_XML', 'unterminated comment')
})

t.test('DOCTYPE_FORBIDDEN', async (t) => {
  const bomb =
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n' +
    Array.from({ length: 9 }, (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('\n') +
    '\n]>\n<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>'
  throwsCode(t, () => parseMessage(bomb), 'DOCTYPE_FORBIDDEN', 'billion laughs')
  throwsCode(t, () => parseMessage('<!DOCTYPE xml SYSTEM "http://evil.example/x.dtd"><xml><MsgType>text</MsgType></xml>'), 'DOCTYPE_FORBIDDEN', 'external DTD')
  throwsCode(t, () => parseMessage('<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><MsgType>text</MsgType><Content>&xxe;</Content></xml>'), 'DOCTYPE_FORBIDDEN', 'external entity')
  throwsCode(t, () => parseMessage('<!doctype xml><xml><MsgType>text</MsgType></xml>'), 'DOCTYPE_FORBIDDEN', 'lower-case doctype')
  throwsCode(t, () => parseMessage(textPush('x').replace('<MsgId>', '<!ENTITY x "y"><MsgId>')), 'DOCTYPE_FORBIDDEN', 'an entity declaration inside the document')
  throwsCode(t, () => parseMessage(`<!-- c --><!DOCTYPE xml>${textPush('x')}`), 'DOCTYPE_FORBIDDEN', 'after a comment')
  // text that only looks like a declaration is fine
  const ok = parseMessage(textPush('<!DOCTYPE x [<!ENTITY a "b">]>'))
  t.equal((ok as { content?: unknown }).content, '<!DOCTYPE x [<!ENTITY a "b">]>', '<!DOCTYPE inside CDATA accepted')
})

t.test('camelCaseTag', async (t) => {
  const expected: Record<string, string> = {
    FromUserName: 'fromUserName',
    ToUserName: 'toUserName',
    Location_X: 'locationX',
    Location_Y: 'locationY',
    MsgID: 'msgId',
    MsgId: 'msgId',
    publish_id: 'publishId',
    article_url: 'articleUrl',
    MediaId16K: 'mediaId16K',
    HQMusicUrl: 'hqMusicUrl',
    bizmsgmenuid: 'bizmsgmenuid',
    Url: 'url',
    fail_idx: 'failIdx',
  }
  for (const [tag, name] of Object.entries(expected)) t.equal(camelCaseTag(tag), name, tag)
})

t.test('#9 item 9: MsgID on a text message, and missing non-essential elements, as published', async (t) => {
  // A text push as some published pushes spell it: MsgID, not MsgId.
  const published =
    '<xml><ToUserName><![CDATA[gh_3a6a5f8ab1c2]]></ToUserName><FromUserName><![CDATA[oAbCdEfGhIjKlMnOpQrStUvWxYz0]]></FromUserName>' +
    '<CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[this is a test]]></Content><MsgID>1234567890123456</MsgID></xml>'
  t.same(fields(published), { ...head, msgType: 'text', content: 'this is a test', msgId: '1234567890123456' })
  t.equal(parseMessage(published).raw['MsgID'], '1234567890123456', 'raw keeps the spelling sent')
  const imageWithMsgId = push('image', '<PicUrl><![CDATA[u]]></PicUrl><MediaId><![CDATA[m]]></MediaId><MsgID>7</MsgID>')
  t.same(fields(imageWithMsgId), { ...head, msgType: 'image', picUrl: 'u', mediaId: 'm', msgId: '7' })
  const jobWithMsgId = push('event', '<MsgId>200163836</MsgId><Status><![CDATA[success]]></Status>', 'TEMPLATESENDJOBFINISH')
  t.same(fields(jobWithMsgId), { ...head, msgType: 'event', event: 'TEMPLATESENDJOBFINISH', msgId: '200163836', status: 'success' }, 'events read MsgId too')

  // Only the users and the type are required: the rest is absent, not a malformed push.
  t.same(fields(textPush('x').replace(/<MsgId>.*?<\/MsgId>/, '')), { toUserName: 'gh_123456789abc', fromUserName: 'oUser123', createTime: 1700000000, msgType: 'text', content: 'x' }, 'text without MsgId')
  t.same(fields(textPush('x').replace(/<Content>.*?<\/Content>/, '')), { toUserName: 'gh_123456789abc', fromUserName: 'oUser123', createTime: 1700000000, msgType: 'text', msgId: '24123456789012345' }, 'text without Content')
  t.equal(parseMessage(textPush('x').replace(/<CreateTime>.*?<\/CreateTime>/, '')).createTime, MISSING_CREATE_TIME, 'missing CreateTime reads as 0')
  t.equal(MISSING_CREATE_TIME, 0)
  t.same(fields(push('event', '', 'CLICK')), { ...head, msgType: 'event', event: 'CLICK' }, 'CLICK without EventKey')
  t.same(fields(push('event', '', 'SCAN')), { ...head, msgType: 'event', event: 'SCAN' }, 'SCAN without EventKey has no qrScene either')
  t.same(fields(push('event', '<EventKey>k</EventKey>', 'scancode_push')), { ...head, msgType: 'event', event: 'scancode_push', eventKey: 'k' }, 'no ScanCodeInfo')
  t.same(
    fields(push('event', '<EventKey>k</EventKey><ScanCodeInfo><ScanType>qrcode</ScanType></ScanCodeInfo>', 'scancode_push')),
    { ...head, msgType: 'event', event: 'scancode_push', eventKey: 'k', scanCodeInfo: { scanType: 'qrcode' } },
    'a nested element lacking a child',
  )
})

t.test('#9 item 8: unknown kinds get every element camelCased, nested ones too', async (t) => {
  const msg = parseMessage(
    push(
      'future_kind',
      '<Event><![CDATA[opened]]></Event><Card_Info><Card_Id>c1</Card_Id><Sub_Items><item><Item_Name>a</Item_Name></item><item><Item_Name>b</Item_Name></item></Sub_Items></Card_Info>',
    ),
  )
  const { raw: _raw, ...typed } = msg as Message & Record<string, unknown>
  t.same(typed, {
    ...head,
    msgType: 'unknown',
    originalMsgType: 'future_kind',
    event: 'opened',
    cardInfo: { cardId: 'c1', subItems: { item: [{ itemName: 'a' }, { itemName: 'b' }] } },
  })
  t.same(msg.raw['Card_Info'], { Card_Id: 'c1', Sub_Items: { item: [{ Item_Name: 'a' }, { Item_Name: 'b' }] } }, 'raw keeps the XML names')
  // elements cannot overwrite what the kit sets
  const sneaky = parseMessage(push('future_kind', '<Raw>x</Raw><OriginalMsgType>text</OriginalMsgType>'))
  t.equal((sneaky as { originalMsgType?: unknown }).originalMsgType, 'future_kind')
  t.type(sneaky.raw, 'object')
})
