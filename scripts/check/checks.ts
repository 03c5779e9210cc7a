// The conformance checks of a running service against the protocol (docs/protocol.md).
// Each check is one Result line; they run in order, and a service that does not answer at
// all ends the run with one clear failure instead of a page of them.
import { createHmac, randomUUID } from 'node:crypto'
import { cspProblems } from './csp.js'
import { fragmentProblem, isFullDocument, linkedAssets, prefixProblem, urlAttributes } from './html.js'
import { NoAnswer, request, type Answer } from './http.js'
import { triggerProblem } from './trigger.js'

export type Status = 'pass' | 'fail' | 'skip'
export type Result = { name: string; status: Status; why: string }

export type CheckOptions = {
  /** The service's own base URL, e.g. http://127.0.0.1:4004. */
  url: string
  /** DX_EVENT_SECRET of the service: without it, the signed-delivery checks are skipped. */
  secret?: string
  /** Each request's deadline. */
  timeoutMs: number
  /** Paths the user allows the checker to POST to (a write), to see the HX-Trigger it answers. */
  post?: string[]
}

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,31}$/
const EVENT_NAME = /^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/
const TRIGGERS = ['hx-trigger', 'hx-trigger-after-swap', 'hx-trigger-after-settle']
/** A made-up origin for the cross-site probe: `.invalid` can never be a real site. */
const FOREIGN = 'http://dx-check.invalid'

type Manifest = { name: string; prefix: string; widget: string; subscribes: string[] }

const sign = (body: string, secret: string) => createHmac('sha256', secret).update(body).digest('hex')

/** An envelope no service subscribes to: delivering it has no effect beyond the answer. */
function probeEnvelope(time = new Date()): string {
  return JSON.stringify({ id: `dx-check-${randomUUID()}`, name: 'dx-check:probe', detail: null, source: 'dx-check', time: time.toISOString() })
}

const short = (text: string) => JSON.stringify(text.trim().slice(0, 120))

export async function runChecks(o: CheckOptions, onResult: (r: Result) => void = () => {}): Promise<Result[]> {
  const base = o.url.replace(/\/+$/, '')
  const results: Result[] = []
  const seen: Answer[] = []
  const report = (name: string, status: Status, why: string) => {
    const r = { name, status, why }
    results.push(r)
    onResult(r)
  }
  const call = async (path: string, init: RequestInit = {}) => {
    const a = await request(base + path, { ...init, timeoutMs: o.timeoutMs })
    seen.push(a)
    return a
  }

  // 1. /healthz: also tells whether anything answers at all.
  let health: Answer
  try {
    health = await call('/healthz')
  } catch (err) {
    if (!(err instanceof NoAnswer)) throw err
    report('service answers', 'fail', `${err.message}; nothing else was checked`)
    return results
  }
  report('healthz', ...healthVerdict(health))

  // 2. The manifest, whose name the other checks need.
  let manifest: Manifest | undefined
  try {
    const [status, why, m] = manifestVerdict(await call('/_dx/manifest'))
    manifest = m
    report('manifest', status, why)
  } catch (err) {
    report('manifest', 'fail', (err as Error).message)
  }

  // 3. The standalone page.
  let page: Answer | undefined
  try {
    page = await call('/')
    report('standalone page', ...pageVerdict(page))
    report('shared look', ...lookVerdict(page))
  } catch (err) {
    report('standalone page', 'fail', (err as Error).message)
  }

  // 4. The widget: a fragment, with its URLs under the prefix.
  let widget: Answer | undefined
  if (!manifest) {
    report('widget fragment', 'skip', 'no usable manifest, so no widget path')
    report('prefix discipline', 'skip', 'no usable manifest')
  } else {
    try {
      widget = await call(manifest.widget, { headers: { 'hx-request': 'true' } })
      report('widget fragment', ...widgetVerdict(widget, manifest))
      report('prefix discipline', ...prefixVerdict(widget, manifest))
    } catch (err) {
      report('widget fragment', 'fail', (err as Error).message)
    }
  }

  // 5. Writes the user allowed: each answer should carry the events it caused.
  for (const path of o.post ?? []) {
    try {
      const a = await call(path, { method: 'POST', headers: { 'hx-request': 'true', 'content-type': 'application/x-www-form-urlencoded' }, body: '' })
      const has = TRIGGERS.some((h) => a.headers.has(h))
      report(`POST ${path}`, a.status < 400 && has ? 'pass' : 'fail', a.status >= 400 ? `answered ${a.status}: ${short(a.text)}` : has ? `answered ${a.status} with an HX-Trigger header` : `answered ${a.status} without an HX-Trigger header`)
    } catch (err) {
      report(`POST ${path}`, 'fail', (err as Error).message)
    }
  }

  // 6. Security headers on the HTML answers, nosniff on every answer so far.
  report('security headers', ...headersVerdict([page, widget].filter((a): a is Answer => !!a && isHtml(a)), seen))

  // 7. Events in: signed accepted, badly signed refused, stale refused; foreign writes refused.
  await eventChecks(o, call, report)

  // 8. HX-Trigger syntax, on whatever this run saw (writes are provoked only with --post).
  report('HX-Trigger syntax', ...triggerVerdict(seen, manifest?.name))
  return results
}

