// Reading a Content-Security-Policy header into its directives.

export function parseCsp(value: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const part of value.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/)
    if (name && !out.has(name.toLowerCase())) out.set(name.toLowerCase(), sources)
  }
  return out
}

/** What is wrong with a page's policy for the protocol (DESIGN.md, Security), as sentences. */
export function cspProblems(value: string | null): string[] {
  if (!value) return ['no Content-Security-Policy']
  const csp = parseCsp(value)
  const problems: string[] = []
  const scripts = csp.get('script-src') ?? csp.get('default-src')
  if (!scripts) problems.push('no script-src nor default-src: scripts may come from anywhere')
  else {
    for (const bad of ["'unsafe-inline'", "'unsafe-eval'", '*']) if (scripts.includes(bad)) problems.push(`scripts allow ${bad}`)
  }
  const frames = csp.get('frame-ancestors')
  if (!frames) problems.push('no frame-ancestors')
  else if (frames.includes('*')) problems.push('frame-ancestors allows *')
  return problems
}
