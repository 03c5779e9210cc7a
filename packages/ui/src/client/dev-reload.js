// `make watch` only: the layout links this file, and the server serves it, only when
// DX_DEV=1. It follows the runner's dev stream (<meta name="dx-dev">, an origin the page's
// CSP connect-src then allows):
// - `reload` {parts, ports}: a process was restarted after an edit and is healthy again;
//   a page served on one of `ports` (the restarted part's own, and the main app's, which
//   shows every widget) reloads. Other pages keep their state and WebSockets.
// - `css`: app.css was rebuilt; the stylesheet is swapped in place, no reload.
// - `hello` <id>: sent on each connection; another id means the runner itself was started
//   again while this page was open, so everything may have changed: reload.
;(function () {
  var meta = document.querySelector('meta[name="dx-dev"]')
  var origin = meta ? (meta.getAttribute('content') || '').replace(/\/+$/, '') : ''
  if (!origin || !window.EventSource) return
  // A page of a service in another stack links our assets from the gateway (the layout
  // template): its own CSP does not know the dev origin and the runner does not restart it.
  var me = document.currentScript
  if (me && me.src && new URL(me.src, location.href).origin !== location.origin) return
  var port = location.port || (location.protocol === 'https:' ? '443' : '80')
  var runner = null

  function data(e) {
    try {
      return JSON.parse(e.data)
    } catch (err) {
      return null
    }
  }

  // A new <link> next to the old one, which goes once the new sheet has loaded: the page is
  // never without styles. The query makes the browser fetch the file again; the server
  // always answers with app.css as it is now.
  function swapStyles() {
    var links = document.querySelectorAll('link[rel="stylesheet"]:not([data-dx-dev-old])')
    Array.prototype.forEach.call(links, function (link) {
      var url = new URL(link.href, location.href)
      if (url.origin !== location.origin) return
      url.searchParams.set('dx-dev', String(Date.now()))
      var next = link.cloneNode()
      next.href = url.href
      link.setAttribute('data-dx-dev-old', '')
      next.addEventListener('load', function () {
        link.remove()
      })
      next.addEventListener('error', function () {
        next.remove()
        link.removeAttribute('data-dx-dev-old')
      })
      link.after(next)
    })
  }

  // On <html>, for a look in the devtools (and the tests): whether the stream is open.
  function state(text) {
    document.documentElement.setAttribute('data-dx-dev', text)
  }

  function handle(type, raw) {
    if (type === 'hello') {
      if (runner !== null && runner !== raw) return location.reload()
      runner = raw
      return state('connected')
    }
    if (type === 'css') return swapStyles()
    if (type !== 'reload') return
    var d = data({ data: raw })
    var ports = d && Array.isArray(d.ports) ? d.ports.map(String) : null
    if (!ports || ports.indexOf(port) >= 0) location.reload()
  }

  // A browser opens at most six connections to one host:port, the dev stream's included:
  // tabs of one origin share one stream (Web Locks elect the tab that reads it, a
  // BroadcastChannel passes its events on), as dx.js does with the gateway's events.
  var channel = window.BroadcastChannel && navigator.locks ? new BroadcastChannel('dx-dev') : null
  function follow() {
    var source = new EventSource(origin + '/events')
    ;['hello', 'reload', 'css'].forEach(function (type) {
      source.addEventListener(type, function (e) {
        if (channel) channel.postMessage({ type: type, data: e.data })
        handle(type, e.data)
      })
    })
    // EventSource tries again on its own (the stream asks for 1 s).
    source.addEventListener('error', function () {
      state('reconnecting')
    })
  }
  if (!channel) return follow()
  channel.onmessage = function (e) {
    var m = e.data
    if (m && typeof m.type === 'string' && typeof m.data === 'string') handle(m.type, m.data)
  }
  state('shared')
  // Held for as long as this page lives; then the next tab of this origin takes over.
  navigator.locks
    .request('dx-dev', function () {
      follow()
      return new Promise(function () {})
    })
    .catch(function () {})
})()