const isHtml = (a: Answer) => (a.headers.get('content-type') ?? '').startsWith('text/html')

type Verdict = [Status, string]

function healthVerdict(a: Answer): Verdict {
  if (a.status !== 200) return ['fail', `GET /healthz answered ${a.status}, expected 200 ${short(a.text)}`]
  try {
    const v = JSON.parse(a.text) as unknown
    if (v && typeof v === 'object' && (v as { status?: unknown }).status === 'ok') return ['pass', '200 {"status":"ok"}']
  } catch {
    // reported below
  }
  return ['fail', `GET /healthz answered 200 but not {"status":"ok"}: ${short(a.text)}`]
}

function manifestVerdict(a: Answer): [Status, string, Manifest | undefined] {
  if (a.status !== 200) return ['fail', `GET /_dx/manifest answered ${a.status}`, undefined]
  let v: unknown
  try {
    v = JSON.parse(a.text)
  } catch {
    return ['fail', `GET /_dx/manifest is not JSON: ${short(a.text)}`, undefined]
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return ['fail', 'GET /_dx/manifest is not a JSON object', undefined]
  const m = v as Record<string, unknown>
  if (typeof m.name !== 'string' || !SERVICE_NAME.test(m.name)) return ['fail', 'name: expected a lowercase service name (a-z, 0-9, -)', undefined]
  const prefix = `/${m.name}`
  if (m.prefix !== prefix) return ['fail', `prefix: expected "${prefix}", got ${JSON.stringify(m.prefix)}`, undefined]
  if (typeof m.widget !== 'string' || !(m.widget === prefix || m.widget.startsWith(`${prefix}/`) || m.widget.startsWith(`${prefix}?`))) {
    return ['fail', `widget: expected a path under ${prefix}, got ${JSON.stringify(m.widget)}`, undefined]
  }
  if (!Array.isArray(m.subscribes) || m.subscribes.some((s) => typeof s !== 'string' || !EVENT_NAME.test(s))) {
    return ['fail', 'subscribes: expected an array of "service:verb" event names', undefined]
  }
  const manifest = { name: m.name, prefix, widget: m.widget, subscribes: m.subscribes as string[] }
  return ['pass', `${manifest.name}: widget ${manifest.widget}, subscribes to ${manifest.subscribes.length ? manifest.subscribes.join(', ') : 'nothing'}`, manifest]
}

function pageVerdict(a: Answer): Verdict {
  if (a.status !== 200) return ['fail', `GET / answered ${a.status}, expected 200`]
  if (!isHtml(a)) return ['fail', `GET / is ${a.headers.get('content-type') ?? 'without a content type'}, expected text/html`]
  if (!isFullDocument(a.text)) return ['fail', 'GET / is not a full HTML document (<!doctype html>, <html>, <head>, <body>)']
  return ['pass', 'GET / is a full HTML document']
}

function lookVerdict(a: Answer): Verdict {
  if (a.status !== 200) return ['skip', 'no standalone page']
  const { css, js } = linkedAssets(a.text)
  const sheet = css.find((u) => /\/assets\/app(\.[0-9a-f]{8})?\.css$/.test(u))
  const htmx = js.find((u) => /\/assets\/htmx\.min(\.[0-9a-f]{8})?\.js$/.test(u))
  if (!sheet) return ['fail', `GET / does not link the shared stylesheet (/assets/app.css, hashed or not); it links ${css.length ? css.join(', ') : 'no stylesheet'}`]
  if (!htmx) return ['fail', 'GET / does not load the shared htmx (/assets/htmx.min.js, hashed or not)']
  return ['pass', `links ${sheet} and ${htmx}`]
}

function widgetVerdict(a: Answer, m: Manifest): Verdict {
  if (a.status !== 200) return ['fail', `GET ${m.widget} answered ${a.status}, expected 200`]
  if (!isHtml(a)) return ['fail', `GET ${m.widget} is ${a.headers.get('content-type') ?? 'without a content type'}, expected text/html`]
  const problem = fragmentProblem(a.text)
  if (problem) return ['fail', `GET ${m.widget}: ${problem}`]
  return ['pass', `GET ${m.widget} is an HTML fragment`]
}

function prefixVerdict(a: Answer, m: Manifest): Verdict {
  if (a.status !== 200) return ['skip', 'no widget to read']
  const attrs = urlAttributes(a.text)
  const problems = attrs.map((x) => prefixProblem(x, m.prefix)).filter((p): p is string => p !== null)
  if (problems.length) return ['fail', problems.slice(0, 3).join('; ') + (problems.length > 3 ? ` (and ${problems.length - 3} more)` : '')]
  return ['pass', `${attrs.length} URL(s) in the widget, all under ${m.prefix} (or external links)`]
}

function headersVerdict(html: Answer[], all: Answer[]): Verdict {
  if (html.length === 0) return ['fail', 'no HTML answer to check (neither the standalone page nor the widget)']
  const problems: string[] = []
  for (const a of html) {
    const path = new URL(a.url).pathname
    for (const p of cspProblems(a.headers.get('content-security-policy'))) problems.push(`${path}: ${p}`)
    if (!a.headers.get('referrer-policy')) problems.push(`${path}: no Referrer-Policy`)
  }
  for (const a of all) {
    if ((a.headers.get('x-content-type-options') ?? '').toLowerCase() !== 'nosniff') problems.push(`${new URL(a.url).pathname}: no X-Content-Type-Options: nosniff`)
  }
  if (problems.length) return ['fail', [...new Set(problems)].slice(0, 4).join('; ')]
  return ['pass', 'CSP without unsafe-inline/unsafe-eval for scripts and with frame-ancestors, Referrer-Policy, nosniff']
}

function triggerVerdict(seen: Answer[], name: string | undefined): Verdict {
  if (!name) return ['skip', 'no service name (manifest)']
  const found: string[] = []
  for (const a of seen) {
    for (const h of TRIGGERS) {
      const v = a.headers.get(h)
      if (v === null) continue
      const problem = triggerProblem(v, name)
      if (problem) return ['fail', `${h} on ${new URL(a.url).pathname}: ${problem}`]
      found.push(`${h}: ${v}`)
    }
  }
  if (!found.length) return ['skip', 'no HX-Trigger header seen (writes are made only with --post PATH)']
  return ['pass', found.slice(0, 3).join('; ')]
}

type Call = (path: string, init?: RequestInit) => Promise<Answer>

async function eventChecks(o: CheckOptions, call: Call, report: (name: string, status: Status, why: string) => void) {
  const post = (body: string, headers: Record<string, string>) => call('/_dx/events', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
  const attempt = async (name: string, fn: () => Promise<Verdict>) => {
    try {
      report(name, ...(await fn()))
    } catch (err) {
      report(name, 'fail', (err as Error).message)
    }
  }

  await attempt('bad signature refused', async () => {
    const body = probeEnvelope()
    const a = await post(body, { 'x-dx-signature': sign(body, `not-the-secret-${randomUUID()}`) })
    if (a.status === 401) return ['pass', 'POST /_dx/events with a wrong X-Dx-Signature: 401']
    if (a.status === 503) return ['skip', 'POST /_dx/events answered 503: the service has no DX_EVENT_SECRET, so it takes no events at all']
    return ['fail', `POST /_dx/events with a wrong X-Dx-Signature answered ${a.status}, expected 401`]
  })
  await attempt('unsigned refused', async () => {
    const a = await post(probeEnvelope(), {})
    if (a.status === 401) return ['pass', 'POST /_dx/events without X-Dx-Signature: 401']
    if (a.status === 503) return ['skip', 'the service has no DX_EVENT_SECRET (503)']
    return ['fail', `POST /_dx/events without X-Dx-Signature answered ${a.status}, expected 401`]
  })
  if (!o.secret) {
    const why = 'no secret: set DX_EVENT_SECRET or pass --secret to check signed delivery'
    report('signed event accepted', 'skip', why)
    report('stale event refused', 'skip', why)
  } else {
    const secret = o.secret
    await attempt('signed event accepted', async () => {
      const body = probeEnvelope()
      const a = await post(body, { 'x-dx-signature': sign(body, secret) })
      if (a.status >= 200 && a.status < 300) return ['pass', `a signed envelope: ${a.status} ${short(a.text)}`]
      if (a.status === 401) return ['fail', 'a correctly signed envelope was refused with 401: is --secret the service\'s DX_EVENT_SECRET?']
      return ['fail', `a correctly signed envelope answered ${a.status}: ${short(a.text)}`]
    })
    await attempt('stale event refused', async () => {
      const body = probeEnvelope(new Date(Date.now() - 60 * 60 * 1000))
      const a = await post(body, { 'x-dx-signature': sign(body, secret) })
      if (a.status >= 400 && a.status < 500 && a.status !== 401) return ['pass', `an envelope an hour old: ${a.status}`]
      return ['fail', `an envelope an hour old answered ${a.status}, expected a 4xx refusal (time more than 10 minutes from now)`]
    })
  }
  await attempt('cross-site write refused', async () => {
    const a = await post('{}', { origin: FOREIGN, 'sec-fetch-site': 'cross-site' })
    if (a.status === 403) return ['pass', `a POST with Origin: ${FOREIGN}: 403`]
    return ['fail', `a POST with Origin: ${FOREIGN} and Sec-Fetch-Site: cross-site answered ${a.status}, expected 403`]
  })
}
