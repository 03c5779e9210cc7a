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
  document.addEventListener('htmx:responseError', function (e) {
    var xhr = e.detail.xhr
    var reason = xhr.getResponseHeader('X-Dx-Fallback')
    var msg = reason
      ? 'The service is unavailable (' + reason + '); your change was not saved. Try again in a moment.'
      : 'Request failed (' + xhr.status + '): ' + (xhr.responseText || xhr.statusText).slice(0, 200)
    show(e.detail.elt, msg)
  })
  document.addEventListener('htmx:sendError', function (e) {
    show(e.detail.elt, 'Network error: the server could not be reached; your change was not saved.')
  })
  document.addEventListener('htmx:afterRequest', function (e) {
    if (e.detail.successful) {
      var box = errorBox(e.detail.elt)
      if (box) box.classList.add('hidden')
    }
  })
})()
