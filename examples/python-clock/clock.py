#!/usr/bin/env python3
"""clock: a distributex service in Python 3, standard library only.

It speaks the protocol of docs/protocol.md: a widget at GET /clock, a standalone page at
GET /, /healthz, /_dx/manifest, signed events in (POST /_dx/events) and out (HX-Trigger
headers, and POST <gateway>/_dx/publish for writes made on its own page), with the same
security headers and cross-site rule as the TypeScript services. See README.md.
"""

import hashlib
import hmac
import html
import json
import os
import queue
import re
import signal
import socket
import sys
import threading
import time
import uuid
from collections import OrderedDict, deque
from datetime import datetime, timezone
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

NAME = "clock"
PREFIX = "/" + NAME
TITLE = "Clock"
# Events of other services this one shows; delivered by the gateway as POST /_dx/events.
SUBSCRIBES = ["todo:added", "news:favorited"]

REPLAY_WINDOW_S = 10 * 60
MAX_DETAIL_BYTES = 8 * 1024
EVENT_NAME = re.compile(r"^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$")
SOURCE = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
ACTOR = re.compile(r"^[A-Za-z0-9_.-]{1,24}$")
CLIENT = re.compile(r"^[A-Za-z0-9-]{8,64}$")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

# The template is fetched from the gateway: each wait bounded, refreshed now and then so a
# rebuilt CSS (new hashed URL) reaches this page too, not retried on every request when down.
TEMPLATE_TIMEOUT_S = 2
TEMPLATE_MAX_AGE_S = 60
TEMPLATE_RETRY_S = 10
PUBLISH_TRY_TIMEOUT_S = 2
PUBLISH_QUEUE_MAX = 1000
PUBLISH_TRIES = 8


def log(msg):
    print(f"{NAME}: {msg}", file=sys.stderr, flush=True)


def env_int(name, default):
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit() or int(raw) <= 0:
        sys.exit(f"{NAME}: {name} must be a positive whole number, got {raw!r}")
    return int(raw)


def origin_of(url):
    """`http://localhost:4040/x` -> `http://localhost:4040`; None for anything but http(s)."""
    try:
        u = urlsplit(url.strip())
    except ValueError:
        return None
    if u.scheme not in ("http", "https") or not u.netloc:
        return None
    return f"{u.scheme}://{u.netloc}".lower()


GATEWAY = os.environ.get("DX_GATEWAY_URL", "").strip().rstrip("/") or "http://localhost:4040"
GATEWAY_ORIGIN = origin_of(GATEWAY) or "http://localhost:4040"
PUBLISH_URL = os.environ.get("DX_PUBLISH_URL", "").strip() or GATEWAY + "/_dx/publish"
BODY_LIMIT = env_int("DX_BODY_LIMIT_BYTES", 1024 * 1024)
ALLOWED_ORIGINS = {o for o in [GATEWAY_ORIGIN] + [origin_of(p) for p in os.environ.get("DX_ALLOWED_ORIGINS", "").split(",") if p.strip()] if o}


def secret():
    """Read on each use, like the TypeScript kit: unset or empty refuses every event."""
    return os.environ.get("DX_EVENT_SECRET") or None


def sign(body, key):
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(body, header, key):
    if not header:
        return False
    got = header.strip()
    if got.startswith("sha256="):
        got = got[len("sha256="):]
    return hmac.compare_digest(sign(body, key).encode(), got.lower().encode("latin-1", "replace"))


def gateway_mark(key):
    """What the gateway sends as X-Dx-Via on requests it forwards (it relays their events)."""
    return sign(b"dx-gateway-forwarded", key)


def now_iso():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value):
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


# --- security headers and the cross-site rule (packages/kit/src/security.ts) -------------

def content_security_policy():
    g = GATEWAY_ORIGIN
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' {g}",
        f"style-src 'self' {g}",
        f"img-src 'self' data: {g}",
        f"connect-src 'self' {g}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


