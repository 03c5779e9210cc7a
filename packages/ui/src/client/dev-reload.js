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
  var source = new EventSource(origin + '/events')
  source.addEventListener('hello', function (e) {
    if (runner !== null && runner !== e.data) return location.reload()
    runner = e.data
    state('connected')
  })
  // EventSource tries again on its own (the stream asks for 1 s).
  source.addEventListener('error', function () {
    state('reconnecting')
  })
  source.addEventListener('reload', function (e) {
    var d = data(e)
    var ports = d && Array.isArray(d.ports) ? d.ports.map(String) : null
    if (!ports || ports.indexOf(port) >= 0) location.reload()
  })
  source.addEventListener('css', swapStyles)
})()
