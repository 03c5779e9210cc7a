// Zalando Tailor (node-tailor, a dev dependency for this benchmark only) as the peer of the
// composed page: one template file (DX_BENCH_TEMPLATE) for every path, as Tailor's own
// examples run it: read and parsed at each request, fragments fetched with its own client.
// /healthz answers 200 so that the benchmark knows when it is up.
import { createServer } from 'node:http'
import Tailor from 'node-tailor'

const template = process.env.DX_BENCH_TEMPLATE
if (!template) throw new Error('DX_BENCH_TEMPLATE is not set')
const tailor = new Tailor({ templatesPath: template })
const server = createServer((req, res) => {
  if (req.url === '/healthz') return void res.writeHead(200).end('ok')
  tailor.requestHandler(req, res)
})
server.listen(Number(process.env.PORT), '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))
