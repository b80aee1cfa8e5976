/**
 * `node --import tsx bench/survivors.ts [pushes] [--safe] [--store-max-bytes N]`: which allocation
 * sites of the hot path make objects that outlive a scavenge (promoted to the old generation, then
 * collected by a major GC, or still retained at the end), per push.
 *
 * The kit's callback handler runs in this process, without HTTP, with 50 pushes in flight (as
 * under the benchmark's 50 connections) and a silent log. V8's sampling heap profiler is asked to
 * keep the objects a major GC collects and to drop the ones a minor GC (scavenge) collects: what
 * remains is exactly what the young generation failed to reclaim, the memory and GC time a server
 * under load pays for. Needs dist/ (`npm run build`).
 */
import { Session } from 'node:inspector/promises'
import { parseArgs } from 'node:util'
import { createCallbackHandler } from '../dist/server/callback-handler.js'
import { account, buildPushes } from './lib/pushes.js'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { safe: { type: 'boolean', default: false }, 'store-max-bytes': { type: 'string' }, top: { type: 'string', default: '20' } },
})
const pushes = Number(positionals[0] ?? 20_000)
const mode = values.safe ? 'safe' : 'plain'
const warmup = 2_000
const inFlight = 50

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number }
  selfSize: number
  children: ProfileNode[]
}

const silent = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  fatal: () => undefined,
  child: () => silent,
}

const handler = createCallbackHandler(
  {
    token: account.token,
    ...(values.safe ? { aesKey: account.aesKey, appId: account.appId } : {}),
    ...(values['store-max-bytes'] ? { storeMaxBytes: Number(values['store-max-bytes']) } : {}),
    onMessage: (msg) => (msg.msgType === 'text' ? msg.content : undefined),
  },
  { log: silent as never },
)
await handler.ready

const all = buildPushes(mode, warmup + pushes)
let next = 0
async function send(count: number): Promise<void> {
  const end = next + count
  const worker = async (): Promise<void> => {
    while (next < end) {
      const push = all[next++]!
      const url = new URL(push.path, 'http://bench')
      const res = await handler.handle({ method: 'POST', query: Object.fromEntries(url.searchParams), body: push.body })
      if (res.status !== 200) throw new Error(`push answered ${res.status}: ${res.body}`)
      // A turn of the event loop between pushes, as between requests on a socket.
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
}

await send(warmup)
const session = new Session()
session.connect()
await session.post('HeapProfiler.enable')
// includeObjectsCollectedBy* are newer than @types/node's protocol typings.
await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false } as never)
await send(pushes)
const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } }
session.disconnect()

const bySite = new Map<string, number>()
let total = 0
const walk = (node: ProfileNode): void => {
  const { functionName, url, lineNumber } = node.callFrame
  const where = url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^file:\/\/.*\//, '')
  const site = `${functionName || '(anonymous)'} ${where || '(native)'}${url ? `:${lineNumber + 1}` : ''}`
  bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize)
  total += node.selfSize
  for (const child of node.children) walk(child)
}
walk(profile.head)
await handler.close()

console.log(`${mode} mode, ${pushes} pushes, ${inFlight} in flight: ${Math.round(total / pushes)} bytes per push outlived a scavenge (sampled)`)
for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
  console.log(`${String(Math.round(bytes / pushes)).padStart(7)} B/push  ${site}`)
}
