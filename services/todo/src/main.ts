import { logger } from '@dx/kit'
import { openStore } from './store.js'
import { todoService } from './app.js'

// PostgreSQL when TODO_DATABASE_URL is set (replicas share it), else a SQLite file.
// Not closed on shutdown: the hooks run before requests in flight finish, and exit closes it.
const store = await openStore({ databaseUrl: process.env.TODO_DATABASE_URL, file: process.env.TODO_DB ?? './data/todo.db', log: logger('todo') })
await todoService(store).start({ port: Number(process.env.TODO_PORT ?? process.env.PORT ?? 4001) })
