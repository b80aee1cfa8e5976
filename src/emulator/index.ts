/**
 * The WeChat server emulator: drive any 公众号 server (ours, wechatpy, EasyWeChat…) the way
 * WeChat does — signed, encrypted, 5 s per attempt, 3 attempts — and see what the phone shows.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 *
 * @module
 */
export { createEmulator, type Emulator, type EmulatorOptions, type SendResult } from './emulator.js'
export { emulatorModes, type EmulatorMode } from './envelope.js'
export { ATTEMPT_TIMEOUT_MS, MAX_ATTEMPTS, type Attempt } from './attempts.js'
export type { AttemptError } from './transport.js'
export { problemCatalogue, type Problem, type ProblemCode, type ProblemLevel } from './problems.js'
export { FAILURE_NOTICE, describeReply } from './shown.js'
export { judgeReply, knownReplyTypes, type JudgeContext, type Verdict } from './judge.js'
export type { VerifyResult } from './verify.js'
export type {
  PushInput,
  PushOverrides,
  TextInput,
  ImageInput,
  VoiceInput,
  VideoInput,
  LocationInput,
  LinkInput,
  EventInput,
  EmulatedEvent,
  SubscribeInput,
  UnsubscribeInput,
  ScanInput,
  LocationEventInput,
  ClickInput,
  ViewInput,
  ScancodeInput,
  PicsInput,
  LocationSelectInput,
  TemplateSendJobFinishInput,
  CatalogueEventInput,
  CustomPushInput,
} from './push.js'
export { parseChatLine, parseLatLng, chatHelp, type ChatLine } from './chat-line.js'
export { formatSendResult, formatVerifyResult, formatBubble } from './report.js'
