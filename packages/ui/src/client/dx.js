// Client glue that htmx does not provide: show a failed request next to its widget.
// htmx keeps the page as it was on an error (the form keeps what the user typed); this
// makes the failure visible instead of silent.
(function () {
  function errorBox(elt) {
    var widget = elt && elt.closest ? elt.closest('[data-dx-widget]') : null
    return widget ? widget.querySelector('.dx-error') : null
  }
  function show(elt, text) {
    var box = errorBox(elt)
    if (!box) return
    box.textContent = text
    box.classList.remove('hidden')
  }
  // An HTML error body is shown as its text, never as markup.
  function bodyText(xhr) {
    var text = xhr.responseText || xhr.statusText
    if (/html/.test(xhr.getResponseHeader('content-type') || '')) {
      text = new DOMParser().parseFromString(text, 'text/html').body.textContent || ''
    }
    return text.replace(/\s+/g, ' ').trim()
  }
  // The answer's own text says what happened: the gateway and the services word it for the
  // user, including whether a failed change may still have been saved.
  document.addEventListener('htmx:responseError', function (e) {
    var xhr = e.detail.xhr
    var text = bodyText(xhr).slice(0, 300)
    show(e.detail.elt, text || 'Request failed (' + xhr.status + ').')
  })
  // No answer at all: a read can simply be tried again, but a change may have reached the
  // server before the connection failed, so the user is told to check first.
  document.addEventListener('htmx:sendError', function (e) {
    var verb = ((e.detail.requestConfig && e.detail.requestConfig.verb) || 'get').toLowerCase()
    show(e.detail.elt, verb === 'get'
      ? 'Network error: the server could not be reached. Try again in a moment.'
      : 'Network error: the connection failed before an answer came, so your change may or may not have been saved. Check before you try again.')
  })
  document.addEventListener('htmx:afterRequest', function (e) {
    if (e.detail.successful) {
      var box = errorBox(e.detail.elt)
      if (box) box.classList.add('hidden')
    }
  })

  // htmx-ext-ws: say on the page whether the socket is up, and why it closed when it will
  // not come back on its own (1006, 1011, 1012 and 1013 are retried by the extension).
  function wsStatus(elt, text, bad) {
    var box = elt.querySelector('[data-dx-ws-status]')
    if (!box) return
    box.textContent = text
    box.classList.toggle('text-red-700', !!bad)
  }
  var retried = [1006, 1011, 1012, 1013]
  document.addEventListener('htmx:wsOpen', function (e) {
    wsStatus(e.target, 'connected')
  })
  document.addEventListener('htmx:wsClose', function (e) {
    var ev = e.detail.event
    if (retried.indexOf(ev.code) >= 0) wsStatus(e.target, 'reconnecting…', true)
    else if (ev.code !== 1000 && ev.code !== 1005) wsStatus(e.target, 'disconnected' + (ev.reason ? ': ' + ev.reason : '') + ' — reload to rejoin', true)
  })
  // Retry quickly while a service restarts, but never hammer it: full jitter, capped at 5 s.
  if (window.htmx) {
    htmx.config.wsReconnectDelay = function (n) {
      return Math.min(5000, 500 * Math.pow(2, Math.min(n, 4))) * Math.random()
    }
  }
  // A sent message leaves the input; a refused one comes back from the server with its text.
  document.addEventListener('htmx:wsAfterSend', function (e) {
    var form = e.target.closest && e.target.closest('form[data-dx-reset-on-send]')
    if (!form) return
    form.querySelectorAll('input:not([type=hidden]), textarea').forEach(function (input) {
      input.value = ''
      input.removeAttribute('value')
    })
  })
  // Live lists stay scrolled to the newest entry unless the reader scrolled up.
  document.addEventListener('htmx:wsBeforeMessage', function (e) {
    e.target.querySelectorAll('[data-dx-autoscroll]').forEach(function (box) {
      box.dataset.dxAtEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 40 ? '1' : ''
    })
  })
  document.addEventListener('htmx:wsAfterMessage', function (e) {
    e.target.querySelectorAll('[data-dx-autoscroll]').forEach(function (box) {
      if (box.dataset.dxAtEnd !== '') box.scrollTop = box.scrollHeight
    })
  })
})()

