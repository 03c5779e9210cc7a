/** A handler gets the data and the concrete subject it was published on. */
export type Handler = (data: unknown, subject: string) => void | Promise<void>

/**
 * Publish / subscribe on dotted subjects, NATS-style: `*` matches one token, a final `>`
 * matches one or more. The in-memory bus serves one process; a NATS bus ([6/8]) has the
 * same shape so that code on top does not change when it spans processes.
 */
export interface Bus {
  publish(subject: string, data: unknown): Promise<void>
  /** Returns a function that ends the subscription. */
  subscribe(subject: string, handler: Handler): () => void
  close(): Promise<void>
}

// As NATS: any printable character but the separator and the wildcards.
const TOKEN = /^[^\s.*>]+$/

/** Returns a message naming what is wrong with a subject, or null. Wildcards only when subscribing. */
export function subjectError(subject: string, wildcards = false): string | null {
  if (typeof subject !== 'string' || subject.length === 0) return 'subject: expected a non-empty string'
  const tokens = subject.split('.')
  for (const [i, t] of tokens.entries()) {
    if (wildcards && t === '*') continue
    if (wildcards && t === '>' && i === tokens.length - 1) continue
    if (!TOKEN.test(t)) return `subject "${subject}": token ${i + 1} "${t}" is not allowed`
  }
  return null
}

export function matches(pattern: string, subject: string): boolean {
  const p = pattern.split('.')
  const s = subject.split('.')
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i
    if (i >= s.length) return false
    if (p[i] !== '*' && p[i] !== s[i]) return false
  }
  return p.length === s.length
}
