import { openStore } from './store.js'
import { todoService } from './app.js'

const store = openStore(process.env.TODO_DB ?? './data/todo.db')
await todoService(store).start({ port: Number(process.env.TODO_PORT ?? process.env.PORT ?? 4001) })