// Buttons that empty a part of the page without asking the server (e.g. a details panel's
// "Close"): `data-dx-clear="<selector>"` empties the button's closest match. A delegated
// listener instead of hx-on, which is eval and is refused by the pages' CSP. The leading
// ";" keeps this from being read as a call of the block above.
;(function () {
  document.addEventListener('click', function (e) {
    var button = e.target && e.target.closest ? e.target.closest('[data-dx-clear]') : null
    if (!button) return
    var target = button.closest(button.getAttribute('data-dx-clear'))
    if (target) target.replaceChildren()
  })
})()

// Events from other pages and sessions. The gateway relays every event a service raises
// (its HX-Trigger headers, or a standalone page's publish) as Server-Sent Events on
// /_dx/events; each is fired here on document.body, so `hx-trigger="todo:added from:body"`
// refreshes a list in every open window. `dx:resync` on body means events were missed:
// whatever listens for it reloads. Read with fetch, not EventSource: any event name gets
// through (EventSource only delivers names it has listeners for), and resuming uses a query
// parameter, which a request to the gateway's origin may send without a CORS preflight.
// Tabs of one origin share one stream (Web Locks + BroadcastChannel): a browser opens at
// most six HTTP/1.1 connections to a host, and one stream per tab would use them all up.
;(function () {
  var NAME = /^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/

  // This page's id goes with every htmx request; the events a request causes carry it, and
  // this page skips them: it already had them in that response's HX-Trigger header.
  function newPageId() {
    var c = window.crypto
    if (c && c.randomUUID) return c.randomUUID()
    var chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
    var bytes = new Uint8Array(24)
    if (c && c.getRandomValues) c.getRandomValues(bytes)
    else for (var i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256)
    var out = ''
    for (var j = 0; j < bytes.length; j++) out += chars.charAt(bytes[j] % chars.length)
    return out
  }
  // A page the gateway composed already has an id: its widgets were fetched with it.
  var given = document.querySelector('meta[name="dx-client"]')
  var givenId = given ? given.getAttribute('content') || '' : ''
  var pageId = /^[A-Za-z0-9_-]{16,64}$/.test(givenId) ? givenId : newPageId()
  document.addEventListener('htmx:configRequest', function (e) {
    e.detail.headers['X-Dx-Client'] = pageId
  })

  // As htmx does with HX-Trigger: an object is the event's detail, anything else its `value`.
  function fire(name, detail) {
    if (detail === null || detail === undefined) detail = {}
    else if (Object.prototype.toString.call(detail) !== '[object Object]') detail = { value: detail }
    if (window.htmx) htmx.trigger(document.body, name, detail)
    else document.body.dispatchEvent(new CustomEvent(name, { bubbles: true, detail: detail }))
  }

  // One message of the stream. Bad names and bad JSON are skipped, never thrown.
  function deliver(name, data) {
    if (name === 'dx:resync') return fire('dx:resync', {})
    if (!NAME.test(name)) return
    var env
    try {
      env = JSON.parse(data)
    } catch (e) {
      return
    }
    if (!env || typeof env !== 'object' || env.client === pageId) return
    fire(name, env.detail)
  }

  if (!window.fetch || !window.TextDecoder || !window.AbortController) return
  var meta = document.querySelector('meta[name="dx-gateway"]')
  var url = (meta ? (meta.getAttribute('content') || '').replace(/\/+$/, '') : '') + '/_dx/events'
  var channel = window.BroadcastChannel ? new BroadcastChannel('dx-events') : null
  var leading = false // this tab reads the stream for the others of its origin
  var lastId = '' // the last id seen, here or from the leading tab: where a new stream resumes
  var attempt = 0
  var timer = null
  var controller = null
  var release = null // ends this tab's hold on the stream
  var waiting = null // cancels this tab's place in the queue for it

  if (channel) {
    channel.onmessage = function (e) {
      var m = e.data
      if (!m || typeof m.id !== 'string') return
      lastId = m.id
      if (typeof m.name === 'string' && typeof m.data === 'string') deliver(m.name, m.data)
    }
  }

  // The SSE format: fields per line (LF, CR or CRLF), data lines joined by LF, comments
  // skipped, a blank line ends a message; an id-only message moves the position.
  function parser(onTooLong) {
    var buf = ''
    var id = lastId
    var type = ''
    var data = null
    function line(l) {
      if (l === '') {
        lastId = id
        try {
          if (data !== null) deliver(type || 'message', data)
        } catch (e) {}
        if (leading && channel) channel.postMessage({ id: id, name: data === null ? null : type || 'message', data: data })
        type = ''
        data = null
        return
      }
      if (l.charAt(0) === ':') return
      var colon = l.indexOf(':')
      var field = colon < 0 ? l : l.slice(0, colon)
      var value = colon < 0 ? '' : l.slice(colon + 1)
      if (value.charAt(0) === ' ') value = value.slice(1)
      if (field === 'data') data = data === null ? value : data + '\n' + value
      else if (field === 'event') type = value
      else if (field === 'id' && value.indexOf('\0') < 0) id = value
    }
    return function (text) {
      buf += text
      var re = /\r\n|\r|\n/g
      var start = 0
      var m
      while ((m = re.exec(buf))) {
        if (m[0] === '\r' && m.index === buf.length - 1) break // maybe the CR of a CRLF
        line(buf.slice(start, m.index))
        start = re.lastIndex
      }
      buf = buf.slice(start)
      if (buf.length > 1048576) onTooLong()
    }
  }

  function connect() {
    timer = null
    var ctl = (controller = new AbortController())
    var openedAt = 0
    var watchdog = null
    // The gateway pings every 15 s: silence for three pings is a dead connection.
    function alive() {
      clearTimeout(watchdog)
      watchdog = setTimeout(function () { ctl.abort() }, 45000)
    }
    function closed(retry) {
      clearTimeout(watchdog)
      if (controller !== ctl) return // stopped, or already handled
      controller = null
      if (!retry) return
      if (openedAt && Date.now() - openedAt > 30000) attempt = 0
      // 1 s doubling to 15 s, each delay between half and all of that, so that pages do not
      // all come back at the same moment after a gateway restart.
      var delay = Math.min(15000, 1000 * Math.pow(2, attempt++))
      timer = setTimeout(connect, delay / 2 + Math.random() * delay / 2)
    }
    alive()
    fetch(url + (lastId ? '?lastEventId=' + encodeURIComponent(lastId) : ''), {
      headers: { Accept: 'text/event-stream' },
      cache: 'no-store',
      signal: ctl.signal,
    }).then(function (res) {
      var stream = /^text\/event-stream/.test(res.headers.get('content-type') || '')
      if (!res.ok || !stream || !res.body) {
        ctl.abort()
        // No event stream at this address (a page served without a gateway): stop asking.
        return closed(res.status !== 404 && res.status !== 405)
      }
      openedAt = Date.now()
      var reader = res.body.getReader()
      var decoder = new TextDecoder()
      var feed = parser(function () { ctl.abort() })
      // Not a returned promise chain: that would keep every step of an endless stream alive.
      function read() {
        reader.read().then(function (r) {
          if (r.done) return closed(true)
          alive()
          feed(decoder.decode(r.value, { stream: true }))
          read()
        }, function () { closed(true) })
      }
      read()
    }, function () { closed(true) })
  }

  function start() {
    if (!(channel && navigator.locks)) return connect()
    // Held until the tab goes away; then the next tab of this origin takes over the stream.
    waiting = new AbortController()
    navigator.locks.request('dx-events', { signal: waiting.signal }, function () {
      waiting = null
      return new Promise(function (resolve) {
        release = resolve
        leading = true
        connect()
      })
    }).catch(function () {}) // aborted by stop()
  }

  function stop() {
    clearTimeout(timer)
    timer = null
    if (controller) {
      var ctl = controller
      controller = null
      ctl.abort()
    }
    if (waiting) waiting.abort()
    waiting = null
    leading = false
    if (release) release()
    release = null
  }
  // Let the page go into the back/forward cache; it resumes from its last id when it is back.
  window.addEventListener('pagehide', stop)
  window.addEventListener('pageshow', function (e) {
    if (e.persisted) start()
  })
  start()
})()
