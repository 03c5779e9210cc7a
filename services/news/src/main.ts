import { logger } from '@dx/kit'
import { newsService } from './app.js'
import { hnClient } from './hn.js'
import { loadSample } from './sample.js'
import { openStore } from './store.js'
import { storySource } from './stories.js'

const timeoutMs = Number(process.env.NEWS_HN_TIMEOUT_MS ?? 3000)
if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
  console.error(`NEWS_HN_TIMEOUT_MS must be a positive whole number of milliseconds, got "${process.env.NEWS_HN_TIMEOUT_MS}"`)
  process.exit(1)
}
const client = hnClient({ baseUrl: process.env.NEWS_HN_URL ?? 'https://hacker-news.firebaseio.com/v0', timeoutMs })
// One request waits for the API at most one call's timeout in all, so the widget answers
// well inside the gateway's 5 s even when the API hangs.
const stories = storySource({ client, sample: loadSample(), deadlineMs: timeoutMs, log: logger('news') })
// PostgreSQL when NEWS_DATABASE_URL is set (replicas share it), else a SQLite file.
const store = await openStore({ databaseUrl: process.env.NEWS_DATABASE_URL, file: process.env.NEWS_DB ?? './data/news.db', log: logger('news') })
await newsService({ store, stories }).start({ port: Number(process.env.NEWS_PORT ?? process.env.PORT ?? 4003) })
