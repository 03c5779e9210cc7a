import { createRequire } from 'node:module'

/**
 * Node's own HTTP/1.1 parser (llhttp, compiled in), the one behind its http client and
 * server, reached through `_http_common` (undocumented, there from Node 12 to 24). undici
 * runs the same parser as WebAssembly and checks every header again; Node's http server
 * wraps it in streams. The gateway's proxied exchanges use it bare, on both sides.
 */
export type Parser = {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void
  execute(data: Buffer): number | Error
  finish(): undefined | Error
  close(): void
  [k: number]: unknown
}

export const { HTTPParser, methods } = createRequire(import.meta.url)('_http_common') as {
  HTTPParser: { new (): Parser; REQUEST: number; RESPONSE: number; kOnHeaders: number; kOnHeadersComplete: number; kOnBody: number; kOnMessageComplete: number }
  /** Method names by the number the parser reports. */
  methods: string[]
}
