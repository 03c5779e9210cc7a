import type { IncomingMessage } from 'node:http'

/**
 * Memory shared by every request body being read at once. Bodies are read whole before a
 * service is chosen (as NGINX does by default), so a slow upload holds a little gateway
 * memory and no upstream connection; this bound keeps many of them from exhausting RAM.
 */
export class BodyBudget {
  used = 0
  constructor(readonly max: number) {}
  take(n: number): boolean {
    if (this.used + n > this.max) return false
    this.used += n
    return true
  }
  give(n: number) {
    this.used -= n
  }
}

export type BodyResult = { ok: true; body: Buffer } | { ok: false; why: 'too-large' | 'busy' | 'aborted' }

const EMPTY = Buffer.alloc(0)

/**
 * Reads the whole body, counting against `limit` and the shared budget. Stops at the first
 * byte over either; the caller answers and lets the rest drain.
 */
export function readBody(req: IncomingMessage, limit: number, budget: BodyBudget): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    const finish = (r: BodyResult) => {
      if (settled) return
      settled = true
      budget.give(size)
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('close', onClose)
      resolve(r)
    }
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > limit) return finish({ ok: false, why: 'too-large' })
      if (!budget.take(chunk.length)) return finish({ ok: false, why: 'busy' })
      size += chunk.length
      chunks.push(chunk)
    }
    const onEnd = () => finish({ ok: true, body: chunks.length === 1 ? chunks[0] : chunks.length ? Buffer.concat(chunks, size) : EMPTY })
    const onClose = () => finish({ ok: false, why: 'aborted' })
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('close', onClose)
  })
}

/**
 * After answering early (413, 503), reads and drops what the client still sends so that it
 * sees the answer rather than a reset; but only so much and so long, then the connection goes.
 */
export function drain(req: IncomingMessage, maxBytes: number, maxMs: number) {
  if (req.complete) return
  let seen = 0
  const timer = setTimeout(() => req.socket.destroy(), maxMs)
  timer.unref()
  req.on('data', (c: Buffer) => {
    seen += c.length
    if (seen > maxBytes) req.socket.destroy()
  })
  req.once('end', () => clearTimeout(timer))
  req.once('close', () => clearTimeout(timer))
  req.resume()
}