PAGE_HEADERS = {
    "Content-Security-Policy": content_security_policy(),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def origin_allowed(origin, host):
    if origin == "null":
        return False
    i = origin.find("://")
    h = origin[i + 3:].lower() if i >= 0 else ""
    if h and host and host.lower() == h:
        return True
    return origin.lower() in ALLOWED_ORIGINS


def cross_site_refusal(method, host, origin, fetch_site):
    """Why a write is refused as cross-site, or None. A request with neither header is a program's."""
    if method in SAFE_METHODS or fetch_site in ("same-origin", "none"):
        return None
    if origin is not None:
        if origin_allowed(origin, host):
            return None
        return f"Cross-site request refused: a {method} from {origin[:100]} may not change data here."
    if fetch_site in ("cross-site", "same-site"):
        return f"Cross-site request refused: a {method} from another site may not change data here."
    return None


# --- state ---------------------------------------------------------------------------------

class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.ticks = 0
        self.heard = deque(maxlen=5)
        self.heard_total = 0
        # Ids whose handling succeeded: a redelivery of one is answered as done.
        self.seen = OrderedDict()
        self.draining = False

    def tick(self):
        with self.lock:
            self.ticks += 1
            return self.ticks

    def handle_once(self, env):
        """Runs the handler for an id at most once; True when it ran now."""
        with self.lock:
            if env["id"] in self.seen:
                return False
            self.heard.appendleft({"name": env["name"], "source": env["source"], "actor": env.get("actor"), "time": env["time"]})
            self.heard_total += 1
            self.seen[env["id"]] = True
            if len(self.seen) > 10_000:
                self.seen.popitem(last=False)
            return True


STATE = State()


# --- events out: publishing what happened on the standalone page ---------------------------

class Publisher:
    """One background thread sends envelopes in order, each retried with backoff."""

    def __init__(self):
        self.q = queue.Queue(maxsize=PUBLISH_QUEUE_MAX)
        self.thread = threading.Thread(target=self.run, name="publish", daemon=True)
        self.thread.start()

    def put(self, env):
        key = secret()
        if not key:
            log(f"DX_EVENT_SECRET is not set: {env['name']} is not published to the gateway")
            return
        body = json.dumps(env, separators=(",", ":")).encode()
        try:
            self.q.put_nowait((env, body, sign(body, key)))
        except queue.Full:
            log(f"the publish queue is full ({PUBLISH_QUEUE_MAX}); dropped {env['name']} {env['id']}")

    def run(self):
        while True:
            env, body, sig = self.q.get()
            try:
                self.deliver(env, body, sig)
            finally:
                self.q.task_done()

    def deliver(self, env, body, sig):
        delay = 0.1
        for attempt in range(1, PUBLISH_TRIES + 1):
            req = Request(PUBLISH_URL, data=body, method="POST", headers={"content-type": "application/json", "x-dx-signature": sig})
            try:
                with urlopen(req, timeout=PUBLISH_TRY_TIMEOUT_S) as r:
                    r.read()
                return
            except HTTPError as e:
                # 4xx will not change however often it is sent; 408 and 429 ask for later.
                if 400 <= e.code < 500 and e.code not in (408, 429):
                    log(f"gave up publishing {env['name']} {env['id']} (refused: not tried again): {PUBLISH_URL} answered {e.code}")
                    return
                why = f"{PUBLISH_URL} answered {e.code}"
            except (URLError, OSError) as e:
                why = f"{PUBLISH_URL}: {getattr(e, 'reason', e)}"
            if attempt == 1:
                log(f"publishing {env['name']} {env['id']} failed ({why}); trying again")
            time.sleep(delay)
            delay = min(delay * 2, 5)
        log(f"gave up publishing {env['name']} {env['id']} after {PUBLISH_TRIES} tries")

    def flush(self, seconds):
        end = time.monotonic() + seconds
        while self.q.unfinished_tasks and time.monotonic() < end:
            time.sleep(0.05)


PUBLISHER = Publisher()


# --- the page template, from the gateway ----------------------------------------------------

# Used until the gateway's /assets/layout.html has been read (or while it cannot be): the
# same frame, with the gateway's plain asset URLs, so the page still works and looks right.
FALLBACK_TEMPLATE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="htmx-config" content="{&quot;includeIndicatorStyles&quot;:false,&quot;allowEval&quot;:false}" />
    <meta name="dx-gateway" content="<!--dx:gateway-->" />
    <title><!--dx:title--></title>
    <link rel="stylesheet" href="<!--dx:gateway-->/assets/app.css" />
    <script src="<!--dx:gateway-->/assets/htmx.min.js" defer></script>
    <script src="<!--dx:gateway-->/assets/dx.js" defer></script>
  </head>
  <body class="min-h-screen bg-slate-100 text-slate-900 antialiased">
    <header class="border-b border-slate-200 bg-white">
      <div class="mx-auto flex max-w-6xl flex-wrap items-baseline gap-x-6 gap-y-2 px-4 py-3">
        <a href="/" class="text-lg font-semibold tracking-tight text-indigo-700"><!--dx:title--></a>
        <span class="text-sm text-slate-500"><!--dx:subtitle--></span>
        <nav class="ml-auto flex flex-wrap gap-4 text-sm">
          <a class="text-slate-600 hover:text-indigo-700 hover:underline" href="<!--dx:gateway-->">Main app</a>
        </nav>
      </div>
    </header>
    <main class="mx-auto max-w-6xl px-4 py-6 wrap-anywhere"><!--dx:slot--></main>
  </body>
</html>
"""


class Template:
    def __init__(self):
        self.lock = threading.Lock()
        self.text = None
        self.fetched_at = 0.0
        self.failed_at = None

    def get(self):
        now = time.monotonic()
        with self.lock:
            fresh = self.text is not None and now - self.fetched_at < TEMPLATE_MAX_AGE_S
            resting = self.failed_at is not None and now - self.failed_at < TEMPLATE_RETRY_S
            if not fresh and not resting:
                self.fetch(now)
            return self.text or FALLBACK_TEMPLATE

    def fetch(self, now):
        url = GATEWAY + "/assets/layout.html"
        try:
            with urlopen(url, timeout=TEMPLATE_TIMEOUT_S) as r:
                text = r.read(256 * 1024).decode("utf-8")
            if "<!--dx:slot-->" not in text:
                raise ValueError("it has no <!--dx:slot--> marker")
            self.text, self.fetched_at, self.failed_at = text, now, None
        except (OSError, ValueError, UnicodeDecodeError) as e:
            if self.failed_at is None:
                log(f"could not read the layout from {url} ({getattr(e, 'reason', e)}): using the built-in one, trying again in {TEMPLATE_RETRY_S} s")
            self.failed_at = now


TEMPLATE = Template()


def fill(template, title, subtitle, slot):
    esc = html.escape
    page = (template.replace("<!--dx:title-->", esc(title))
            .replace("<!--dx:subtitle-->", esc(subtitle))
            .replace("<!--dx:gateway-->", esc(GATEWAY)))
    # The slot last, so a marker inside the widget's own HTML is left alone.
    return page.replace("<!--dx:slot-->", slot, 1)


# --- views ------------------------------------------------------------------------------------

def ticks_fragment(n):
    # Other windows' ticks arrive as clock:ticked on body (dx.js, from the gateway's stream).
    return (f'<p id="clock-ticks" class="mt-1 text-sm text-slate-500" hx-get="{PREFIX}/ticks" '
            f'hx-trigger="clock:ticked from:body, dx:resync from:body" hx-swap="outerHTML">'
            f"Ticks so far: {n}</p>")


def widget():
    now = datetime.now(timezone.utc)
    with STATE.lock:
        ticks, heard, total = STATE.ticks, list(STATE.heard), STATE.heard_total
    items = "".join(
        f'<li class="py-1"><span class="font-medium">{html.escape(e["name"])}</span> from {html.escape(e["source"])}'
        + (f' by <span class="dx-user-text">{html.escape(e["actor"])}</span>' if e.get("actor") else "")
        + f' <time class="text-xs text-slate-500" datetime="{html.escape(e["time"])}">{html.escape(e["time"][11:19])}</time></li>'
        for e in heard
    )
    heard_html = (f'<ul class="mt-1 divide-y divide-slate-100 text-sm">{items}</ul>' if items
                  else '<p class="mt-1 text-sm text-slate-500">Nothing yet: add a todo or favourite a story.</p>')
    return f"""<div class="dx-widget min-w-0 rounded-lg border border-slate-200 bg-white p-4 shadow-sm wrap-anywhere" data-dx-widget="{NAME}">
  <h2 class="mb-3 text-base font-semibold text-slate-800">{TITLE}</h2>
  <p class="dx-error mb-2 hidden rounded bg-red-50 px-2 py-1 text-sm text-red-700" role="alert"></p>
  <p class="text-lg font-semibold">Server time <time datetime="{html.escape(now.isoformat(timespec='seconds'))}">{html.escape(now.strftime('%H:%M:%S'))} UTC</time></p>
  {ticks_fragment(ticks)}
  <button type="button" class="mt-2 rounded bg-indigo-600 px-3 py-1 text-white hover:bg-indigo-700"
    hx-post="{PREFIX}/tick" hx-target="closest .dx-widget" hx-swap="outerHTML">Tick</button>
  <p class="mt-3 text-sm text-slate-700">Events heard from other services: {total}</p>
  {heard_html}
</div>"""


def standalone_page():
    return fill(TEMPLATE.get(), f"distributex · {TITLE}", f"{NAME} service (Python), standalone", widget())


# --- envelope checks (packages/kit/src/events.ts) ---------------------------------------------

def envelope_error(e):
    if not isinstance(e, dict):
        return "expected a JSON object"
    if not isinstance(e.get("id"), str) or not 0 < len(e["id"]) <= 200:
        return "id: expected a non-empty string"
    if not isinstance(e.get("name"), str) or not EVENT_NAME.match(e["name"]):
        return 'name: expected "service:verb"'
    if not isinstance(e.get("source"), str) or not SOURCE.match(e["source"]):
        return "source: expected a service name"
    if not isinstance(e.get("time"), str) or parse_time(e["time"]) is None:
        return "time: expected an ISO date string"
    if "actor" in e and not (isinstance(e["actor"], str) and ACTOR.match(e["actor"])):
        return "actor: expected a nickname"
    if "client" in e and not (isinstance(e["client"], str) and CLIENT.match(e["client"])):
        return "client: expected a page id"
    if len(json.dumps(e.get("detail"), separators=(",", ":")).encode()) > MAX_DETAIL_BYTES:
        return f"detail over {MAX_DETAIL_BYTES} bytes"
    return None


def replay_error(value):
    skew = (parse_time(value) - datetime.now(timezone.utc)).total_seconds()
    if abs(skew) <= REPLAY_WINDOW_S:
        return None
    return f"time {value} is {round(abs(skew) / 60)} minutes {'old' if skew < 0 else 'ahead'}; at most {REPLAY_WINDOW_S // 60} are accepted"


# --- HTTP --------------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def version_string(self):
        return "dx-clock"
    # An idle keep-alive connection or a slow client is dropped after this many seconds.
    timeout = 5

    def log_message(self, fmt, *args):
        pass  # one line per request would drown make start's output

    # A connection waiting for its next request is "idle": on a stop it is closed at once
    # instead of holding the exit for the keep-alive timeout.
    def handle_one_request(self):
        if STATE.draining:
            self.close_connection = True
            return
        self.server.idle.add(self.connection)
        try:
            super().handle_one_request()
        finally:
            self.server.idle.discard(self.connection)

    def parse_request(self):
        self.server.idle.discard(self.connection)
        return super().parse_request()

    # Every method goes through one place: the guards first, then the route.
    def do_GET(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_OPTIONS(self):
        self.dispatch()

    def send(self, status, body, ctype="text/plain; charset=utf-8", headers=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Content-Type-Options", "nosniff")
        if ctype.startswith("text/html"):
            for k, v in PAGE_HEADERS.items():
                self.send_header(k, v)
            self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if STATE.draining:
            self.close_connection = True
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_json(self, status, value):
        self.send(status, json.dumps(value), "application/json")

    def discard(self, n, seconds=5):
        """Reads and drops up to n bytes of an unread body, for a bounded time: a socket closed
        with unread bytes sends a reset, and the client would lose the answer sent before it."""
        deadline = time.monotonic() + seconds
        self.connection.settimeout(seconds)
        try:
            while n > 0 and time.monotonic() < deadline:
                chunk = self.rfile.read1(min(n, 65536))
                if not chunk:
                    break
                n -= len(chunk)
        except OSError:
            pass

    def read_body(self):
        """The body within the limit, or None once an answer has been sent."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self.send(411, "Send a Content-Length: chunked request bodies are not accepted here.")
            return None
        raw = self.headers.get("Content-Length", "0").strip() or "0"
        if not raw.isdigit():
            self.close_connection = True
            self.send(400, "Bad Content-Length.")
            return None
        n = int(raw)
        if n > BODY_LIMIT:
            # Refused before it is read; the connection cannot be reused with a body unread.
            self.close_connection = True
            self.send(413, f"Request body too large: this service accepts at most {BODY_LIMIT} bytes.")
            self.discard(min(n, 4 * BODY_LIMIT))
            return None
        return self.rfile.read(n) if n else b""

    def dispatch(self):
        try:
            refusal = cross_site_refusal(self.command, self.headers.get("Host"), self.headers.get("Origin"), self.headers.get("Sec-Fetch-Site"))
            if refusal:
                log(f"{self.command} {self.path}: {refusal}")
                self.close_connection = True
                return self.send(403, refusal)
            body = self.read_body()
            if body is None:
                return None
            return self.route(self.path.split("?", 1)[0], body)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True
        except Exception as e:  # a bug in one request must not take the process down
            log(f"{self.command} {self.path} failed: {e!r}")
            self.close_connection = True
            try:
                self.send(500, "Internal error in the clock service")
            except OSError:
                pass
        return None

    def route(self, path, body):
        m = self.command
        get = m in ("GET", "HEAD")
        if path == "/healthz" and get:
            return self.send_json(503, {"status": "draining"}) if STATE.draining else self.send_json(200, {"status": "ok"})
        if path == "/_dx/manifest" and get:
            return self.send_json(200, {"name": NAME, "prefix": PREFIX, "widget": PREFIX, "subscribes": SUBSCRIBES})
        if path == "/_dx/events" and m == "POST":
            return self.receive_event(body)
        if path == "/" and get:
            return self.send(200, standalone_page(), "text/html; charset=utf-8")
        if path == PREFIX and get:
            return self.send(200, widget(), "text/html; charset=utf-8", {"Vary": "HX-Request"})
        if path == PREFIX + "/ticks" and get:
            with STATE.lock:
                n = STATE.ticks
            return self.send(200, ticks_fragment(n), "text/html; charset=utf-8")
        if path == PREFIX + "/tick" and m == "POST":
            return self.tick()
        if path in ("/", "/healthz", "/_dx/manifest", "/_dx/events", PREFIX, PREFIX + "/ticks", PREFIX + "/tick"):
            return self.send(405, f"{m} is not allowed on {path}.")
        return self.send(404, f"Not found: {path[:200]}")

    def tick(self):
        STATE.tick()
        # A tick made on this port (no gateway mark) is published by this service; one the
        # gateway forwarded is relayed by the gateway from the HX-Trigger header below.
        key = secret()
        via = self.headers.get("X-Dx-Via", "")
        if not (key and hmac.compare_digest(via.encode("latin-1", "replace"), gateway_mark(key).encode())):
            env = {"id": str(uuid.uuid4()), "name": "clock:ticked", "detail": None, "source": NAME, "time": now_iso()}
            actor = self.cookie("dx_actor")
            if actor and ACTOR.match(actor):
                env["actor"] = actor
            client = self.headers.get("X-Dx-Client", "")
            if CLIENT.match(client):
                env["client"] = client
            PUBLISHER.put(env)
        return self.send(200, widget(), "text/html; charset=utf-8", {"HX-Trigger": "clock:ticked"})

    def cookie(self, name):
        try:
            c = SimpleCookie(self.headers.get("Cookie", ""))
        except CookieError:
            return None
        return c[name].value if name in c else None

    def receive_event(self, body):
        key = secret()
        if not key:
            return self.send_json(503, {"error": "events are refused: DX_EVENT_SECRET is not set"})
        if not signature_ok(body, self.headers.get("X-Dx-Signature"), key):
            return self.send_json(401, {"error": "bad or missing X-Dx-Signature"})
        try:
            env = json.loads(body)
        except ValueError:
            return self.send_json(400, {"error": "body is not JSON"})
        problem = envelope_error(env)
        if problem:
            return self.send_json(400, {"error": f"bad event envelope: {problem}"})
        stale = replay_error(env["time"])
        if stale:
            return self.send_json(400, {"error": f"event refused: {stale}"})
        if env["name"] not in SUBSCRIBES:
            return self.send_json(200, {"status": "ignored"})
        if not STATE.handle_once(env):
            return self.send_json(200, {"status": "duplicate"})
        return self.send_json(200, {"status": "ok"})


class Server(ThreadingHTTPServer):
    # Requests in flight finish on shutdown (server_close joins them); each is bounded by
    # Handler.timeout, so a stop never waits for long.
    daemon_threads = False
    block_on_close = True

    def __init__(self, *args, **kwargs):
        self.idle = set()
        super().__init__(*args, **kwargs)

    def close_idle(self):
        for conn in list(self.idle):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    host = os.environ.get("HOST", "").strip() or "127.0.0.1"
    raw_port = os.environ.get("PORT", "").strip() or "4004"
    if not raw_port.isdigit() or int(raw_port) > 65535:
        sys.exit(f"{NAME}: PORT must be a port number 0-65535, got {raw_port!r}")
    port = int(raw_port)
    Server.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server = Server((host.strip("[]"), port), Handler)

    def stop(signum, _frame):
        if STATE.draining:
            os._exit(0)  # a second signal: at once
        STATE.draining = True
        log(f"{signal.Signals(signum).name}: draining")
        # shutdown() waits for serve_forever to return: not from its own thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    shown = f"[{host}]" if ":" in host else host
    log(f"listening on http://{shown}:{server.server_address[1]}")
    if secret():
        log(f"events: POST /_dx/events takes signed envelopes; events of ticks made on this port are published to {PUBLISH_URL}")
    else:
        log("DX_EVENT_SECRET is not set: events are refused (POST /_dx/events answers 503) and ticks made on this port are not published")
    server.serve_forever(poll_interval=0.2)
    server.close_idle()
    server.server_close()
    PUBLISHER.flush(2.5)
    log("stopped")


if __name__ == "__main__":
    main()
