// Bounded HTTP for the checker: every request has a deadline, and a failure to get an
// answer is a plain sentence ("refused", "no answer within 5000 ms"), never a stack.

export type Answer = { status: number; headers: Headers; text: string; url: string }

export class NoAnswer extends Error {}

/** Longest body read: a checker never needs more, and a runaway stream must not hang it. */
const MAX_BODY = 2 * 1024 * 1024

export async function request(url: string, init: RequestInit & { timeoutMs: number }): Promise<Answer> {
  const { timeoutMs, ...rest } = init
  const signal = AbortSignal.timeout(timeoutMs)
  let r: Response
  try {
    r = await fetch(url, { ...rest, signal, redirect: 'manual' })
  } catch (err) {
    throw new NoAnswer(`${init.method ?? 'GET'} ${url}: ${why(err, timeoutMs)}`)
  }
  let text: string
  try {
    text = await readCapped(r)
  } catch (err) {
    throw new NoAnswer(`${init.method ?? 'GET'} ${url}: the body did not arrive: ${why(err, timeoutMs)}`)
  }
  return { status: r.status, headers: r.headers, text, url }
}

async function readCapped(r: Response): Promise<string> {
  if (!r.body) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(chunk)
    size += chunk.length
    if (size > MAX_BODY) break
  }
  return Buffer.concat(chunks).toString('utf8')
}

function why(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } }
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms`
  const code = e.cause?.code
  if (code === 'ECONNREFUSED') return 'connection refused (is the service running on that port?)'
  if (code === 'ENOTFOUND') return 'no such host'
  return code ?? e.cause?.message ?? e.message ?? String(err)
}
