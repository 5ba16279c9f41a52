"""A real WordPress stack for thresh's tests, in namespaces of its own.

    import stack
    stack.enter_namespaces()        # re-executes the test program under unshare
    s = stack.Stack(); s.start()    # MariaDB, Apache httpd + mod_php, threshd
    site = s.add_site("blog.test", plugins=["akismet"])
    ...
    s.stop()

tests/wordpress/run.py starts one Stack for every test module of the suite
(stack.SHARED, with every module's SITES added at once); a module run by
itself starts its own (module_stack()).

What runs, all inside one network + mount + PID namespace made by
`unshare --net --mount --pid --fork` (so nothing is reachable from outside,
nothing of it outlives the test program, and the machine's own configuration
is never touched):

  - `lo` brought up; the namespace has no other interface.
  - /etc/hosts bind-mounted with a private copy that maps the blog's host name
    and rest.akismet.com (the only host Akismet 5.0.2 calls: Akismet::API_HOST)
    to 127.0.0.1.
  - /etc/wordpress bind-mounted with a private folder: Debian's wordpress
    package reads its configuration from /etc/wordpress/config-HOST.php (see
    /usr/share/wordpress/wp-config.php); each test site gets one there, with
    its own database and its own WP_CONTENT_DIR in the temporary folder.
  - MariaDB (mariadbd) on its own data folder made with mariadb-install-db and
    its own socket, no TCP (--skip-networking), as root.
  - Apache httpd (prefork MPM, mod_php) from a configuration file written
    here, on 127.0.0.1:8080, DocumentRoot /usr/share/wordpress (Debian's
    package, used as installed), /wp-content aliased to the site's own folder.
    Its workers run as www-data.
  - threshd on 127.0.0.1:80 and, with --tls-port, on 443, so that
    http://rest.akismet.com/ and https://rest.akismet.com/ reach it, with a
    database made from the default model (--create, THRESH_MODEL) and a key
    file holding AKISMET_KEY. Its certificate is signed by a test CA made
    here with openssl, which joins /etc/ssl/certs/ca-certificates.crt (the
    bundle Debian's WordPress trusts) through a bind mount in this mount
    namespace only. Akismet 5.0.2 tries https:// first (Akismet::http_post)
    and checks connectivity over https:// alone.
  - start_threshd(): another threshd (--sites DIR, say) on other ports of
    127.0.0.1, for a site whose must-use plugin sends its connections to
    rest.akismet.com there (tests/wordpress/multisite/akismet-route.php).
  - A site may have an address and port of its own (a multisite network
    needs port 80), and Site.subsite() is a sub-site of a network.

Python's standard library only. Every wait is bounded; stop() ends every
process and removes the temporary folder, and the PID namespace takes with it
anything that is left if the test program itself is killed.
"""
import atexit
import html
import html.parser
import http.client
import http.cookiejar
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))

WP_ROOT = os.environ.get("THRESH_WP_ROOT", "/usr/share/wordpress")
APACHE_BIN = os.environ.get("APACHE_BIN", "/usr/sbin/apache2")
APACHE_MODULES = os.environ.get("APACHE_MODULES", "/usr/lib/apache2/modules")
MARIADBD = shutil.which("mariadbd", path="/usr/sbin:/usr/bin:/sbin:/bin") or "/usr/sbin/mariadbd"
MARIADB_INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
MARIADB = shutil.which("mariadb") or shutil.which("mysql") or "/usr/bin/mariadb"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
def _abs_env(name):
    v = os.environ.get(name, "")
    return os.path.abspath(v) if v else ""


THRESHD = _abs_env("THRESHD_BIN")
THRESH = _abs_env("THRESH_BIN")
THRESH_MODEL = _abs_env("THRESH_MODEL")
ARTIFACTS = os.environ.get("THRESH_WP_ARTIFACTS") or os.path.join(
    SOURCE_ROOT, "build", "tests", "wordpress", "artifacts")
MU_PLUGINS = os.path.join(HERE, "mu-plugins")

# Akismet's settings form keeps [a-f0-9] of what is typed and
# Akismet::verify_key() calls a key of any other length than 12 invalid
# without asking the server; threshd's key file wants 8 to 256 letters,
# digits, - or _. Twelve hex digits satisfy both.
AKISMET_KEY = "7e57ab1e0c0d"
AKISMET_HOST = "rest.akismet.com"
HTTP_PORT = 8080
ADMIN_USER = "admin"
ADMIN_PASSWORD = "correct horse battery staple 7"
ADMIN_EMAIL = "admin@blog.test"

INSIDE_ENV = "THRESH_WP_IN_NAMESPACE"
SKIP = 77


def in_ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def give_up(why):
    """A prerequisite is missing: fail in CI (CI=true), skip (exit 77) elsewhere."""
    if in_ci():
        print("FAIL: the WordPress stack cannot run: %s (CI=true: a missing prerequisite "
              "is a failure; scripts/deps.sh and scripts/test.sh install what it needs)" % why,
              file=sys.stderr)
        print("0 passed, 1 failed")
        sys.exit(1)
    print("skipped: the WordPress stack cannot run: %s" % why)
    sys.exit(SKIP)


def missing_prerequisites(browser=False):
    """What this machine lacks for the stack, as a list of sentences."""
    out = []
    if os.geteuid() != 0:
        out.append("not root (the stack needs unshare --net --mount and port 80 in its namespace)")
    for what, path in [("unshare (util-linux)", shutil.which("unshare")),
                       ("ip (iproute2)", shutil.which("ip") or
                        (os.path.exists("/usr/sbin/ip") and "/usr/sbin/ip") or
                        (os.path.exists("/sbin/ip") and "/sbin/ip"))]:
        if not path:
            out.append(what + " is not installed")
    for what, path in [("mariadbd (mariadb-server)", MARIADBD),
                       ("mariadb-install-db (mariadb-server)", MARIADB_INSTALL_DB),
                       ("the mariadb client (mariadb-client)", MARIADB),
                       ("apache2", APACHE_BIN),
                       ("openssl (the test CA of rest.akismet.com)", OPENSSL),
                       ("mod_php (libapache2-mod-php)", os.path.join(APACHE_MODULES, php_module())),
                       ("WordPress (wordpress)", os.path.join(WP_ROOT, "wp-settings.php")),
                       ("the Akismet plugin (wordpress)",
                        os.path.join(WP_ROOT, "wp-content/plugins/akismet/akismet.php")),
                       ("twentytwentyone (wordpress-theme-twentytwentyone)",
                        os.path.join(WP_ROOT, "wp-content/themes/twentytwentyone/style.css"))]:
        if not path or not os.path.exists(path):
            out.append("%s: %s not found" % (what, path))
    if not any(os.path.exists(os.path.join(d, "20-mysqli.ini"))
               for d in php_conf_dirs()):
        out.append("PHP's mysqli for Apache (php-mysql) is not installed")
    for what, path in [("THRESHD_BIN", THRESHD), ("THRESH_BIN", THRESH), ("THRESH_MODEL", THRESH_MODEL)]:
        if not path or not os.path.exists(path):
            out.append("%s is not set to an existing file (%r); run through meson" % (what, path))
    if browser:
        out.extend(missing_browser())
    return out


def missing_browser():
    out = []
    if not os.path.exists(CHROMIUM):
        out.append("chromium is not installed (%s)" % CHROMIUM)
    if not shutil.which("node"):
        out.append("node is not installed")
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "playwright-core")):
        out.append("playwright-core is not installed in %s (scripts/test.sh runs npm ci there)"
                   % NODE_DIR)
    return out


CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
NODE_DIR = os.environ.get("THRESH_WP_NODE_DIR") or os.path.join(HERE, "node")


def php_module():
    for name in sorted(os.listdir(APACHE_MODULES)) if os.path.isdir(APACHE_MODULES) else []:
        if re.fullmatch(r"libphp[0-9.]*\.so", name):
            return name
    return "libphp8.2.so"


def php_conf_dirs():
    base = "/etc/php"
    if not os.path.isdir(base):
        return []
    return [os.path.join(base, v, "apache2", "conf.d") for v in os.listdir(base)]


# ---------------------------------------------------------------------------
# the namespaces

def enter_namespaces(browser=False):
    """Re-execute this program inside new network, mount and PID namespaces,
    unless it already runs there; there, bring up lo. A missing prerequisite
    fails (CI) or skips (exit 77)."""
    if os.environ.get(INSIDE_ENV) == "1":
        if os.getpid() != 1:
            give_up("%s is set but this is not the namespace's first process" % INSIDE_ENV)
        ip = shutil.which("ip") or "/usr/sbin/ip"
        r = subprocess.run([ip, "link", "set", "lo", "up"], capture_output=True, text=True)
        if r.returncode:
            give_up("ip link set lo up failed in the namespace: " + r.stderr.strip())
        # PID 1 ignores signals it has no handler for: turn SIGTERM and SIGINT
        # (from meson on a timeout, or unshare's --kill-child) into an exit
        # that runs the clean-up.
        def stop(sig, frame):
            raise KeyboardInterrupt("signal %d" % sig)
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        return
    missing = missing_prerequisites(browser)
    if missing:
        give_up("; ".join(missing))
    why = check_unshare_works()
    if why:
        give_up("unshare --net --mount --pid --fork --mount-proc does not work here: " + why)
    env = dict(os.environ)
    env[INSIDE_ENV] = "1"
    cmd = ["unshare", "--net", "--mount", "--pid", "--fork", "--mount-proc",
           "--propagation", "private", "--kill-child=SIGTERM", "--",
           sys.executable, os.path.abspath(sys.argv[0])] + sys.argv[1:]
    try:
        p = subprocess.Popen(cmd, env=env)
    except OSError as e:
        give_up("cannot run unshare: %s" % e)

    # A SIGTERM (meson's time-out) or ^C goes on to the program inside
    # (unshare --fork ignores both while it waits; its --kill-child acts only
    # when unshare itself dies): it stops the stack and removes its folder.
    def forward(sig, frame):
        try:
            with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
                children = [int(x) for x in f.read().split()]
        except OSError:
            children = []
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    rc = p.wait()
    if rc < 0:
        rc = 128 - rc
    sys.exit(rc)


def check_unshare_works():
    """Whether `unshare --net --mount --pid` works here; None, or what failed."""
    r = subprocess.run(["unshare", "--net", "--mount", "--pid", "--fork", "--mount-proc", "true"],
                       capture_output=True, text=True)
    return None if r.returncode == 0 else (r.stderr.strip() or "exit %d" % r.returncode)


# ---------------------------------------------------------------------------
# waiting and processes

def wait_for(predicate, timeout, what, interval=0.05, diagnose=None):
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() >= deadline:
            extra = ""
            if diagnose:
                try:
                    extra = "\n" + diagnose()
                except Exception as e:  # the diagnosis must not hide the time-out
                    extra = "\n(diagnosis failed: %s)" % e
            raise AssertionError("timed out after %.0f s waiting for %s%s" % (timeout, what, extra))
        time.sleep(interval)


def port_open(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def tail(path, limit=8000):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            return f.read().decode("utf-8", "replace")
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)


class Proc:
    """A server process started by the stack, its output in a file."""

    def __init__(self, name, cmd, log, env=None, cwd=None):
        self.name = name
        self.cmd = cmd
        self.log = log
        with open(log, "ab") as out:
            self.p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                                      start_new_session=True)

    def alive(self):
        return self.p.poll() is None

    def check_alive(self):
        if not self.alive():
            raise AssertionError("%s exited with %s:\n%s" % (self.name, self.p.returncode,
                                                            tail(self.log)))
        return True

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.p.poll() is not None:
            return self.p.returncode
        try:
            os.killpg(self.p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return self.p.wait(10)


# ---------------------------------------------------------------------------
# HTML forms and links

class _FormParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.links = []
        self.form = None
        self.textarea = None
        self.select = None
        self.option = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "a" and "href" in a:
            self.links.append(a)
        if tag == "form":
            self.form = Form(a.get("action", ""), a.get("method", "get").lower(), a)
            self.forms.append(self.form)
            return
        if self.form is None:
            return
        if tag == "input":
            name = a.get("name")
            kind = a.get("type", "text").lower()
            if not name or kind in ("submit", "button", "image", "reset", "file"):
                if name and kind == "submit":
                    self.form.submits.append((name, a.get("value", "")))
                return
            if kind in ("checkbox", "radio"):
                self.form.options.setdefault(name, []).append(a.get("value", "on"))
                if "checked" not in a:
                    return
                if kind == "radio":
                    self.form.remove(name)
                self.form.fields.append([name, a.get("value", "on")])
                return
            self.form.fields.append([name, a.get("value", "")])
        elif tag == "textarea" and a.get("name"):
            self.textarea = [a["name"], ""]
            self.form.fields.append(self.textarea)
        elif tag == "select" and a.get("name"):
            self.select = [a["name"], None, None]  # name, first, selected
        elif tag == "option" and self.select is not None:
            self.option = [a.get("value"), "selected" in a, ""]
        elif tag == "button" and a.get("name") and a.get("type", "submit") == "submit":
            self.form.submits.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "option" and self.option is not None and self.select is not None:
            value = self.option[0] if self.option[0] is not None else self.option[2].strip()
            if self.select[1] is None:
                self.select[1] = value
            if self.option[1]:
                self.select[2] = value
            self.option = None
        elif tag == "select" and self.select is not None:
            if self.form is not None:
                v = self.select[2] if self.select[2] is not None else self.select[1]
                if v is not None:
                    self.form.fields.append([self.select[0], v])
            self.select = None

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data
        if self.option is not None:
            self.option[2] += data


class Form:
    def __init__(self, action, method, attrs):
        self.action = action
        self.method = method
        self.attrs = attrs
        self.fields = []      # [name, value], in page order: what a browser would send
        self.submits = []
        self.options = {}

    def get(self, name, default=None):
        for k, v in self.fields:
            if k == name:
                return v
        return default

    def remove(self, name):
        self.fields = [f for f in self.fields if f[0] != name]

    def set(self, name, value):
        """Set a field (a checkbox: value None unchecks it)."""
        self.remove(name)
        if value is not None:
            self.fields.append([name, value])

    def data(self):
        return list((k, v) for k, v in self.fields)

    def __repr__(self):
        return "Form(%r, %r, %r)" % (self.action, self.method, self.fields)


def parse_page(text):
    p = _FormParser()
    p.feed(text)
    p.close()
    return p


def find_form(text, pred=None, **attrs):
    """The first form of a page whose attributes match attrs (id=..., name=...)
    and for which pred(form) is true."""
    for f in parse_page(text).forms:
        if all(f.attrs.get(k) == v for k, v in attrs.items()) and (pred is None or pred(f)):
            return f
    raise AssertionError("no form %r on the page:\n%s" % (attrs, text[:3000]))


def links(text):
    return [html.unescape(a["href"]) for a in parse_page(text).links]


# ---------------------------------------------------------------------------
# an HTTP user agent: cookies, a source address of its own, no automatic redirects

class Response:
    def __init__(self, status, headers, body, url):
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url

    @property
    def text(self):
        m = re.search(r"charset=([\w-]+)", self.headers.get("Content-Type", ""))
        enc = m.group(1) if m else "utf-8"
        try:
            return self.body.decode(enc, "replace")
        except LookupError:
            return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def location(self):
        return self.headers.get("Location")

    def __repr__(self):
        return "Response(%d, %s, %r)" % (self.status, self.url, self.body[:500])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class _SourceHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, source):
        super().__init__()
        self.source = source

    def http_open(self, req):
        src = self.source

        def connect(host, **kw):
            return http.client.HTTPConnection(host, source_address=(src, 0), **kw)
        return self.do_open(connect, req)


