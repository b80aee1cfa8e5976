/** The part of autocannon's API the benchmark uses (the package ships no types). */
declare module 'autocannon' {
  interface Request {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string | Buffer
  }
  interface Options {
    url: string
    connections?: number
    pipelining?: number
    amount?: number
    duration?: number
    timeout?: number
    method?: string
    headers?: Record<string, string>
    requests?: Array<Request & { setupRequest?: (request: Request, context: Record<string, unknown>) => Request }>
  }
  interface Histogram {
    average: number
    mean: number
    p50: number
    p90: number
    p99: number
    max: number
    total: number
  }
  interface Result {
    requests: Histogram & { sent: number }
    latency: Histogram
    throughput: Histogram
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    '2xx': number
  }
  function autocannon(options: autocannon.Options): Promise<autocannon.Result>
  namespace autocannon {
    export type { Options, Result, Request, Histogram }
  }
  export default autocannon
}
