// The floor for an HTTP proxy written in Node, printed by the proxy bench beside the
// gateway and NGINX: raw sockets on both sides, Node's own parser reading requests and
// answers, one upstream connection per client connection, and nothing else (no header
// rules, timeouts, pools, retries or fallbacks). What the gateway adds above it is the
// cost of its features; what this adds above NGINX, the cost of Node. Bench use only.
import { connect, createServer } from 'node:net'
import { HTTPParser } from '../../src/proxy/llhttp.js'

const [port, upstreamPort] = process.argv.slice(2).map(Number)

createServer({ noDelay: true }, (client) => {
  const upstream = connect({ port: upstreamPort, host: '127.0.0.1', noDelay: true })
  client.on('error', () => upstream.destroy())
  upstream.on('error', () => client.destroy())
  client.on('close', () => upstream.destroy())
  upstream.on('close', () => client.destroy())

  const request = new HTTPParser()
  request.initialize(HTTPParser.REQUEST, {}, 0, 0)
  request[HTTPParser.kOnHeadersComplete] = (_maj: number, _min: number, headers: string[], _m: number, url: string) => {
    let head = `GET ${url} HTTP/1.1\r\n`
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`
    upstream.write(`${head}X-Forwarded-For: ${client.remoteAddress}\r\n\r\n`, 'latin1')
    return 0
  }
  client.on('data', (d: Buffer) => request.execute(d))

  const response = new HTTPParser()
  response.initialize(HTTPParser.RESPONSE, {}, 0, 0)
  let head = ''
  let body: Buffer[] = []
  response[HTTPParser.kOnHeadersComplete] = (_maj: number, _min: number, headers: string[], _m: number, _u: string, status: number, text: string) => {
    head = `HTTP/1.1 ${status} ${text}\r\n`
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`
    return 0
  }
  response[HTTPParser.kOnBody] = (chunk: Buffer) => void body.push(chunk)
  response[HTTPParser.kOnMessageComplete] = () => {
    client.cork()
    client.write(`${head}\r\n`, 'latin1')
    for (const b of body) client.write(b)
    client.uncork()
    body = []
  }
  upstream.on('data', (d: Buffer) => response.execute(d))
}).listen(port, '127.0.0.1')
