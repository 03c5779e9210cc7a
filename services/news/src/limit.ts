/** Runs at most `n` tasks at a time; the others wait their turn in order. */
export function limiter(n: number) {
  let active = 0
  const waiting: Array<() => void> = []
  const next = () => {
    active--
    waiting.shift()?.()
  }
  return async function run<T>(task: () => Promise<T>): Promise<T> {
    if (active >= n) await new Promise<void>((r) => waiting.push(r))
    active++
    try {
      return await task()
    } finally {
      next()
    }
  }
}