class UserAgent:
    """One visitor or one logged-in user: a cookie jar, a User-Agent and a
    loopback source address (so WordPress sees REMOTE_ADDR = source)."""

    def __init__(self, base, source="127.0.0.1",
                 user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"):
        self.base = base.rstrip("/")
        self.source = source
        self.user_agent = user_agent
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            _SourceHTTPHandler(source), urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def url(self, path):
        return path if path.startswith("http") else self.base + "/" + path.lstrip("/")

    def request(self, method, path, data=None, headers=None, timeout=60):
        url = self.url(path)
        h = {"User-Agent": self.user_agent, "Accept-Language": "en-US,en;q=0.8"}
        if isinstance(data, (list, tuple, dict)):
            data = urllib.parse.urlencode(data).encode("utf-8") if not isinstance(data, bytes) else data
            h["Content-Type"] = "application/x-www-form-urlencoded"
        elif data is not None:
            h.setdefault("Content-Type", "application/x-www-form-urlencoded")
        h.update(headers or {})
        req = urllib.request.Request(url, data=data, headers=h, method=method)
        try:
            with self.opener.open(req, timeout=timeout) as r:
                return Response(r.status, r.headers, r.read(), url)
        except urllib.error.HTTPError as e:
            body = e.read()
            return Response(e.code, e.headers, body, url)

    def get(self, path, headers=None, follow=True, timeout=60):
        r = self.request("GET", path, headers=headers, timeout=timeout)
        hops = 0
        while follow and r.status in (301, 302, 303, 307) and r.location and hops < 10:
            r = self.request("GET", urllib.parse.urljoin(r.url, r.location), headers=headers,
                             timeout=timeout)
            hops += 1
        return r

    def post(self, path, data, headers=None, timeout=60):
        return self.request("POST", path, data=data, headers=headers, timeout=timeout)

    def submit(self, page, form, headers=None, encoding="utf-8", timeout=60):
        """Send a form as a browser would (to its action, relative to page)."""
        action = urllib.parse.urljoin(page.url, html.unescape(form.action) or page.url)
        headers = dict(headers or {})
        headers.setdefault("Referer", page.url)
        pairs = [(k, v.encode(encoding) if isinstance(v, str) else v) for k, v in form.data()]
        body = urllib.parse.urlencode(pairs).encode("ascii")
        if form.method == "post":
            return self.post(action, body, headers=headers, timeout=timeout)
        # a GET form's fields replace the action's query, as in a browser
        return self.get(action.split("?")[0] + "?" + body.decode(), headers=headers)


# ---------------------------------------------------------------------------
# the stack

class Site:
    """One WordPress site of the stack: a host name, its database, its config
    file in the private /etc/wordpress, its own wp-content."""

    def __init__(self, stack, host, db, content, address="127.0.0.1", port=HTTP_PORT):
        self.stack = stack
        self.host = host
        self.db = db
        self.content = content
        self.address = address
        self.port = port
        self.base = "http://%s%s" % (host, "" if port == 80 else ":%d" % port)
        self.debug_log = os.path.join(stack.tmp, "wp-debug-%s.log" % host)
        self.admin = None
        self.first_post_id = None
        self.post_urls = {}   # post ID: its permalink
        self.prefix = "wp_"   # the tables of this site (wp_N_ for a network's sub-site N)
        self.blog_id = 1
        self.apache_extra = ""

    def subsite(self, path, blog_id):
        """Sub-site `blog_id` of this site's multisite network, a subdirectory
        install: http://HOST/PATH, its tables wp_BLOGID_*, the same database,
        configuration, wp-content and debug log."""
        sub = Site(self.stack, self.host, self.db, self.content, self.address, self.port)
        sub.base = "%s/%s" % (self.base, path.strip("/"))
        sub.prefix = "wp_%d_" % blog_id
        sub.blog_id = blog_id
        return sub

    def table(self, name):
        """The site's table `name` (options, comments, ...)."""
        return self.prefix + name

    def agent(self, source="127.0.0.1", **kw):
        return UserAgent(self.base, source, **kw)

    # ---- MariaDB ----

    def sql(self, query):
        return self.stack.sql(query, self.db)

    def option(self, name):
        rows = self.sql("SELECT option_value FROM %s WHERE option_name = %s"
                        % (self.table("options"), quote(name)))
        return rows[0][0] if rows else None

    def comment(self, cid):
        rows = self.sql("SELECT comment_approved, comment_author, comment_content, comment_author_IP "
                        "FROM %s WHERE comment_ID = %d" % (self.table("comments"), int(cid)))
        return rows[0] if rows else None

    def comment_meta(self, cid):
        """{meta_key: [values]} of one comment."""
        out = {}
        for k, v in self.sql("SELECT meta_key, meta_value FROM %s WHERE comment_id = %d "
                             "ORDER BY meta_id" % (self.table("commentmeta"), int(cid))):
            out.setdefault(k, []).append(v)
        return out

    def last_comment_id(self):
        rows = self.sql("SELECT MAX(comment_ID) FROM %s" % self.table("comments"))
        return int(rows[0][0]) if rows and rows[0][0] not in (None, "NULL") else 0

    # ---- HTTP as the admin ----

    def install(self, title="thresh test blog"):
        ua = self.agent()
        r = ua.get("/wp-admin/install.php")
        if "step=1" in r.text and "language" in r.text and "setup" not in r.text:
            r = ua.post("/wp-admin/install.php?step=1", [("language", "")])
        form = find_form(r.text, id="setup")
        form.set("weblog_title", title)
        form.set("user_name", ADMIN_USER)
        form.set("admin_password", ADMIN_PASSWORD)
        form.set("admin_password2", ADMIN_PASSWORD)
        form.set("pw_weak", "on")
        form.set("admin_email", ADMIN_EMAIL)
        form.set("blog_public", "0")
        r = ua.submit(r, form)
        if r.status != 200 or "Success!" not in r.text:
            raise AssertionError("WordPress's install.php did not succeed: %d\n%s\n%s" % (
                r.status, strip_tags(r.text)[:2000], self.stack.logs()))
        return r

    def login(self, user=ADMIN_USER, password=ADMIN_PASSWORD, source="127.0.0.1"):
        ua = self.agent(source)
        r = ua.get("/wp-login.php")  # sets wordpress_test_cookie
        form = find_form(r.text, id="loginform")
        form.set("log", user)
        form.set("pwd", password)
        r = ua.submit(r, form)
        if r.status != 302 or not any(c.name.startswith("wordpress_logged_in_") for c in ua.jar):
            raise AssertionError("logging in as %s failed: %d\n%s" % (
                user, r.status, strip_tags(r.text)[:1500]))
        return ua

    def admin_agent(self):
        if self.admin is None:
            self.admin = self.login()
        return self.admin

    def follow_link(self, ua, page_path, pattern):
        """GET the first link of page_path whose href matches pattern, as a
        click on it would; returns (page, response)."""
        page = ua.get(page_path)
        for href in links(page.text):
            if re.search(pattern, href):
                return page, ua.get(urllib.parse.urljoin(page.url, href))
        raise AssertionError("no link matching %r on %s:\n%s" % (pattern, page_path,
                                                                  strip_tags(page.text)[:3000]))

    def activate_plugin(self, slug):
        ua = self.admin_agent()
        page = ua.get("/wp-admin/plugins.php")
        pat = r"plugins\.php\?action=activate&plugin=%s%%2F" % re.escape(slug)
        for href in links(page.text):
            if re.search(pat, href):
                r = ua.get(urllib.parse.urljoin(page.url, href))
                break
        else:
            if re.search(r"action=deactivate&plugin=%s%%2F" % re.escape(slug), page.text.replace("&amp;", "&")):
                return None
            raise AssertionError("no Activate link for %s on plugins.php:\n%s" % (
                slug, strip_tags(page.text)[:3000]))
        active = self.option("active_plugins") or ""
        if slug + "/" not in active:
            raise AssertionError("plugin %s not active after its Activate link: %r\n%s" % (
                slug, active, strip_tags(r.text)[:2000]))
        return r

    def activate_theme(self, stylesheet):
        ua = self.admin_agent()
        page = ua.get("/wp-admin/themes.php")
        pat = r"themes\.php\?action=activate&stylesheet=%s&" % re.escape(stylesheet)
        hrefs = [h for h in links(page.text) if re.search(pat, h)]
        if not hrefs:
            m = re.search(r'"actions":\{"activate":"([^"]+stylesheet=%s[^"]*)"' % re.escape(stylesheet),
                          page.text)
            if m:
                hrefs = [json.loads('"%s"' % m.group(1))]
        if hrefs:
            ua.get(urllib.parse.urljoin(page.url, html.unescape(hrefs[0])))
        if self.option("stylesheet") != stylesheet:
            raise AssertionError("theme %s not active: stylesheet=%r, template=%r" % (
                stylesheet, self.option("stylesheet"), self.option("template")))

    def save_settings(self, page_path, changes, form_pred=None):
        """Open a settings screen, change some fields (None unchecks a
        checkbox) and press its Save button. Returns the response."""
        ua = self.admin_agent()
        page = ua.get(page_path)
        form = find_form(page.text, pred=form_pred or (lambda f: f.get("option_page") is not None))
        for k, v in changes.items():
            form.set(k, v)
        r = ua.submit(page, form)
        if r.status not in (200, 302):
            raise AssertionError("saving %s: %d %s" % (page_path, r.status, strip_tags(r.text)[:1500]))
        return r

    # ---- visitors and moderation, as people do them ----

    def post_comment(self, content, author="Visitor", email=None, url="", source=None,
                     headers=None, ua=None, encoding="utf-8", parent=0, js=True, post_id=None,
                     extra=None):
        """Load a post's page as a visitor (from loopback address `source`),
        fill its comment form (the hidden fields as the page has them; js: set
        Akismet's ak_js the way the page's inline script does, if there is
        one) and post it to wp-comments-post.php. Returns (comment_id,
        response); comment_id is None when WordPress stored nothing (a
        discard redirects back without a comment)."""
        email = email if email is not None else new_email()
        ua = ua or self.agent(source or new_ip())
        pid = post_id or self.first_post()
        # the post's permalink, once /?p=ID has redirected to it (a request less)
        page = ua.get(self.post_urls.get(pid) or "/?p=%d" % pid, headers=headers)
        if page.status != 200:
            raise AssertionError("the post's page: %r" % page)
        self.post_urls[pid] = page.url
        form = find_form(page.text, id="commentform")
        form.set("comment", content)
        if form.get("author") is not None:
            form.set("author", author)
            form.set("email", email)
            form.set("url", url)
        if parent:
            form.set("comment_parent", str(parent))
        if js and form.get("ak_js") is not None:
            form.set("ak_js", str(int(time.time() * 1000)))
        for k, v in (extra or {}).items():   # what a bot fills in (a hidden honeypot)
            form.set(k, v)
        r = ua.submit(page, form, headers=headers, encoding=encoding)
        if r.status != 302:
            return None, r
        m = re.search(r"#comment-(\d+)$", r.location or "")
        return (int(m.group(1)) if m else None), r

    def status(self, cid):
        """comment_approved: '1', '0', 'spam', 'trash'; 'discarded' for a
        comment that never reached the database."""
        if cid is None:
            return "discarded"
        row = self.comment(cid)
        return row[0] if row else "deleted"

    def click(self, cid, action, view="all", headers=None, ua=None):
        """Click one of a comment's row links on edit-comments.php (Spam, Not
        Spam, Approve, ...) the way a browser follows it without JavaScript,
        as the admin or as the user logged in with `ua`. The list is first
        searched for the comment's author e-mail (the screen's search box),
        so that the comment is on the first page."""
        ua = ua or self.admin_agent()
        email = self.sql("SELECT comment_author_email FROM %s WHERE comment_ID = %d"
                         % (self.table("comments"), cid))[0][0]
        page = ua.get("/wp-admin/edit-comments.php?comment_status=%s&s=%s"
                      % (view, urllib.parse.quote(email)), headers=headers)
        if page.status != 200:
            raise AssertionError("edit-comments.php: %r" % page)
        pat = re.compile(r"comment\.php\?c=%d&action=%s&" % (cid, re.escape(action)))
        for href in links(page.text):
            if pat.search(href):
                r = ua.get(urllib.parse.urljoin(page.url, href), headers=headers)
                if r.status not in (200, 302):
                    raise AssertionError("%s of comment %d: %r" % (action, cid, r))
                return r
        raise AssertionError("no %s link for comment %d on edit-comments.php?comment_status=%s:\n%s"
                             % (action, cid, view, strip_tags(page.text)[:3000]))

    def bulk_action(self, cids, action, view="all", search=""):
        """Tick comments on edit-comments.php (the list of `view`, searched
        for `search` so that they are on its first page) and apply one of its
        Bulk actions ("spam", "unspam", "approve", "trash", ...), as a
        browser submits the list's form without JavaScript."""
        ua = self.admin_agent()
        page = ua.get("/wp-admin/edit-comments.php?comment_status=%s&s=%s"
                      % (view, urllib.parse.quote(search)))
        form = find_form(page.text, id="comments-form")
        listed = set(form.options.get("delete_comments[]", []))
        missing = [c for c in cids if str(c) not in listed]
        if missing:
            raise AssertionError("comments %s are not listed on edit-comments.php?comment_status=%s&s=%s:\n%s"
                                 % (missing, view, search, strip_tags(page.text)[:3000]))
        form.set("action", action)
        form.remove("delete_comments[]")
        for c in cids:
            form.fields.append(["delete_comments[]", str(c)])
        r = ua.submit(page, form)
        if r.status not in (200, 302):
            raise AssertionError("bulk action %s: %r" % (action, r))
        return r

    def add_user(self, login, role):
        """A user added by the admin on Users > Add New (user-new.php), with
        `role` ("author", "editor", ...). Returns the user's password."""
        ua = self.admin_agent()
        page = ua.get("/wp-admin/user-new.php")
        form = find_form(page.text, id="createuser")
        password = "pw %s %s" % (login, os.urandom(8).hex())
        for k, v in (("user_login", login), ("email", "%s@%s" % (login, self.host)),
                     ("pass1", password), ("pass2", password), ("role", role),
                     ("send_user_notification", None)):
            form.set(k, v)
        r = ua.submit(page, form)
        rows = self.sql("SELECT ID FROM wp_users WHERE user_login = %s" % quote(login))
        if not rows:
            raise AssertionError("user-new.php did not add %s: %d\n%s" % (
                login, r.status, strip_tags(r.text)[:2000]))
        return password

    def rest(self, ua, method, route, body=None):
        """A call of the REST API as the user logged in with `ua`, the way the
        block editor makes it (a wp_rest nonce from admin-ajax.php's
        rest-nonce action, in X-WP-Nonce). Returns (status, decoded JSON)."""
        nonce = ua.get("/wp-admin/admin-ajax.php?action=rest-nonce").text.strip()
        r = ua.request(method, "/?rest_route=" + urllib.parse.quote(route),
                       data=json.dumps(body).encode() if body is not None else None,
                       headers={"X-WP-Nonce": nonce, "Content-Type": "application/json"})
        try:
            return r.status, json.loads(r.body)
        except ValueError:
            return r.status, r.text

    def first_post(self):
        if self.first_post_id is None:
            rows = self.sql("SELECT ID FROM %s WHERE post_type = 'post' AND post_status = 'publish' "
                            "ORDER BY ID LIMIT 1" % self.table("posts"))
            self.first_post_id = int(rows[0][0])
        return self.first_post_id


_ip = [0]


def new_ip():
    """A loopback address no other visitor of the run used (127.0.10.1 on)."""
    _ip[0] += 1
    n = _ip[0]
    return "127.0.%d.%d" % (10 + n // 250, 1 + n % 250)


_mail = [0]


def new_email(name="visitor"):
    _mail[0] += 1
    return "%s.%d.%s@mail.example" % (name, _mail[0], os.urandom(2).hex())


def quote(s):
    return "'" + str(s).replace("\\", "\\\\").replace("'", "\\'") + "'"


def strip_tags(text):
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", html.unescape(text))


class SqlSession:
    """One mariadb client (batch mode, as root on the stack's socket) that
    runs query after query: each is sent with a marker query after it, and
    its output read up to the marker's row. With --force the client goes on
    after an error; it writes the error (stderr, joined to stdout) before the
    marker's row."""

    def __init__(self, socket):
        self.p = subprocess.Popen(
            [MARIADB, "--no-defaults", "-S", socket, "-u", "root", "-N", "-B", "--unbuffered",
             "--force", "--default-character-set=utf8mb4"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.buf = b""
        self.n = 0

    def alive(self):
        return self.p.poll() is None

    def query(self, query, db=None, timeout=60):
        """(output lines, error lines) of one query (or several, with ;)."""
        self.n += 1
        mark = "thresh-sql-done-%d-%s" % (self.n, os.urandom(4).hex())
        script = ("USE `%s`;\n" % db if db else "") + query.strip().rstrip(";") + ";\nSELECT '%s';\n" % mark
        self.p.stdin.write(script.encode("utf-8", "surrogateescape"))
        self.p.stdin.flush()
        lines = []
        deadline = time.monotonic() + timeout
        fd = self.p.stdout.fileno()
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                text = line.decode("utf-8", "surrogateescape")
                if text == mark:
                    errors = [x for x in lines if x.startswith("ERROR ")]
                    return [x for x in lines if not x.startswith("ERROR ")], errors
                lines.append(text)
            left = deadline - time.monotonic()
            if left <= 0:
                self.p.kill()
                raise AssertionError("SQL timed out after %d s: %s" % (timeout, query))
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise AssertionError("the mariadb client ended (%s) during: %s\n%s" % (
                        self.p.wait(), query, b"".join([self.buf]).decode("utf-8", "replace")))
                self.buf += chunk

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(10)
        except Exception:
            self.p.kill()


def threshd_metrics(port):
    """The /metrics of the threshd on 127.0.0.1:port, as {series: value}."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/metrics")
    body = c.getresponse().read().decode()
    c.close()
    out = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            out[k] = float(v)
    return out


def threshd_stats(port, key):
    """GET /v1/stats of the threshd on 127.0.0.1:port with `key` (with
    --sites: the stats of the key's site)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/v1/stats", headers={"Authorization": "Bearer " + key})
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status != 200:
        raise AssertionError("GET /v1/stats: %d %r" % (r.status, body))
    return json.loads(body)


class Threshd:
    """A threshd that Stack.start_threshd() started: its folder, key file,
    logs and ports."""

    def __init__(self, name, d, port, tls_port):
        self.name = name
        self.dir = d
        self.keys = os.path.join(d, "keys")
        self.log = os.path.join(d, "requests.log")
        self.err = os.path.join(d, "threshd.err")
        self.port = port
        self.tls_port = tls_port

    def metrics(self):
        return threshd_metrics(self.port)

    def stats(self, key):
        return threshd_stats(self.port, key)

    def requests(self):
        """The request log's lines."""
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []


class Stack:
    def __init__(self):
        self.tmp = None
        self.procs = {}
        self.sql_session = None
        self.sql_lock = threading.Lock()
        self.sites = {}
        self.notes = []
        self.mounts = []
        self.tls = None       # (certificate, key) of rest.akismet.com
        self.threshds = {}    # start_threshd()'s, by name

    # ---- start ----

    def start(self, threshd=True, threshd_args=()):
        if os.environ.get(INSIDE_ENV) != "1":
            raise AssertionError("Stack.start() outside the namespaces: call enter_namespaces() first")
        self.tmp = tempfile.mkdtemp(prefix="thresh-wp-")
        os.chmod(self.tmp, 0o755)
        # also on an interrupt (SIGTERM from meson's time-out becomes one):
        # the PID namespace ends the servers, this removes the folder
        atexit.register(self.stop)
        try:
            self._private_etc()
            self._mariadb()
            self._apache_conf()
            if threshd:
                self._threshd(threshd_args)
        except BaseException:
            print(self.logs(), file=sys.stderr)
            self.stop()
            raise
        return self

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def _private_etc(self):
        etc = self.path("etc")
        os.makedirs(etc)
        self.hosts = os.path.join(etc, "hosts")
        self._write_hosts()
        subprocess.run(["mount", "--bind", self.hosts, "/etc/hosts"], check=True)
        self.wp_etc = self.path("etc", "wordpress")
        os.makedirs(self.wp_etc)
        os.chmod(self.wp_etc, 0o755)
        os.makedirs("/etc/wordpress", exist_ok=True) if not os.path.exists("/etc/wordpress") else None
        subprocess.run(["mount", "--bind", self.wp_etc, "/etc/wordpress"], check=True)

    def _write_hosts(self):
        """/etc/hosts: rest.akismet.com and the sites on 127.0.0.1, a site with
        an address of its own on that."""
        names = {"127.0.0.1": ["localhost", AKISMET_HOST]}
        for site in self.sites.values():
            names.setdefault(site.address, []).append(site.host)
        with open(self.hosts, "w") as f:
            for address, hosts in names.items():
                f.write("%s\t%s\n" % (address, " ".join(hosts)))
            f.write("::1\tlocalhost ip6-localhost\n")
        os.chmod(self.hosts, 0o644)

    def _mariadb(self):
        data = self.path("mysql")
        run = self.path("run")
        os.makedirs(run)
        os.chmod(run, 0o755)
        self.socket = os.path.join(run, "mysqld.sock")
        self.mysql_log = self.path("mariadb.log")
        r = subprocess.run([MARIADB_INSTALL_DB, "--no-defaults", "--datadir=" + data, "--user=root",
                            "--auth-root-authentication-method=socket", "--skip-test-db",
                            "--skip-name-resolve"],
                           capture_output=True, text=True, timeout=120)
        if r.returncode:
            raise AssertionError("mariadb-install-db failed:\n%s%s" % (r.stdout, r.stderr))
        self.procs["mariadb"] = Proc("mariadbd", [
            MARIADBD, "--no-defaults", "--datadir=" + data, "--socket=" + self.socket,
            "--pid-file=" + os.path.join(run, "mysqld.pid"), "--skip-networking", "--user=root",
            "--log-error=" + self.mysql_log, "--innodb-buffer-pool-size=64M",
            "--innodb-log-file-size=16M", "--skip-name-resolve", "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci"], self.path("mariadbd.out"))
        wait_for(lambda: self.procs["mariadb"].check_alive() and os.path.exists(self.socket)
                 and self._sql_ok(), 60, "MariaDB's socket", diagnose=lambda: tail(self.mysql_log))

    def _sql_ok(self):
        r = subprocess.run([MARIADB, "--no-defaults", "-S", self.socket, "-u", "root", "-e", "SELECT 1"],
                           capture_output=True)
        return r.returncode == 0

    def sql(self, query, db=None, check=True):
        """Run SQL as MariaDB's root; rows as lists of strings (NULL as None).
        One mariadb client serves every query of the run (SqlSession): a
        client of its own would cost each query some 20 ms."""
        with self.sql_lock:
            if self.sql_session is None or not self.sql_session.alive():
                self.sql_session = SqlSession(self.socket)
            out, errors = self.sql_session.query(query, db)
        if errors and check:
            raise AssertionError("SQL failed: %s\n%s" % (query, "\n".join(errors)))
        rows = []
        for line in out:
            rows.append([None if c == "NULL" else unescape_batch(c) for c in line.split("\t")])
        return rows

    def _apache_conf(self):
        ap = self.path("apache")
        os.makedirs(os.path.join(ap, "run"))
        self.apache_error = os.path.join(ap, "error.log")
        self.apache_access = os.path.join(ap, "access.log")
        self.php_errors = self.path("php-errors.log")
        for f in (self.php_errors,):
            open(f, "a").close()
            os.chmod(f, 0o666)
        self.apache_conf = os.path.join(ap, "httpd.conf")
        self.apache_sites = os.path.join(ap, "sites")
        os.makedirs(self.apache_sites)

    def _write_apache_conf(self):
        mods = APACHE_MODULES
        site_blocks = []
        for site in self.sites.values():
            site_blocks.append("""
<VirtualHost %(address)s:%(port)d>
    ServerName %(host)s
    DocumentRoot "%(root)s"
    Alias /wp-content "%(content)s"
    %(extra)s
</VirtualHost>
""" % {"address": site.address, "port": site.port, "host": site.host, "root": WP_ROOT,
       "content": site.content, "extra": site.apache_extra})
        conf = """# written by tests/wordpress/stack.py
ServerRoot "%(ap)s"
ServerName localhost
%(listen)s
PidFile "%(ap)s/run/httpd.pid"
DefaultRuntimeDir "%(ap)s/run"
Mutex file:%(ap)s/run default
ErrorLog "%(ap)s/error.log"
LogLevel warn
Timeout 60
LoadModule mpm_prefork_module %(mods)s/mod_mpm_prefork.so
StartServers 2
MinSpareServers 2
MaxSpareServers 4
MaxRequestWorkers 8
LoadModule authz_core_module %(mods)s/mod_authz_core.so
LoadModule authz_host_module %(mods)s/mod_authz_host.so
LoadModule alias_module %(mods)s/mod_alias.so
LoadModule dir_module %(mods)s/mod_dir.so
LoadModule mime_module %(mods)s/mod_mime.so
LoadModule env_module %(mods)s/mod_env.so
LoadModule setenvif_module %(mods)s/mod_setenvif.so
LoadModule rewrite_module %(mods)s/mod_rewrite.so
LoadModule php_module %(mods)s/%(php)s
User www-data
Group www-data
TypesConfig /etc/mime.types
LogFormat "%%a %%t \\"%%r\\" %%>s %%b %%D" timed
CustomLog "%(ap)s/access.log" timed
DirectoryIndex index.php index.html
<FilesMatch "\\.php$">
    SetHandler application/x-httpd-php
</FilesMatch>
php_admin_flag log_errors on
php_admin_flag display_errors off
php_value error_log "%(php_errors)s"
php_admin_value upload_tmp_dir "%(tmp)s/php-tmp"
php_admin_value session.save_path "%(tmp)s/php-tmp"
php_admin_value ffi.enable true
php_admin_value post_max_size 8M
# a file the tests change (a site's config-HOST.php, as its owner edits
# wp-config.php) is compiled again on the next request, not up to 2 s later
php_admin_value opcache.revalidate_freq 0
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "%(root)s">
    Options FollowSymLinks
    AllowOverride None
    Require all granted
</Directory>
<Directory "%(tmp)s/sites">
    Options FollowSymLinks
    AllowOverride None
    Require all granted
</Directory>
<Directory "/usr/share/wordpress/wp-content">
    Options FollowSymLinks
    Require all granted
</Directory>
%(sites)s
""" % {"ap": self.path("apache"), "mods": mods, "php": php_module(),
       "listen": "\n".join("Listen %s:%d" % a for a in self._listen()),
       "php_errors": self.php_errors, "tmp": self.tmp, "root": WP_ROOT,
       "sites": "\n".join(site_blocks)}
        os.makedirs(self.path("php-tmp"), exist_ok=True)
        os.chmod(self.path("php-tmp"), 0o1777)
        with open(self.apache_conf, "w") as f:
            f.write(conf)

    def _listen(self):
        """The addresses Apache listens on: 127.0.0.1:8080, and those of the
        sites with one of their own."""
        out = [("127.0.0.1", HTTP_PORT)]
        for site in self.sites.values():
            if (site.address, site.port) not in out:
                out.append((site.address, site.port))
        return out

    def start_apache(self):
        """(Re)start Apache with a configuration written from the sites as
        they are now (a site's apache_extra, say)."""
        if "apache" in self.procs:
            self.procs.pop("apache").stop()
            wait_for(lambda: not any(port_open(a, p) for a, p in self._listen()), 20,
                     "Apache to close its ports")
        self._write_apache_conf()
        r = subprocess.run([APACHE_BIN, "-f", self.apache_conf, "-t"], capture_output=True, text=True)
        if r.returncode:
            raise AssertionError("apache2 -t: %s%s" % (r.stdout, r.stderr))
        # Apache and PHP get a clean environment, as under systemd: nothing of
        # the test's (THRESH_LIB, ...) may change what the plugins do.
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "LANG": "C", "APACHE_RUN_DIR": self.path("apache", "run")}
        self.procs["apache"] = Proc("apache2", [APACHE_BIN, "-f", self.apache_conf, "-DFOREGROUND"],
                                    self.path("apache", "stdout.log"), env=env)
        wait_for(lambda: self.procs["apache"].check_alive()
                 and all(port_open(a, p) for a, p in self._listen()),
                 30, "Apache on %s" % ", ".join("%s:%d" % a for a in self._listen()),
                 diagnose=lambda: tail(self.apache_error))

    def _tls(self, d):
        """A test CA and a certificate for rest.akismet.com signed by it; the
        CA joins the system bundle that PHP and WordPress trust
        (wp-includes/certificates/ca-bundle.crt links to
        /etc/ssl/certs/ca-certificates.crt), bind-mounted in this mount
        namespace only. Returns (cert, key)."""
        ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
        key, csr, cert = os.path.join(d, "tls.key"), os.path.join(d, "tls.csr"), os.path.join(d, "tls.pem")
        ext = os.path.join(d, "ext.cnf")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                    % AKISMET_HOST)

        def run(*a):
            r = subprocess.run(a, capture_output=True, text=True, timeout=60)
            if r.returncode:
                raise AssertionError("%s failed: %s" % (" ".join(a[:3]), r.stderr))
        run(OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
            "-days", "2", "-subj", "/CN=thresh test CA")
        run(OPENSSL, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
            "-subj", "/CN=" + AKISMET_HOST)
        run(OPENSSL, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
            "-out", cert, "-days", "2", "-extfile", ext)
        bundle = self.path("etc", "ca-certificates.crt")
        with open(bundle, "w") as out:
            if os.path.exists(SYSTEM_CA_BUNDLE):
                with open(SYSTEM_CA_BUNDLE) as f:
                    out.write(f.read())
            with open(ca) as f:
                out.write("\n" + f.read())
        os.chmod(bundle, 0o644)
        if not os.path.exists(SYSTEM_CA_BUNDLE):
            os.makedirs(os.path.dirname(SYSTEM_CA_BUNDLE), exist_ok=True)
            open(SYSTEM_CA_BUNDLE, "a").close()
        subprocess.run(["mount", "--bind", bundle, SYSTEM_CA_BUNDLE], check=True)
        self.mounts.append(SYSTEM_CA_BUNDLE)
        self.ca = ca
        return cert, key

    def _threshd(self, args):
        d = self.path("threshd")
        os.makedirs(d)
        self.threshd_db = os.path.join(d, "db")
        self.threshd_keys = os.path.join(d, "keys")
        with open(self.threshd_keys, "w") as f:
            f.write("# the Akismet key of the test sites\n%s\n" % AKISMET_KEY)
        os.chmod(self.threshd_keys, 0o600)
        self.threshd_log = os.path.join(d, "requests.log")
        self.threshd_err = os.path.join(d, "threshd.err")
        cert, key = self.tls = self._tls(d)
        env = dict(os.environ)
        env["THRESH_MODEL"] = THRESH_MODEL
        # rest.akismet.com on port 80 and, with a certificate PHP trusts, on
        # 443: Akismet's calls try HTTPS first, its connectivity check uses
        # nothing else.
        self.procs["threshd"] = Proc("threshd", [
            THRESHD, "--db", self.threshd_db, "--create", "--keys", self.threshd_keys,
            "--address", "127.0.0.1", "--port", "80", "--tls-port", "443",
            "--tls-cert", cert, "--tls-key", key, "--threads", "2",
            "--log", self.threshd_log] + list(args), self.threshd_err, env=env)
        wait_for(lambda: self.procs["threshd"].check_alive() and port_open("127.0.0.1", 80)
                 and port_open("127.0.0.1", 443), 60,
                 "threshd on ports 80 and 443", diagnose=lambda: tail(self.threshd_err))

    def start_threshd(self, name, args, keys, port, tls_port):
        """Another threshd, beside the stack's own (which the other test
        programs share, with its one database): THRESHD_BIN with `args`
        (--sites DIR, say), the key file's text `keys`, on 127.0.0.1:`port`
        and HTTPS on `tls_port` with the certificate of rest.akismet.com.
        Akismet reaches it only from a site whose must-use plugin sends
        rest.akismet.com's connections to those ports
        (tests/wordpress/multisite/akismet-route.php). Its logs join the
        stack's. Returns the Threshd; the stack stops it."""
        if name in self.threshds:
            return self.threshds[name]
        t = Threshd(name, self.path("threshd-" + name), port, tls_port)
        os.makedirs(t.dir)
        with open(t.keys, "w") as f:
            f.write(keys)
        os.chmod(t.keys, 0o600)
        if self.tls is None:
            self.tls = self._tls(t.dir)
        cert, key = self.tls
        env = dict(os.environ)
        env["THRESH_MODEL"] = THRESH_MODEL
        self.procs["threshd-" + name] = p = Proc("threshd " + name, [
            THRESHD, "--keys", t.keys, "--address", "127.0.0.1", "--port", str(port),
            "--tls-port", str(tls_port), "--tls-cert", cert, "--tls-key", key, "--threads", "2",
            "--log", t.log] + list(args), t.err, env=env)
        self.threshds[name] = t
        wait_for(lambda: p.check_alive() and port_open("127.0.0.1", port)
                 and port_open("127.0.0.1", tls_port), 60,
                 "threshd %s on ports %d and %d" % (name, port, tls_port),
                 diagnose=lambda: tail(t.err))
        return t

    # ---- sites ----

    def add_sites(self, sites):
        """Several sites at once, [(host, {add_site's keywords}), ...], with
        one start of Apache for all of them. Returns [Site, ...]."""
        out = [self.add_site(host, start_apache=False, **kw) for host, kw in sites]
        self.start_apache()
        return out

    def add_site(self, host, plugins=(), extra_config="", apache_extra="", charset="utf8mb4",
                 start_apache=True, address="127.0.0.1", port=HTTP_PORT, fixed_home=True,
                 mu_plugins=()):
        """A WordPress site at http://HOST:8080 (installed by install()), its
        database in `charset` (utf8mb4, or latin1 for a Latin-1 blog). Apache
        is restarted to serve it, unless start_apache is false (add_sites).

        A site may have an address and port of its own (address="127.0.0.2",
        port=80: http://HOST/, which a multisite network needs: WordPress's
        Network Setup refuses a port other than 80 and 443). fixed_home=False
        leaves WP_HOME and WP_SITEURL out of its configuration (a network's
        sub-sites each have their own home). mu_plugins: files copied into
        its wp-content/mu-plugins besides tests/wordpress/mu-plugins."""
        if host in self.sites:
            raise AssertionError("the stack already has a site %s" % host)
        n = len(self.sites) + 1
        db = "wordpress%d" % n
        user = "wp%d" % n
        password = "pw-%d-%s" % (n, os.urandom(6).hex())
        self.sql("CREATE DATABASE %s CHARACTER SET %s; "
                 "CREATE USER '%s'@'localhost' IDENTIFIED BY '%s'; "
                 "GRANT ALL PRIVILEGES ON %s.* TO '%s'@'localhost';" % (db, charset, user, password, db, user))
        content = self.path("sites", host, "wp-content")
        for sub in ("plugins", "themes", "mu-plugins", "uploads", "languages", "upgrade"):
            os.makedirs(os.path.join(content, sub), exist_ok=True)
        for p in plugins:
            src = p if os.path.isabs(p) else os.path.join(WP_ROOT, "wp-content", "plugins", p)
            os.symlink(src, os.path.join(content, "plugins", os.path.basename(src)))
        os.symlink(os.path.join(WP_ROOT, "wp-content", "themes", "twentytwentyone"),
                   os.path.join(content, "themes", "twentytwentyone"))
        for f in [os.path.join(MU_PLUGINS, f) for f in os.listdir(MU_PLUGINS)] + list(mu_plugins):
            shutil.copy(f, os.path.join(content, "mu-plugins", os.path.basename(f)))
        for sub in ("uploads", "upgrade", "languages"):
            shutil.chown(os.path.join(content, sub), "www-data", "www-data")
        for dirpath in (self.path("sites"), self.path("sites", host), content):
            os.chmod(dirpath, 0o755)
        site = Site(self, host, db, content, address, port)
        site.apache_extra = apache_extra
        open(site.debug_log, "a").close()
        os.chmod(site.debug_log, 0o666)
        conf = """<?php
/* tests/wordpress/stack.py: the configuration of the test site %(host)s,
 * read by Debian's /usr/share/wordpress/wp-config.php from the private
 * /etc/wordpress of the test's mount namespace. */
define('DB_NAME', '%(db)s');
define('DB_USER', '%(user)s');
define('DB_PASSWORD', '%(password)s');
define('DB_HOST', 'localhost:%(socket)s');
define('DB_CHARSET', '%(charset)s');
define('DB_COLLATE', '');
define('WP_CONTENT_DIR', '%(content)s');
define('WP_CONTENT_URL', '%(base)s/wp-content');
%(home)sdefine('WP_DEBUG', true);
define('WP_DEBUG_LOG', '%(debug_log)s');
define('WP_DEBUG_DISPLAY', false);
define('AKISMET_DEBUG', true);       /* Akismet::log(): every API request and answer to WP_DEBUG_LOG */
define('DISABLE_WP_CRON', true);     /* no request of the tests runs WordPress's cron behind their back */
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', false);
define('FS_METHOD', 'direct');
/* A test sends X-Akismet-Test-Mode: 1 to run one request with
 * AKISMET_TEST_MODE, which makes Akismet send is_test=true. */
if (!empty($_SERVER['HTTP_X_AKISMET_TEST_MODE']))
	define('AKISMET_TEST_MODE', true);
define('AUTH_KEY', '%(salt)s-1');
define('SECURE_AUTH_KEY', '%(salt)s-2');
define('LOGGED_IN_KEY', '%(salt)s-3');
define('NONCE_KEY', '%(salt)s-4');
define('AUTH_SALT', '%(salt)s-5');
define('SECURE_AUTH_SALT', '%(salt)s-6');
define('LOGGED_IN_SALT', '%(salt)s-7');
define('NONCE_SALT', '%(salt)s-8');
%(extra)s
""" % {"host": host, "db": db, "user": user, "password": password, "socket": self.socket,
       "content": content, "base": site.base, "debug_log": site.debug_log,
       "salt": os.urandom(16).hex(), "extra": extra_config, "charset": charset,
       "home": "define('WP_HOME', '%s');\ndefine('WP_SITEURL', '%s');\n" % (site.base, site.base)
               if fixed_home else ""}
        cfg = os.path.join(self.wp_etc, "config-%s.php" % host)
        with open(cfg, "w") as f:
            f.write(conf)
        os.chmod(cfg, 0o640)
        shutil.chown(cfg, "root", "www-data")
        self.sites[host] = site
        self._write_hosts()
        if start_apache:
            self.start_apache()
        return site

    # ---- threshd ----

    def metrics(self):
        """threshd's /metrics as {series: value}."""
        return threshd_metrics(80)

    def threshd_stats(self):
        return threshd_stats(80, AKISMET_KEY)

    def threshd_requests(self):
        """The request log's lines."""
        try:
            with open(self.threshd_log, encoding="utf-8", errors="replace") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    # ---- logs ----

    def log_files(self):
        files = [("Apache error log", getattr(self, "apache_error", None)),
                 ("Apache access log", getattr(self, "apache_access", None)),
                 ("PHP errors", getattr(self, "php_errors", None)),
                 ("threshd stderr", getattr(self, "threshd_err", None)),
                 ("threshd request log", getattr(self, "threshd_log", None)),
                 ("MariaDB error log", getattr(self, "mysql_log", None))]
        for t in self.threshds.values():
            files += [("threshd %s stderr" % t.name, t.err), ("threshd %s request log" % t.name, t.log)]
        for site in self.sites.values():
            files.append(("WordPress debug log of %s (Akismet::log)" % site.host, site.debug_log))
        return [(n, p) for n, p in files if p]

    def log_sizes(self):
        out = {}
        for _, p in self.log_files():
            try:
                out[p] = os.path.getsize(p)
            except OSError:
                out[p] = 0
        return out

    def logs(self, since=None, limit=6000):
        """The logs (what was added since `since`, a log_sizes()), for a failure report."""
        out = []
        for name, p in self.log_files():
            try:
                with open(p, "rb") as f:
                    start = (since or {}).get(p, 0)
                    f.seek(0, os.SEEK_END)
                    end = f.tell()
                    if end <= start:
                        continue
                    f.seek(max(start, end - limit))
                    text = f.read().decode("utf-8", "replace")
            except OSError:
                continue
            cut = " (last %d bytes)" % limit if end - start > limit else ""
            out.append("----- %s: %s%s -----\n%s" % (name, p, cut, text.rstrip()))
        return "\n".join(out)

    def save_logs(self, dest):
        os.makedirs(dest, exist_ok=True)
        for name, p in self.log_files():
            if os.path.exists(p):
                shutil.copy(p, os.path.join(dest, os.path.basename(p)))

    # ---- stop ----

    def stop(self):
        problems = []
        if self.sql_session is not None:
            self.sql_session.close()
            self.sql_session = None
        for name in ["apache"] + [n for n in self.procs if n not in ("apache", "mariadb")] + ["mariadb"]:
            p = self.procs.pop(name, None)
            if p is None:
                continue
            try:
                p.stop()
            except Exception as e:
                problems.append("%s: %s" % (name, e))
        for mnt in self.mounts + ["/etc/wordpress", "/etc/hosts"]:
            subprocess.run(["umount", "-l", mnt], capture_output=True)
        self.mounts = []
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        return problems


# ---------------------------------------------------------------------------
# one stack for every test module of a run

SHARED = None   # the Stack that tests/wordpress/run.py started for all the modules


def module_stack(sites, threshd=True):
    """The stack a test module's setUpModule runs on, as (stack, owned):
    run.py's shared one (SHARED), whose sites run.py has added already, or,
    for a module run by itself, a stack of its own started here (with threshd
    when `threshd`) with `sites` ([(host, {add_site's keywords})]) added. A
    module stops only a stack it owns."""
    if SHARED is not None:
        missing = [(h, kw) for h, kw in sites if h not in SHARED.sites]
        if missing:
            SHARED.add_sites(missing)
        return SHARED, False
    s = Stack().start(threshd=threshd)
    try:
        s.add_sites(sites)
    except BaseException:
        print(s.logs(), file=sys.stderr)
        s.stop()
        raise
    return s, True


def setup_failed(s, owned, what, artifacts, error):
    """A module's set-up failed: print and keep the logs, stop the stack if
    the module owns it, and raise an error that says which site's set-up it
    was (run.py goes on with the other modules)."""
    print("\n===== %s failed: the logs =====\n%s" % (what, s.logs()), file=sys.stderr)
    s.save_logs(os.path.join(artifacts, "logs"))
    if owned:
        s.stop()
    if isinstance(error, (KeyboardInterrupt, SystemExit)):
        raise error
    raise AssertionError("%s failed: %s: %s" % (what, type(error).__name__, error)) from error


def unescape_batch(s):
    if "\\" not in s:
        return s
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "0": "\0", "\\": "\\"}.get(
        m.group(1), m.group(1)), s)
