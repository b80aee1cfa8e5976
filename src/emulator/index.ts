/**
 * The WeChat server emulator: drive any 公众号 server (ours, wechatpy, EasyWeChat…) the way
 * WeChat does — signed, encrypted, 5 s per attempt, 3 attempts — and see what the phone shows.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 *
 * @module
 */
export { createEmulator, type Emulator, type EmulatorOptions, type SendOptions, type SendResult } from './emulator.js'
export { emulatorModes, type EmulatorMode } from './envelope.js'
export { ATTEMPT_TIMEOUT_MS, MAX_ATTEMPTS, REPUSH_DELAY_MS, type Attempt, type AttemptFailure } from './attempts.js'
export type { AttemptError, Exchange, ExchangeOptions } from './transport.js'
export { problemCatalogue, type Problem, type ProblemCode, type ProblemLevel } from './problems.js'
export { FAILURE_NOTICE, describeReply, type ShownMessage } from './shown.js'
export { startMockApi, type MockApi, type MockApiOptions } from './mock-api.js'
export {
  MockAccount,
  MOCK_APP_ID,
  MOCK_APP_SECRET,
  describePreset,
  mockApiPresets,
  type Interaction,
  type MockAccountOptions,
  type MockApiAnswer,
  type MockApiCall,
  type MockApiMessage,
  type MockApiPreset,
  type MockApiRequest,
} from './mock-api-account.js'
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
