/**
 * Test harness: a fake WeChat API server, a fake clock shared by server and client, and a client
 * with instant backoff (sleep calls are recorded, not waited).
 */
import type { Test } from 'tap'
import { WxMpApi, type WxMpApiOptions } from '../../src/api/index.js'
import { startFakeWeChatApi, type FakeWeChatApi, type FakeWeChatApiOptions } from './fake-wechat-api.js'

export interface Harness {
  server: FakeWeChatApi
  clock: { now: number; advance(ms: number): void }
  /** Delays passed to sleep() (backoff and lock polling), in order. */
  sleeps: number[]
  makeApi(options?: WxMpApiOptions): WxMpApi
  api: WxMpApi
}

export const T0 = 1_700_000_000_000

export async function harness(t: Test, serverOptions: FakeWeChatApiOptions = {}, apiOptions: WxMpApiOptions = {}): Promise<Harness> {
  const clock = {
    now: T0,
    advance(ms: number) {
      clock.now += ms
    },
  }
  const now = () => clock.now
  const server = await startFakeWeChatApi({ now, ...serverOptions })
  t.teardown(() => server.close())
  const sleeps: number[] = []
  const makeApi = (options: WxMpApiOptions = {}) =>
    new WxMpApi({
      appId: server.appId,
      appSecret: server.appSecret,
      baseUrl: server.baseUrl,
      now,
      sleep: async (ms) => {
        sleeps.push(ms)
      },
      random: () => 1,
      timeoutMs: 2_000,
      ...apiOptions,
      ...options,
    })
  return { server, clock, sleeps, makeApi, api: makeApi() }
}
