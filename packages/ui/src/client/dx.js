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
