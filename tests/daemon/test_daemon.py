#!/usr/bin/env python3
"""Integration tests of threshd, the scoring daemon, run as its users would.

    THRESH_BIN=build/src/cli/thresh THRESHD_BIN=build/src/daemon/threshd \
        python3 tests/daemon/test_daemon.py [-v] [TestClass[.test_name]]

Every test starts the real threshd on a free loopback port (--port 0: the
daemon binds, then prints the port it got, so no other program can take it
in between) against a real database folder made for the test with the
`thresh` command (init --empty, then train --tsv on a small fixture written
here, so the verdicts are certain). It then talks HTTP to it with curl, with
raw sockets (slow clients, bodies without a length, SIGTERM with a request in
flight) and with two Akismet client libraries from npm:

  @cedx/akismet   takes a base URL and sends the key in the body;
  akismet-api     puts the key in the host name (KEY.localhost:PORT): the
                  node process maps *.localhost to 127.0.0.1 itself.

They live in tests/daemon/node (THRESHD_NODE_DIR); run `npm ci` there first.
Without node or without its node_modules those tests are skipped with a
message saying so. Nothing talks to anything but 127.0.0.1; every wait is
bounded. Python's standard library only (and the curl command).
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
THRESH = os.environ.get("THRESH_BIN", "")
THRESHD = os.environ.get("THRESHD_BIN", "")
NODE_DIR = os.environ.get("THRESHD_NODE_DIR") or os.path.join(HERE, "node")
MAN_PAGE = os.path.join(HERE, "..", "..", "docs", "threshd.8")
CURL = shutil.which("curl")
NODE = shutil.which("node")

KEY = "testkey-0123456789"
KEY2 = "otherkey-abcdef1234"
BAD_KEY = "wrongkey-99999999"

SPAM_WORDS = ["cheap", "pills", "casino", "viagra", "lottery", "winner", "prize", "bitcoin",
              "jackpot", "discount"]
HAM_WORDS = ["lovely", "article", "thanks", "recipe", "garden", "kitten", "weather", "poetry",
             "museum", "violin"]

SPAM_TEXT = "cheap pills casino viagra jackpot"
HAM_TEXT = "lovely garden weather museum thanks"
# Words the fixture has never seen: a neutral comment, until it is learned.
NEW_TEXT = "zebra quartz nimbus falcon"
NEW_VARIANTS = [NEW_TEXT, NEW_TEXT + " orbit", NEW_TEXT + " tundra"]

# The moderation rules the tests run under, written to the database's
# thresh.conf: no rate limit and no first-comment hold (the tests post many
# comments from one address), blatant from 0.85, and one moderation word.
CONF = """rate_limit = 0
first_comment = off
blatant_cutoff = 0.85
moderation_words = rolex
"""

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "WARNING: ThreadSanitizer")

LISTEN_RE = re.compile(r"listening on 127\.0\.0\.1:(\d+)")
METRIC_LINE_RE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*",?)*\})? '
    r'(-?[0-9.]+([eE][-+]?[0-9]+)?|NaN|\+Inf|-Inf)$')


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from fixtures import comments  # noqa: E402  (tests/fixtures.py)


TEMPLATE = None  # a trained database folder, copied for every test


def setUpModule():
    global TEMPLATE
    if not THRESH or not THRESHD:
        raise unittest.SkipTest("set THRESH_BIN and THRESHD_BIN")
    if not CURL:
        raise unittest.SkipTest("curl is not installed")
    TEMPLATE = tempfile.mkdtemp(prefix="threshd-template-")
    tsv = os.path.join(TEMPLATE, "train.tsv")
    with open(tsv, "w", encoding="utf-8") as f:
        for text in comments(SPAM_WORDS, 40, 1):
            f.write("spam\t" + text + "\n")
        for text in comments(HAM_WORDS, 40, 2):
            f.write("ham\t" + text + "\n")
    db = os.path.join(TEMPLATE, "db")
    env = dict(os.environ)
    env["THRESH_MODEL"] = os.path.join(TEMPLATE, "no-such-model.dump")
    subprocess.run([THRESH, "--db", db, "init", "--empty"], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    subprocess.run([THRESH, "--db", db, "train", "--tsv", tsv], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    # A toy model: its scores unsquashed, every reject allowed, and cutoffs for
    # them (the default calibration fits a model of thousands of comments).
    for name, value in (("nb_scale", "4"), ("nb_shift", "0"), ("reject_min_tokens", "0"),
                        ("hold_cutoff", "0.5"), ("reject_cutoff", "0.7")):
        subprocess.run([THRESH, "--db", db, "set", name, value], check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


def tearDownModule():
    if TEMPLATE:
        shutil.rmtree(TEMPLATE, ignore_errors=True)


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-cased names
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "Resp(%d, %r, %r)" % (self.status, self.headers, self.body[:300])


def form(**fields):
    return urllib.parse.urlencode(fields).encode()


def comment_form(content, key=KEY, **extra):
    fields = {"blog": "https://blog.example/", "user_ip": "192.0.2.1",
              "user_agent": "Mozilla/5.0", "comment_type": "comment",
              "comment_content": content}
    if key is not None:
        fields["api_key"] = key
    fields.update(extra)
    return urllib.parse.urlencode(fields).encode()


class Daemon:
    """One threshd process, its stderr in a file."""

    def __init__(self, tmp, db, args=(), keys=(KEY,)):
        self.tmp = tmp
        self.db = db
        self.args = list(args)
        self.keys_path = None
        if keys is not None:
            self.keys_path = os.path.join(tmp, "keys")
            write_keys(self.keys_path, keys)
        self.err_path = os.path.join(tmp, "threshd-%d.err" % id(self))
        self.proc = None
        self.port = None

    def command(self):
        cmd = [THRESHD, "--db", self.db, "--port", "0", "--threads", "2"]
        if self.keys_path:
            cmd += ["--keys", self.keys_path]
        return cmd + self.args

    def start(self):
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=err,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            m = LISTEN_RE.search(self.stderr())
            if m:
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                raise AssertionError("threshd exited with %d: %s" % (self.proc.returncode,
                                                                    self.stderr()))
            time.sleep(0.02)
        raise AssertionError("threshd did not start: " + self.stderr())

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_stderr(self, pattern, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.stderr()):
                return
            time.sleep(0.02)
        raise AssertionError("no %r in threshd's stderr: %s" % (pattern, self.stderr()))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise AssertionError("threshd did not stop on SIGTERM: " + self.stderr())
        return self.proc.returncode if self.proc else None


def write_keys(path, keys):
    with open(path, "w") as f:
        f.write("# threshd test keys\n\n")
        for k in keys:
            f.write("  %s  \n" % k)
    os.chmod(path, 0o600)


class DaemonTest(unittest.TestCase):
    """A fresh folder, a copy of the trained database and, unless the class
    says otherwise, a running threshd with KEY."""

    ARGS = ()
    KEYS = (KEY,)
    START = True
    CONF = CONF

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="threshd-test-")
        self.db = os.path.join(self.tmp, "db")
        shutil.copytree(os.path.join(TEMPLATE, "db"), self.db)
        with open(os.path.join(self.db, "thresh.conf"), "w") as f:
            f.write(self.CONF)
        self.daemons = []
        self.d = self.start_daemon(self.ARGS, self.KEYS) if self.START else None

    def tearDown(self):
        problems = []
        for d in self.daemons:
            try:
                d.stop()
            except AssertionError as e:
                problems.append(str(e))
            # A build with -Db_sanitize=address,undefined reports here.
            err = d.stderr()
            for mark in SANITIZER_MARKS:
                if mark in err:
                    problems.append("threshd's stderr: " + err)
                    break
        shutil.rmtree(self.tmp, ignore_errors=True)
        if problems:
            self.fail("\n".join(problems))

    def start_daemon(self, args=(), keys=(KEY,)):
        d = Daemon(self.tmp, self.db, args, keys)
        self.daemons.append(d)
        return d.start()

    # ---- HTTP through curl ----

    def curl(self, method, path, data=None, headers=(), host=None, d=None, timeout=10):
        d = d or self.d
        hdr = os.path.join(self.tmp, "h.txt")
        body = os.path.join(self.tmp, "b.out")
        args = [CURL, "-sS", "-X", method, "--max-time", str(timeout), "-D", hdr, "-o", body,
                "-w", "%{http_code}", "-H", "Expect:"]
        if data is not None:
            src = os.path.join(self.tmp, "req.body")
            with open(src, "wb") as f:
                f.write(data)
            args += ["--data-binary", "@" + src]
        for h in headers:
            args += ["-H", h]
        if host:
            args += ["-H", "Host: " + host]
        args.append("http://127.0.0.1:%d%s" % (d.port, path))
        p = subprocess.run(args, capture_output=True, timeout=timeout + 10)
        self.assertEqual(p.returncode, 0, "curl failed: %r" % p.stderr)
        status = int(p.stdout.decode())
        with open(hdr, "rb") as f:
            blocks = f.read().decode("latin-1").replace("\r\n", "\n").strip().split("\n\n")
        headers_out = {}
        for line in blocks[-1].split("\n")[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers_out[k.strip().lower()] = v.strip()
        with open(body, "rb") as f:
            return Resp(status, headers_out, f.read())

    def post_form(self, path, data, **kw):
        return self.curl("POST", path, data, **kw)

    def raw_http(self, data, d=None, timeout=5):
        """Bytes as a client sends them, on a connection of their own; the
        reply as a Resp (status 0: closed without one)."""
        d = d or self.d
        with socket.create_connection(("127.0.0.1", d.port), timeout=timeout) as s:
            try:
                s.sendall(data)
            except OSError:
                pass
            out = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    out += chunk
                    head, sep, body = out.partition(b"\r\n\r\n")
                    m = re.search(rb"(?im)^content-length: *(\d+)", head)
                    if sep and m and len(body) >= int(m.group(1)):
                        break
            except (ConnectionResetError, socket.timeout):
                pass
        if not out.startswith(b"HTTP/1."):
            return Resp(0, {}, out)
        head, _, body = out.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        return Resp(int(lines[0].split(" ", 2)[1]), headers, body)

    def assert_refused_by_length(self, path, data):
        """A form over the body limit: threshd answers 413 as soon as the
        length is known and closes, so a client still sending may see the
        connection reset (curl 55/56) instead of the answer; either is a
        refusal, nothing else is."""
        try:
            r = self.post_form(path, data)
        except AssertionError as e:
            self.assertRegex(str(e), r"curl failed: .*\((55|56)\)", e)
            return
        self.assertEqual(r.status, 413, r)

    def post_json(self, path, obj, key=KEY, raw=None, headers=(), **kw):
        data = raw if raw is not None else json.dumps(obj).encode()
        h = ["Content-Type: application/json"] + list(headers)
        if key:
            h.append("Authorization: Bearer " + key)
        return self.curl("POST", path, data, headers=h, **kw)

    def check(self, content, d=None, **kw):
        return self.post_form("/1.1/comment-check", comment_form(content, **kw), d=d)

    def stats(self, d=None):
        r = self.curl("GET", "/v1/stats", headers=["Authorization: Bearer " + KEY], d=d)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def assert_error(self, r, status, code, field=None, akismet=False):
        self.assertEqual(r.status, status, r)
        self.assertTrue(r.headers.get("content-type", "").startswith("application/json"), r)
        body = r.json()
        self.assertEqual(body["error"], code, r)
        self.assertTrue(body["message"], r)
        if field is not None:
            self.assertEqual(body.get("field"), field, r)
        if akismet:
            self.assertTrue(r.headers.get("x-akismet-debug-help"), r)
        return body


# ---------------------------------------------------------------------------
class CommandLineTest(DaemonTest):
    START = False

    def run_threshd(self, *args, timeout=20):
        p = subprocess.run([THRESHD] + list(args), capture_output=True, text=True,
                           timeout=timeout)
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, p.stderr)
        return p

    def help_options(self):
        p = self.run_threshd("--help")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("usage: threshd"), p.stdout)
        opts = re.findall(r"(?m)^\s+(?:-\w, )?--([a-z][a-z-]*)( [A-Z]+)?", p.stdout)
        self.assertGreater(len(opts), 10, p.stdout)
        return p.stdout, opts

    def test_help_is_truthful(self):
        """Every option --help lists is accepted (with a value where it shows
        one), and the man page documents every one of them."""
        _, opts = self.help_options()
        keys = os.path.join(self.tmp, "k")
        write_keys(keys, [KEY])
        values = {"db": self.db, "config": os.path.join(self.db, "thresh.conf"),
                  "address": "127.0.0.1", "port": "0", "threads": "1", "keys": keys,
                  "body-limit": "1K", "akismet-body-limit": "1M", "timeout": "1",
                  "shutdown-timeout": "1", "max-connections": "10", "log": "-",
                  "header-timeout": "1", "max-connections-per-ip": "2", "body-budget": "64M",
                  "tls-port": "0", "tls-cert": "/nonexistent.pem", "tls-key": "/nonexistent.pem",
                  "redis": "unix:/nonexistent/redis.sock", "node": "n1", "nodes": "2",
                  "sites": os.path.join(self.tmp, "sites")}
        for name, arg in opts:
            args = ["--" + name] + ([values[name]] if arg else [])
            if name in ("help", "version"):
                args = ["--" + name]
            p = self.run_threshd(*(args + ["--help"]))
            self.assertEqual(p.returncode, 0, "threshd %s --help: %s" % (args, p.stderr))
        if os.path.exists(MAN_PAGE):
            with open(MAN_PAGE, encoding="utf-8") as f:
                man = f.read().replace("\\-", "-")
            for name, _ in opts:
                self.assertIn("--" + name, man, "threshd(8) does not document --" + name)

    def test_version(self):
        p = self.run_threshd("--version")
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r"^threshd \d+\.\d+\.\d+ \(libthresh \d+\.\d+\.\d+, "
                                   r"libmicrohttpd [0-9.]+\)\n$")

    def test_usage_errors(self):
        for args, what in [(["--frobnicate"], "unknown option"),
                           (["--port"], "needs a value"),
                           (["--port", "70000"], "--port 70000"),
                           (["--threads", "0"], "--threads 0"),
                           (["--body-limit", "12Q"], "--body-limit"),
                           (["--timeout", "-1"], "--timeout"),
                           (["stray"], "unexpected argument")]:
            p = self.run_threshd(*args)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(what, p.stderr)
            self.assertIn("--help", p.stderr)

    def test_refuses_public_address_without_keys(self):
        p = self.run_threshd("--db", self.db, "--address", "0.0.0.0", "--port", "0")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("refusing to listen on 0.0.0.0 without API keys", p.stderr)
        self.assertIn("--keys", p.stderr)

    def test_bad_address(self):
        p = self.run_threshd("--db", self.db, "--address", "localhost.example", "--port", "0")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("literal IPv4 or IPv6 address", p.stderr)

    def test_bad_key_file(self):
        keys = os.path.join(self.tmp, "keys")
        for content, what in [("short\n", "8 to 256 characters"),
                              ("has space inside\n", "only letters"),
                              ("# only a comment\n\n", "no key")]:
            with open(keys, "w") as f:
                f.write(content)
            p = self.run_threshd("--db", self.db, "--port", "0", "--keys", keys)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(what, p.stderr)
            self.assertNotIn("has space inside", p.stderr)
        p = self.run_threshd("--db", self.db, "--port", "0", "--keys",
                             os.path.join(self.tmp, "missing"))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("No such file", p.stderr)

    def test_key_file_writable_by_others_is_refused(self):
        """Whoever may write the key file may add a key: a file its group or
        other users may write stops the start; a readable one is a warning."""
        keys = os.path.join(self.tmp, "keys")
        write_keys(keys, [KEY])
        for mode, who in [(0o620, "its group"), (0o602, "every user"),
                          (0o666, "its group and every user"), (0o660, "its group")]:
            os.chmod(keys, mode)
            p = self.run_threshd("--db", self.db, "--port", "0", "--keys", keys)
            self.assertEqual(p.returncode, 2, (oct(mode), p.stderr))
            self.assertIn("writable by %s (mode %04o)" % (who, mode), p.stderr)
            self.assertIn("chmod go-w", p.stderr)
            self.assertNotIn(KEY, p.stderr)
        os.chmod(keys, 0o640)
        d = Daemon(self.tmp, self.db, keys=None, args=["--keys", keys])
        self.daemons.append(d)
        d.start()
        self.assertNotIn("warning", d.stderr())
        d.stop()
        os.chmod(keys, 0o644)
        d = Daemon(self.tmp, self.db, keys=None, args=["--keys", keys])
        self.daemons.append(d)
        d.start()
        self.assertIn("readable by every user", d.stderr())

    def test_body_budget_must_hold_a_body(self):
        p = self.run_threshd("--db", self.db, "--port", "0", "--body-budget", "1M")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--akismet-body-limit 1048576", p.stderr)
        p = self.run_threshd("--db", self.db, "--port", "0", "--body-budget", "5000M")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--body-budget 5000M", p.stderr)
        for args in (["--header-timeout", "-1"], ["--max-connections-per-ip", "x"]):
            p = self.run_threshd(*args)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(args[0], p.stderr)

    def test_missing_database(self):
        p = self.run_threshd("--db", os.path.join(self.tmp, "nodb"), "--port", "0")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("--create", p.stderr)

    def test_port_in_use(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        try:
            port = s.getsockname()[1]
            p = self.run_threshd("--db", self.db, "--port", str(port))
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn("cannot listen on 127.0.0.1 port %d" % port, p.stderr)
        finally:
            s.close()

    def test_conf_section(self):
        """[threshd] in thresh.conf sets what a flag did not; unknown keys and
        bad values stop the start."""
        with open(os.path.join(self.db, "thresh.conf"), "a") as f:
            f.write("\n[threshd]\nhold_as_spam = no\ntimeout = 7\n")
        d = self.start_daemon()
        r = self.check("rolex " + HAM_TEXT, d=d)
        self.assertEqual((r.status, r.text, r.headers.get("x-thresh-verdict")),
                         (200, "false", "hold"))
        d.stop()
        d2 = self.start_daemon(["--hold-as-spam"])
        r = self.check("rolex " + HAM_TEXT, d=d2)
        self.assertEqual((r.text, r.headers.get("x-thresh-verdict")), ("true", "hold"))
        d2.stop()
        # (--port 0 overrides port, but a bad value is still an error)
        for extra, what in [("bogus = 1\n", 'unknown key "bogus"'),
                            ("port = many\n", "port = many: expected"),
                            ("hold_as_spam = maybe\n", "expected yes or no")]:
            with open(os.path.join(self.db, "thresh.conf"), "w") as f:
                f.write(CONF + "\n[threshd]\n" + extra)
            p = self.run_threshd("--db", self.db, "--port", "0")
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(what, p.stderr)


# ---------------------------------------------------------------------------
class AkismetTest(DaemonTest):

    def test_verify_key(self):
        r = self.post_form("/1.1/verify-key", form(key=KEY, blog="https://blog.example/"))
        self.assertEqual((r.status, r.text), (200, "valid"))
        r = self.post_form("/1.1/verify-key", form(api_key=KEY, blog="https://blog.example/"))
        self.assertEqual(r.text, "valid")
        r = self.post_form("/1.1/verify-key", form(key=BAD_KEY, blog="https://blog.example/"))
        self.assertEqual((r.status, r.text), (200, "invalid"))
        self.assertTrue(r.headers.get("x-akismet-debug-help"))
        r = self.post_form("/1.1/verify-key", form(blog="https://blog.example/"))
        self.assertEqual(r.text, "invalid")
        # A key that differs in its last character only, and one that is a prefix.
        for k in (KEY[:-1] + "X", KEY[:-1], KEY + "0"):
            r = self.post_form("/1.1/verify-key", form(key=k))
            self.assertEqual(r.text, "invalid", k)

    def test_spam_and_ham(self):
        r = self.check(SPAM_TEXT)
        self.assertEqual((r.status, r.text), (200, "true"))
        self.assertEqual(r.headers["x-thresh-verdict"], "reject")
        self.assertGreater(float(r.headers["x-thresh-score"]), 0.85)
        self.assertIn("bayes", r.headers["x-thresh-reasons"])
        self.assertEqual(r.headers.get("x-akismet-pro-tip"), "discard")
        self.assertTrue(r.headers["content-type"].startswith("text/plain"))
        r = self.check(HAM_TEXT)
        self.assertEqual((r.status, r.text), (200, "false"))
        self.assertEqual(r.headers["x-thresh-verdict"], "accept")
        self.assertLess(float(r.headers["x-thresh-score"]), 0.3)
        self.assertNotIn("x-akismet-pro-tip", r.headers)
        self.assertNotIn("x-thresh-reasons", r.headers)

    def test_key_in_host_name(self):
        data = comment_form(SPAM_TEXT, key=None)
        r = self.post_form("/1.1/comment-check", data, host="%s.localhost:%d" % (KEY, self.d.port))
        self.assertEqual(r.text, "true")
        # Host names may reach us lower-cased: the label compares without case.
        r = self.post_form("/1.1/comment-check", data,
                           host="%s.rest.example" % KEY.upper())
        self.assertEqual(r.text, "true")
        r = self.post_form("/1.1/comment-check", data, host="%s.localhost" % BAD_KEY)
        self.assertEqual(r.text, "invalid")
        # No key anywhere: a bare host or an IP literal names none.
        for host in ("localhost", "127.0.0.1:%d" % self.d.port, "[::1]:8707"):
            r = self.post_form("/1.1/comment-check", data, host=host)
            self.assertEqual(r.text, "invalid", host)
            self.assertIn("no API key", r.headers["x-akismet-debug-help"])
        # A key in the body wins over the host's label.
        r = self.post_form("/1.1/comment-check", comment_form(SPAM_TEXT),
                           host="%s.localhost" % BAD_KEY)
        self.assertEqual(r.text, "true")

    def test_bad_key_refused_and_nothing_learned(self):
        before = self.stats()
        for path in ("/1.1/comment-check", "/1.1/submit-spam", "/1.1/submit-ham"):
            r = self.post_form(path, comment_form(SPAM_TEXT, key=BAD_KEY))
            self.assertEqual((r.status, r.text), (200, "invalid"), path)
            self.assertEqual(r.headers["x-akismet-debug-help"], "the API key is not valid")
        self.assertEqual(self.stats()["spam_messages"], before["spam_messages"])
        self.assertEqual(self.stats()["ham_messages"], before["ham_messages"])

    def test_submits_change_later_verdicts(self):
        r = self.check(NEW_TEXT)
        self.assertEqual((r.text, r.headers["x-thresh-verdict"]), ("false", "accept"))
        before = self.stats()
        for text in NEW_VARIANTS:
            r = self.post_form("/1.1/submit-spam", comment_form(text))
            self.assertEqual((r.status, r.text), (200, "Thanks for making the web a better place."))
            self.assertEqual(r.headers["x-thresh-learned"], "learned")
        r = self.post_form("/1.1/submit-spam", comment_form(NEW_TEXT))
        self.assertEqual(r.headers["x-thresh-learned"], "duplicate")
        self.assertEqual(self.stats()["spam_messages"], before["spam_messages"] + 3)
        r = self.check(NEW_TEXT)
        self.assertEqual((r.text, r.headers["x-thresh-verdict"]), ("true", "reject"))
        for text in NEW_VARIANTS:
            r = self.post_form("/1.1/submit-ham", comment_form(text))
            self.assertEqual(r.headers["x-thresh-learned"], "moved")
        st = self.stats()
        self.assertEqual((st["spam_messages"], st["ham_messages"]),
                         (before["spam_messages"], before["ham_messages"] + 3))
        r = self.check(NEW_TEXT)
        self.assertEqual((r.text, r.headers["x-thresh-verdict"]), ("false", "accept"))

    def test_hold_is_not_spam_by_default(self):
        r = self.check("rolex " + HAM_TEXT)
        self.assertEqual((r.text, r.headers["x-thresh-verdict"]), ("false", "hold"))
        self.assertIn("moderation_word", r.headers["x-thresh-reasons"])
        self.assertNotIn("x-akismet-pro-tip", r.headers)
        d = self.start_daemon(["--hold-as-spam"])
        r = self.post_form("/1.1/comment-check", comment_form("rolex " + HAM_TEXT), d=d)
        self.assertEqual((r.text, r.headers["x-thresh-verdict"]), ("true", "hold"))

    def test_honeypot_field_name(self):
        r = self.check(HAM_TEXT, honeypot_field_name="hp_website", hp_website="http://x.example")
        self.assertEqual((r.text, r.headers["x-thresh-verdict"]), ("true", "reject"))
        self.assertIn("honeypot", r.headers["x-thresh-reasons"])
        self.assertEqual(r.headers.get("x-akismet-pro-tip"), "discard")
        r = self.check(HAM_TEXT, honeypot_field_name="hp_website", hp_website="")
        self.assertEqual((r.text, r.headers["x-thresh-verdict"]), ("false", "accept"))
        # The named field absent: no honeypot value.
        r = self.check(HAM_TEXT, honeypot_field_name="hp_website")
        self.assertEqual(r.text, "false")

    def test_ignored_akismet_fields(self):
        r = self.check(HAM_TEXT, blog_charset="UTF-8", blog_lang="en, fr_ca", is_test="1",
                       user_role="administrator", recheck_reason="edit",
                       comment_date_gmt="2024-01-01T00:00:00Z",
                       comment_post_modified_gmt="2024-01-01T00:00:00Z",
                       referrer="https://www.example/", permalink="https://blog.example/p/1",
                       comment_author="Ann", comment_author_email="ann@example.org",
                       comment_author_url="https://ann.example/",
                       **{"comment_context[0]": "cooking", "something_else": "x"})
        self.assertEqual((r.status, r.text), (200, "false"))

    def test_usage_limit(self):
        for _ in range(3):
            self.check(HAM_TEXT)
        r = self.curl("GET", "/1.2/usage-limit?api_key=" + KEY)
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["limit"], "none")
        self.assertEqual(body["usage"], 3)
        self.assertEqual(body["throttled"], False)
        r = self.curl("GET", "/1.2/usage-limit?api_key=" + BAD_KEY)
        self.assertEqual(r.text, "invalid")
        r = self.curl("GET", "/1.2/usage-limit", host="%s.localhost" % KEY)
        self.assertEqual(r.status, 200)


class RateLimitTest(DaemonTest):
    """The library's moderation shows through the same result getters:
    retry_after becomes Retry-After, the reason rate_limited."""
    CONF = CONF.replace("rate_limit = 0", "rate_limit = 1\nrate_period = 60\nrate_burst = 1")

    def test_rate_limited(self):
        first = self.check(HAM_TEXT, comment_author_email="fast@example.org")
        self.assertEqual(first.text, "false")
        second = self.check(HAM_TEXT + " again", comment_author_email="fast@example.org")
        self.assertEqual(second.headers["x-thresh-verdict"], "reject", second)
        self.assertIn("rate_limited", second.headers["x-thresh-reasons"])
        self.assertGreater(float(second.headers["x-thresh-retry-after"]), 0)
        self.assertGreaterEqual(int(second.headers["retry-after"]), 1)
        # printf's "%.6f", "%.3f" and "%.0f"; reasons joined by ", "
        self.assertRegex(second.headers["x-thresh-score"], r"^[01]\.[0-9]{6}$")
        self.assertRegex(second.headers["x-thresh-retry-after"], r"^[0-9]+\.[0-9]{3}$")
        self.assertRegex(second.headers["retry-after"], r"^[1-9][0-9]*$")
        self.assertRegex(second.headers["x-thresh-reasons"], r"^[a-z_]+(, [a-z_]+)*$")
        j = self.post_json("/v1/check", {"content": HAM_TEXT, "email": "fast@example.org"})
        self.assertIn("rate_limited", j.json()["reasons"])
        self.assertGreater(j.json()["retry_after"], 0)
        # dry_run: the rules, without touching the rate-limit state.
        j = self.post_json("/v1/check", {"content": HAM_TEXT, "email": "slow@example.org",
                                         "dry_run": True})
        j = self.post_json("/v1/check", {"content": HAM_TEXT, "email": "slow@example.org"})
        self.assertEqual(j.json()["verdict"], "accept", j)


# ---------------------------------------------------------------------------
class ErrorTest(DaemonTest):
    """Every error: the status, a JSON body naming the problem, Akismet's
    debug header on Akismet's routes; and none of it changes stored data."""

    def setUp(self):
        super().setUp()
        self.before = self.stats()

    def tearDown(self):
        try:
            after = self.stats()
            for k in ("spam_messages", "ham_messages", "learned", "tokens"):
                self.assertEqual(after[k], self.before[k], k)
        finally:
            super().tearDown()

    def test_413_by_content_length(self):
        # Akismet's routes take a WordPress comment of 64 KB twice (1 MiB by
        # default); the JSON API keeps --body-limit (64 KiB).
        # (only the headers: threshd answers a too-long Content-Length before
        # the body and closes, and a client still sending a large body may
        # see the connection reset instead of the answer)
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=10) as s:
            s.sendall(b"POST /1.1/submit-spam HTTP/1.1\r\nHost: x\r\nContent-Type: "
                      b"application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % (1100 * 1024))
            data = b""
            while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        self.assertIn(b" 413 ", data.split(b"\r\n")[0], data)
        self.assertIn(b"body_too_large", data)
        self.assertIn(b"X-akismet-debug-help", data)
        r = self.post_json("/v1/learn", None, raw=b'{"label":"spam","content":"' + b"b" * 70000 + b'"}')
        self.assert_error(r, 413, "body_too_large")
        # Just under the limit is read; just over is not.
        d = self.start_daemon(["--akismet-body-limit", "1K"])
        body = comment_form("x")
        pad = b"&pad=" + b"p" * (1024 - len(body) - 5)
        self.assertEqual(len(body + pad), 1024)
        r = self.post_form("/1.1/comment-check", body + pad, d=d)
        self.assertEqual(r.status, 200, r)
        r = self.post_form("/1.1/comment-check", body + pad + b"p", d=d)
        self.assert_error(r, 413, "body_too_large", akismet=True)
        self.assertIn("1024 bytes", r.json()["message"])

    def test_413_while_reading(self):
        """A body without a length (chunked) is counted as it arrives."""
        r = self.curl("POST", "/1.1/submit-spam", comment_form("c" * (1100 * 1024)),
                      headers=["Transfer-Encoding: chunked"])
        self.assert_error(r, 413, "body_too_large", akismet=True)
        # Far past the limit the connection is simply closed.
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=10) as s:
            s.sendall(b"POST /v1/check HTTP/1.1\r\nHost: x\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")
            chunk = b"%x\r\n%s\r\n" % (65536, b"z" * 65536)
            closed = False
            try:
                for _ in range(64):
                    s.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                closed = True
            if not closed:
                s.settimeout(10)
                try:
                    data = s.recv(65536)
                    closed = data == b"" or b" 413 " in data
                except (ConnectionResetError, socket.timeout):
                    closed = True
            self.assertTrue(closed)
        self.assertEqual(self.curl("GET", "/healthz").status, 200)

    def test_akismet_takes_malformed_forms(self):
        """Akismet's routes refuse nothing a commenter controls: a bad escape
        is text as written, a field without a name is left out, fields past
        256 are left out but for the ones threshd reads (api_key comes last
        from WordPress)."""
        for data in (b"blog=x&user_ip=1.2.3.4&comment_content=%zz",
                     b"blog=x&user_ip=1.2.3.4&comment_content=50%",
                     b"=value&blog=x", b"blog=x&&=&comment_content=a%"):
            r = self.post_form("/1.1/comment-check", data + b"&api_key=" + KEY.encode())
            self.assertEqual((r.status, r.text), (200, "false"), (data, r))
        many = comment_form(HAM_TEXT, key=None) + b"&" + b"&".join(b"POST_f%d=1" % i for i in range(300))
        r = self.post_form("/1.1/comment-check", many + b"&api_key=" + KEY.encode())
        self.assertEqual((r.status, r.text), (200, "false"), r)
        r = self.post_form("/1.1/comment-check", comment_form(SPAM_TEXT, key=None) + b"&" +
                           b"&".join(b"HTTP_X_%d=1" % i for i in range(300)) + b"&api_key=" + KEY.encode())
        self.assertEqual(r.text, "true", "the content before 300 fields still counts")
        m = self.curl("GET", "/metrics").text
        self.assertRegex(m, r'threshd_akismet_fields_total\{fate="dropped"\} [1-9]')
        # The JSON API stays strict.
        r = self.post_json("/v1/check", None, raw=b'{"content":"x",}')
        self.assert_error(r, 400, "malformed_json")

    def test_akismet_repairs_text_the_json_api_refuses(self):
        # Invalid UTF-8 in a field threshd reads is repaired (U+FFFD); in
        # one it ignores (a forwarded header), ignored; a NUL byte too.
        for extra in (b"&comment_author=%FF%FE", b"&HTTP_X_JUNK=%FF%FE", b"&blog_charset=%C0%AF",
                      b"&comment_author=a%00b", b"&POST_comment=%00%FF"):
            r = self.post_form("/1.1/comment-check", comment_form(HAM_TEXT) + extra)
            self.assertEqual((r.status, r.text), (200, "false"), (extra, r))
        m = self.curl("GET", "/metrics").text
        self.assertRegex(m, r'threshd_akismet_fields_total\{fate="repaired"\} [1-9]')
        r = self.post_json("/v1/check", None, raw=b'{"content":"caf\xe9"}')
        self.assert_error(r, 400, "invalid_utf8")
        r = self.post_json("/v1/learn", {"label": "spam", "content": "a\u0000b"})
        self.assert_error(r, 400, "nul_byte", field="content")

    def test_400_missing_fields(self):
        # blog is the site's own address, which no commenter controls: an
        # Akismet client that leaves it out is told so. user_ip is not
        # required (WordPress's imported comments have none).
        base = {"blog": "https://blog.example/", "user_ip": "192.0.2.1",
                "comment_content": "x", "api_key": KEY}
        fields = dict(base)
        del fields["blog"]
        for path in ("/1.1/comment-check", "/1.1/submit-spam", "/1.1/submit-ham"):
            r = self.post_form(path, urllib.parse.urlencode(fields).encode())
            body = self.assert_error(r, 400, "missing_field", field="blog", akismet=True)
            self.assertIn("blog", body["message"])
        fields = dict(base, user_ip="")
        r = self.post_form("/1.1/comment-check", urllib.parse.urlencode(fields).encode())
        self.assertEqual((r.status, r.text), (200, "false"))
        r = self.post_form("/1.1/comment-check", b"")
        self.assertEqual(r.text, "invalid")  # no key comes before no fields
        r = self.post_json("/v1/check", {"user_agent": "x", "ip": "192.0.2.1"})
        self.assert_error(r, 400, "missing_field", field="content")
        r = self.post_json("/v1/learn", {"content": "x"})
        self.assert_error(r, 400, "missing_field", field="label")
        r = self.post_json("/v1/learn", {"content": None, "label": "spam"})
        self.assert_error(r, 400, "missing_field", field="content")

    def test_400_bad_fields(self):
        # Akismet's routes: a long field is cut to the library's limit, the
        # first of duplicate fields counts, the first of two names too.
        r = self.post_form("/1.1/comment-check", comment_form("x", comment_author="a" * 5000))
        self.assertEqual((r.status, r.text), (200, "false"), r)
        r = self.post_form("/1.1/comment-check", comment_form(HAM_TEXT) + b"&comment_content=" +
                           SPAM_TEXT.replace(" ", "+").encode())
        self.assertEqual(r.text, "false", "the first comment_content counts")
        r = self.post_form("/1.1/comment-check",
                           comment_form("x", referrer="https://a.example/",
                                        referer="https://b.example/"))
        self.assertEqual(r.status, 200)
        r = self.post_form("/1.1/comment-check", comment_form("x") + b"&api_key=" + BAD_KEY.encode())
        self.assertEqual(r.text, "false", "the first api_key counts")
        m = self.curl("GET", "/metrics").text
        self.assertRegex(m, r'threshd_akismet_fields_total\{fate="truncated"\} [1-9]')
        for obj, code, field in [({"content": "x", "colour": "red"}, "unknown_field", "colour"),
                                 ({"content": "x", "content ": "y"}, "unknown_field", "content "),
                                 ({"content": "x", "comment_content": "y"}, "duplicate_field",
                                  "comment_content"),
                                 ({"content": ["x"]}, "bad_field", "content"),
                                 ({"content": "x", "form_age": "soon"}, "bad_field", "form_age"),
                                 ({"content": "x", "explain": "yes"}, "bad_field", "explain"),
                                 ({"content": "x" * 70000}, None, None)]:
            r = self.post_json("/v1/check", obj)
            if code is None:
                self.assert_error(r, 413, "body_too_large")
                continue
            self.assert_error(r, 400, code, field=field)
        r = self.post_json("/v1/learn", {"content": "x", "label": "eggs"})
        self.assert_error(r, 400, "bad_field", field="label")
        r = self.post_json("/v1/check", None, raw=b'{"content":"x","content":"y"}')
        self.assert_error(r, 400, "duplicate_field", field="content")

    def test_400_malformed_json(self):
        for raw in (b"", b"[1,2]", b'{"content":"x"', b'{"content":"x"} trailing',
                    b"{'content':'x'}", b'{"content":"\\ud800"}', b'{"content":01}'):
            r = self.post_json("/v1/check", None, raw=raw)
            body = self.assert_error(r, 400, "malformed_json")
            self.assertIn("malformed JSON", body["message"])
            self.assertNotIn("x-akismet-debug-help", r.headers)

    def test_415_wrong_content_type(self):
        r = self.post_form("/1.1/comment-check", comment_form("x"),
                           headers=["Content-Type: application/json"])
        self.assert_error(r, 415, "unsupported_media_type", akismet=True)
        r = self.curl("POST", "/v1/check", b'{"content":"x"}',
                      headers=["Content-Type: text/plain", "Authorization: Bearer " + KEY])
        self.assert_error(r, 415, "unsupported_media_type")
        # No Content-Type at all is taken as the endpoint's own.
        r = self.post_form("/1.1/comment-check", comment_form(HAM_TEXT), headers=["Content-Type:"])
        self.assertEqual(r.text, "false")
        r = self.post_form("/1.1/comment-check", comment_form(HAM_TEXT),
                           headers=["Content-Type: application/x-www-form-urlencoded; charset=UTF-8"])
        self.assertEqual(r.text, "false")

    def test_404(self):
        for method, path in [("GET", "/"), ("GET", "/1.1/comment-checkx"), ("POST", "/v2/check"),
                             ("GET", "/metrics/"), ("DELETE", "/nothing")]:
            data = comment_form("x") if method == "POST" else None
            r = self.curl(method, path, data)
            body = self.assert_error(r, 404, "not_found")
            self.assertIn(path, body["message"])

    def test_405(self):
        for method, path, allow in [("GET", "/1.1/comment-check", "POST"),
                                    ("PUT", "/1.1/submit-spam", "POST"),
                                    ("POST", "/healthz", "GET, HEAD"),
                                    ("DELETE", "/v1/check", "POST"),
                                    ("POST", "/1.2/usage-limit", "GET, HEAD"),
                                    ("POST", "/metrics", "GET, HEAD")]:
            data = comment_form("x") if method in ("POST", "PUT") else None
            r = self.curl(method, path, data)
            self.assert_error(r, 405, "method_not_allowed")
            self.assertEqual(r.headers.get("allow"), allow, (method, path))

    def test_401(self):
        for path in ("/v1/check", "/v1/learn", "/v1/unlearn"):
            obj = {"content": SPAM_TEXT, "label": "spam"}
            r = self.post_json(path, obj, key=None)
            self.assert_error(r, 401, "unauthorized")
            self.assertEqual(r.headers.get("www-authenticate"), 'Bearer realm="threshd"')
            r = self.post_json(path, obj, key=BAD_KEY)
            body = self.assert_error(r, 401, "unauthorized")
            self.assertNotIn(BAD_KEY, json.dumps(body))
        r = self.curl("GET", "/v1/stats")
        self.assert_error(r, 401, "unauthorized")
        r = self.curl("GET", "/v1/stats", headers=["Authorization: Basic " + KEY])
        self.assert_error(r, 401, "unauthorized")

    def test_bad_requests_change_nothing(self):
        """Learning requests refused for any reason store nothing (checked by
        tearDown, like every test here); nor does Akismet's test mode."""
        for path in ("/1.1/submit-spam", "/1.1/submit-ham"):
            self.post_form(path, comment_form(SPAM_TEXT, key=BAD_KEY))
            self.post_form(path, comment_form(SPAM_TEXT, blog=""))
            self.post_form(path, comment_form(SPAM_TEXT), headers=["Content-Type: text/plain"])
            self.assert_refused_by_length(path, comment_form("a" * (1100 * 1024)))
            r = self.post_form(path, comment_form(SPAM_TEXT, is_test="1"))
            self.assertEqual((r.status, r.headers.get("x-thresh-learned")), (200, "test"), r)
        for path in ("/v1/learn", "/v1/unlearn"):
            self.post_json(path, {"content": SPAM_TEXT, "label": "spam"}, key=BAD_KEY)
            self.post_json(path, {"content": SPAM_TEXT, "label": "spam", "bogus": 1})
            self.post_json(path, None, raw=b'{"content": "x", "label": "spam"')


# ---------------------------------------------------------------------------
class JsonApiTest(DaemonTest):

    def test_check(self):
        r = self.post_json("/v1/check", {"content": SPAM_TEXT, "author": "Bob"})
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["verdict"], "reject")
        self.assertTrue(body["blatant"])
        self.assertIn("bayes", body["reasons"])
        self.assertEqual(body["retry_after"], 0)
        self.assertNotIn("tokens", body)
        r = self.post_json("/v1/check", {"comment_content": HAM_TEXT, "lang": None,
                                         "form_age": 30, "explain": True})
        body = r.json()
        self.assertEqual(body["verdict"], "accept")
        self.assertLess(body["score"], 0.3)
        self.assertGreater(len(body["tokens"]), 0)
        tok = body["tokens"][0]
        self.assertEqual(set(tok), {"token", "prob", "spam", "ham"})
        self.assertLess(tok["prob"], 0.5)
        # A body near the 64 KiB limit arrives in pieces and is read whole.
        big = " ".join([HAM_TEXT] * 1800)[:60000]
        r = self.post_json("/v1/check", {"content": big})
        self.assertEqual((r.status, r.json()["verdict"]), (200, "accept"), r)
        r = self.check(big[:20000])
        self.assertEqual((r.status, r.text), (200, "false"), r)
        # A check may carry a training record's label; it is ignored.
        r = self.post_json("/v1/check", {"content": HAM_TEXT, "label": "spam"})
        self.assertEqual(r.json()["verdict"], "accept")

    def test_explain_shows_no_identity(self):
        # issue 18: an explanation showed "author:jane q. doe" and
        # "ip24:203.0.113"; identity tokens are named by kind alone now.
        who = {"author": "Jane Q. Doe", "email": "jane@mailbox.example",
               "url": "https://jane.example.net/", "user_ip": "203.0.113.7"}
        for i in range(6):
            r = self.post_json("/v1/learn", dict(who, label="spam", content="%s %d" % (NEW_TEXT, i)))
            self.assertEqual(r.status, 200, r)
        body = self.post_json("/v1/check", dict(who, content=HAM_TEXT, explain=True)).json()
        texts = [t["token"] for t in body["tokens"]]
        for value in ("jane", "doe", "203.0.113", "mailbox", "example.net"):
            self.assertFalse([t for t in texts if value in t.lower()], (value, texts))
        self.assertTrue({"author:\u2026", "ip24:\u2026"} <= set(texts), texts)

    def test_learn_and_unlearn(self):
        learn = {"label": "spam", "content": NEW_TEXT}
        self.assertEqual(self.post_json("/v1/learn", learn).json(),
                         {"learned": 1, "duplicates": 0, "moved": 0})
        self.assertEqual(self.post_json("/v1/learn", learn).json(),
                         {"learned": 0, "duplicates": 1, "moved": 0})
        self.assertEqual(self.post_json("/v1/learn", dict(learn, label="ham")).json(),
                         {"learned": 0, "duplicates": 0, "moved": 1})
        self.assertEqual(self.post_json("/v1/unlearn", learn).json(),
                         {"unlearned": 0, "not_found": 1})
        self.assertEqual(self.post_json("/v1/unlearn", dict(learn, label="ham")).json(),
                         {"unlearned": 1, "not_found": 0})
        for text in NEW_VARIANTS:
            self.post_json("/v1/learn", {"label": "spam", "content": text})
        self.assertEqual(self.post_json("/v1/check", {"content": NEW_TEXT}).json()["verdict"],
                         "reject")

    def test_stats_healthz_metrics(self):
        st = self.stats()
        self.assertEqual((st["spam_messages"], st["ham_messages"]), (40, 40))
        for k in ("version", "format_version", "tokens", "learned", "map_size", "used_bytes",
                  "params", "checks", "uptime_seconds"):
            self.assertIn(k, st)
        self.assertIn("reject_cutoff", st["params"])
        self.assertEqual(st["params"]["blatant_cutoff"], 0.85)  # thresh.conf's override
        # the cutoffs and calibration in force and where they came from: the
        # template pinned them with thresh set; 80 decisions are on record
        c, cal = st["cutoffs"], st["calibration"]
        self.assertEqual((c["hold"], c["hold_from"], c["reject"], c["reject_from"]),
                         (0.5, "pinned", 0.7, "pinned"))
        self.assertEqual((c["decisions"], c["decisions_spam"]), (80, 40))
        self.assertEqual((cal["nb_scale"], cal["nb_shift"], cal["from"]), (4, 0, "pinned"))
        r = self.curl("GET", "/healthz")
        self.assertEqual((r.status, r.json()), (200, {"status": "ok"}))
        conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=10)
        conn.request("HEAD", "/healthz")
        resp = conn.getresponse()
        self.assertEqual((resp.status, resp.read()), (200, b""))
        conn.close()

        self.check(SPAM_TEXT)
        self.check(HAM_TEXT)
        self.check("rolex " + HAM_TEXT)
        self.post_form("/1.1/submit-spam", comment_form(NEW_TEXT))
        self.curl("GET", "/nowhere")
        r = self.curl("GET", "/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["content-type"].startswith("text/plain; version=0.0.4"))
        metrics = {}
        for line in r.text.splitlines():
            if line.startswith("#"):
                self.assertRegex(line, r"^# (HELP|TYPE) [a-z_]+ .+")
                continue
            self.assertRegex(line, METRIC_LINE_RE)
            name, value = line.rsplit(" ", 1)
            metrics[name] = float(value)
        self.assertEqual(metrics['threshd_requests_total{endpoint="comment-check",code="200"}'], 3)
        self.assertEqual(metrics['threshd_requests_total{endpoint="submit-spam",code="200"}'], 1)
        self.assertEqual(metrics['threshd_requests_total{endpoint="unknown",code="404"}'], 1)
        self.assertEqual(metrics['threshd_verdicts_total{verdict="reject"}'], 1)
        self.assertEqual(metrics['threshd_verdicts_total{verdict="hold"}'], 1)
        self.assertEqual(metrics['threshd_verdicts_total{verdict="accept"}'], 1)
        self.assertEqual(metrics['threshd_learned_total{label="spam"}'], 1)
        self.assertEqual(
            metrics['threshd_request_duration_seconds_count{endpoint="comment-check"}'], 3)
        self.assertEqual(
            metrics['threshd_request_duration_seconds_bucket{endpoint="comment-check",le="+Inf"}'], 3)
        self.assertEqual(metrics['threshd_db_messages{label="spam"}'], 41)
        self.assertGreater(metrics["threshd_db_used_bytes"], 0)
        self.assertGreater(metrics["threshd_db_map_size_bytes"], 0)
        self.assertEqual(metrics["threshd_api_keys"], 1)
        self.assertEqual(metrics["threshd_db_up"], 1)

    def test_keep_alive(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=10)
        for i in range(20):
            conn.request("POST", "/1.1/comment-check", body=comment_form(HAM_TEXT),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            resp = conn.getresponse()
            self.assertEqual(resp.read(), b"false")
            self.assertNotEqual(resp.getheader("Connection"), "close")
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            resp.read()
        conn.close()

    def test_concurrent_clients(self):
        errors = []

        def worker(n):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=20)
                for i in range(25):
                    text, want = (SPAM_TEXT, b"true") if (i + n) % 2 else (HAM_TEXT, b"false")
                    conn.request("POST", "/1.1/comment-check", body=comment_form(text),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
                    resp = conn.getresponse()
                    body = resp.read()
                    if resp.status != 200 or body != want:
                        errors.append((n, i, resp.status, body))
                if n % 4 == 0:
                    conn.request("POST", "/v1/learn",
                                 body=json.dumps({"label": "ham", "content": "thread %d" % n}),
                                 headers={"Content-Type": "application/json",
                                          "Authorization": "Bearer " + KEY})
                    resp = conn.getresponse()
                    if resp.status != 200:
                        errors.append((n, "learn", resp.status, resp.read()))
                    else:
                        resp.read()
                conn.close()
            except Exception as e:  # noqa: BLE001 - report any failure
                errors.append((n, repr(e)))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(self.stats()["ham_messages"], 44)


# ---------------------------------------------------------------------------
class DevModeTest(DaemonTest):
    """No key file: loopback only, checks need no key, learning is refused."""
    KEYS = None

    def test_dev_mode(self):
        self.assertIn("development mode", self.d.stderr())
        r = self.check(SPAM_TEXT, key=None)
        self.assertEqual(r.text, "true")
        r = self.check(HAM_TEXT, key="anything-at-all")
        self.assertEqual(r.text, "false")
        r = self.post_json("/v1/check", {"content": SPAM_TEXT}, key=None)
        self.assertEqual(r.json()["verdict"], "reject")
        r = self.post_form("/1.1/verify-key", form(key="whatever-key"))
        self.assertEqual(r.text, "valid")
        before = self.stats()
        for path in ("/1.1/submit-spam", "/1.1/submit-ham"):
            for key in (None, KEY):
                r = self.post_form(path, comment_form(NEW_TEXT, key=key))
                self.assertEqual(r.text, "invalid")
                self.assertIn("no key file", r.headers["x-akismet-debug-help"])
        for path in ("/v1/learn", "/v1/unlearn"):
            for key in (None, KEY):
                r = self.post_json(path, {"label": "spam", "content": NEW_TEXT}, key=key)
                body = self.assert_error(r, 401, "unauthorized")
                self.assertIn("without a key file", body["message"])
        after = self.stats()
        for k in ("spam_messages", "ham_messages", "learned", "tokens"):
            self.assertEqual(after[k], before[k], k)


class ReadOnlyTest(DaemonTest):
    ARGS = ("--read-only",)

    def test_read_only(self):
        self.assertEqual(self.check(SPAM_TEXT).text, "true")
        r = self.post_form("/1.1/submit-spam", comment_form(NEW_TEXT))
        self.assert_error(r, 403, "read_only", akismet=True)
        r = self.post_json("/v1/learn", {"label": "spam", "content": NEW_TEXT})
        self.assert_error(r, 403, "read_only")


# ---------------------------------------------------------------------------
class TimeoutTest(DaemonTest):
    """Slow clients are cut off after --timeout seconds."""
    ARGS = ("--timeout", "1")

    def assert_closed_within(self, s, seconds):
        s.settimeout(seconds)
        t0 = time.monotonic()
        try:
            data = s.recv(4096)
        except ConnectionResetError:
            data = b""
        except socket.timeout:
            self.fail("the connection was still open after %.1fs" % seconds)
        self.assertEqual(data, b"", data)
        return time.monotonic() - t0

    def test_idle_connection(self):
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=10) as s:
            self.assertLess(self.assert_closed_within(s, 6), 6)

    def test_slow_headers(self):
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=10) as s:
            s.sendall(b"POST /1.1/comment-check HTTP/1.1\r\nHost: x\r\n")
            self.assert_closed_within(s, 6)

    def test_slow_body(self):
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=10) as s:
            s.sendall(b"POST /1.1/comment-check HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/x-www-form-urlencoded\r\n"
                      b"Content-Length: 500\r\n\r\nblog=x&user_ip=1")
            self.assert_closed_within(s, 6)

    def test_trickling_body(self):
        """A byte now and then is still too slow once the whole body has taken
        longer than the timeout."""
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=10) as s:
            s.sendall(b"POST /1.1/comment-check HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Length: 200\r\n\r\n")
            closed = False
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline and not closed:
                try:
                    s.sendall(b"a")
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                s.settimeout(0.3)
                try:
                    if s.recv(4096) == b"":
                        closed = True
                except socket.timeout:
                    pass
                except ConnectionResetError:
                    closed = True
            self.assertTrue(closed, "a trickling body was not cut off")

    def test_idle_keep_alive(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=10)
        conn.request("GET", "/healthz")
        resp = conn.getresponse()
        resp.read()
        self.assertEqual(resp.status, 200)
        time.sleep(2.5)
        # The server closed the idle connection: the socket reads EOF.
        self.assertEqual(self.assert_closed_within(conn.sock, 5) < 5, True)
        conn.close()
        self.assertEqual(self.curl("GET", "/healthz").status, 200)


# ---------------------------------------------------------------------------
class StrictHttpTest(DaemonTest):
    """Where a request ends and whose key it carries must not be read two
    ways (a proxy before threshd one way, libmicrohttpd another): repeated
    lengths, a length beside chunked, an unknown transfer coding, a second
    Host or Authorization, anything after a Bearer key: 400 (501), on
    Akismet's routes too. And the JSON API's key is checked with the
    headers, before any body is read."""

    def head(self, path, *lines, body=b""):
        return (b"POST %s HTTP/1.1\r\nHost: x\r\n" % path.encode() +
                b"".join(line + b"\r\n" for line in lines) + b"\r\n" + body)

    def test_400_framing(self):
        body = comment_form(SPAM_TEXT)
        form_ct = b"Content-Type: application/x-www-form-urlencoded"
        n = b"Content-Length: %d" % len(body)
        for lines, status, what in [
                ((n, b"Content-Length: 5"), 400, "Content-Length given twice"),
                ((b"Content-Length: 5", n), 400, "Content-Length given twice"),
                ((n, b"Transfer-Encoding: chunked"), 400, "both Transfer-Encoding and"),
                ((b"Transfer-Encoding: gzip",), 501, "only transfer coding"),
                ((b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"), 400,
                 "Transfer-Encoding given twice"),
                ((n, b"Host: y"), 400, "Host given twice")]:
            r = self.raw_http(self.head("/1.1/comment-check", form_ct, *lines, body=body))
            self.assertEqual(r.status, status, (lines, r))
            self.assertIn(what, r.json()["message"])
            self.assertTrue(r.headers.get("x-akismet-debug-help"), r)
        # the same length twice says one thing: taken
        r = self.raw_http(self.head("/1.1/comment-check", form_ct, n, n, body=body))
        self.assertEqual((r.status, r.body), (200, b"true"), r)

    def test_400_authorization(self):
        obj = json.dumps({"content": SPAM_TEXT}).encode()
        for auth in ("Bearer %s junk" % KEY, "Bearer %s %s" % (KEY, KEY), "Bearer %s," % KEY,
                     "Bearer k\x01ey", "bearer %s\tx" % KEY):
            r = self.post_json("/v1/check", None, raw=obj, key=None,
                               headers=["Authorization: " + auth])
            body = self.assert_error(r, 400, "bad_request")
            self.assertIn("Authorization", body["message"])
            self.assertNotIn(KEY, json.dumps(body))
        r = self.raw_http(self.head("/v1/check", b"Content-Type: application/json",
                                    b"Authorization: Bearer " + KEY.encode(),
                                    b"Authorization: Bearer " + BAD_KEY.encode(),
                                    b"Content-Length: %d" % len(obj), body=obj))
        self.assertEqual(r.status, 400, r)
        self.assertIn("Authorization given twice", r.json()["message"])
        # a key alone, any case of the scheme, white space around it: taken
        for auth in ("Bearer " + KEY, "bearer   " + KEY, "BEARER %s  " % KEY):
            r = self.post_json("/v1/check", None, raw=obj, key=None,
                               headers=["Authorization: " + auth])
            self.assertEqual(r.status, 200, (auth, r))
        # another scheme is no key
        r = self.post_json("/v1/check", None, raw=obj, key=None,
                           headers=["Authorization: Basic " + KEY])
        self.assert_error(r, 401, "unauthorized")

    def test_401_before_the_body(self):
        """A JSON request without a valid key is answered as soon as its
        headers are in: the client need not send (and threshd never holds)
        the body."""
        for auth in (b"", b"Authorization: Bearer " + BAD_KEY.encode() + b"\r\n"):
            with socket.create_connection(("127.0.0.1", self.d.port), timeout=5) as s:
                s.sendall(b"POST /v1/learn HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Type: application/json\r\n" + auth +
                          b"Content-Length: 60000\r\n\r\n")
                data = b""
                while b"}" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            self.assertTrue(data.startswith(b"HTTP/1.1 401"), data)
            self.assertIn(b"WWW-Authenticate: Bearer", data)


class BodyBudgetTest(DaemonTest):
    """--body-budget 2M: bodies whose key is not known before they are read
    share 1.5M, 256K per address; a key in a header (JSON) or the host name
    (Akismet) lifts those two limits."""
    ARGS = ("--body-budget", "2M", "--body-limit", "1M")

    def setUp(self):
        self.held = []
        super().setUp()

    def tearDown(self):
        for s in self.held:
            s.close()
        super().tearDown()

    def hold(self, path, length, *lines):
        """A connection sending headers and half a body, left open."""
        held = self.metrics()["threshd_body_bytes"]
        s = socket.create_connection(("127.0.0.1", self.d.port), timeout=5)
        s.sendall(b"POST %s HTTP/1.1\r\nHost: %s\r\n" % (path.encode(), lines[0]) +
                  b"".join(line + b"\r\n" for line in lines[1:]) +
                  b"Content-Length: %d\r\n\r\n" % length + b"a" * (length // 2))
        self.held.append(s)
        # held once threshd has taken its headers
        deadline = time.monotonic() + 5
        while self.metrics()["threshd_body_bytes"] == held and time.monotonic() < deadline:
            time.sleep(0.02)
        return s

    def test_503_past_the_share_of_unkeyed_bodies(self):
        form_ct = b"Content-Type: application/x-www-form-urlencoded"
        self.hold("/1.1/comment-check", 200 * 1024, b"x", form_ct)
        # a second unkeyed body of this address does not fit in its 256K
        r = self.raw_http(b"POST /1.1/comment-check HTTP/1.1\r\nHost: x\r\n" + form_ct +
                          b"\r\nContent-Length: 100000\r\n\r\n")
        body = self.assert_error(r, 503, "unavailable", akismet=True)
        self.assertIn("try again", body["message"])
        self.assertEqual(r.headers.get("retry-after"), "1")
        # a key in the host name is a key known before the body
        r = self.curl("POST", "/1.1/comment-check",
                      comment_form("x" * 100000, key=None), host="%s.localhost" % KEY)
        self.assertEqual((r.status, r.text), (200, "false"), r)
        # so is the JSON API's (read, then refused for its content's length)
        r = self.post_json("/v1/check", {"content": "y " * 150000})
        self.assert_error(r, 400, "field_too_long")
        m = self.metrics()
        self.assertEqual(m['threshd_connections_aborted_total{reason="budget"}'], 1)
        self.assertEqual(m["threshd_body_budget_bytes"], 2 << 20)
        self.assertEqual(m["threshd_body_bytes"], 200 * 1024 + 1)
        self.assertEqual(m["threshd_body_unkeyed_bytes"], 200 * 1024 + 1)

    def metrics(self):
        r = self.curl("GET", "/metrics")
        out = {}
        for line in r.text.splitlines():
            if not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def test_keyed_bodies_have_the_rest(self):
        json_ct = b"Content-Type: application/json"
        auth = b"Authorization: Bearer " + KEY.encode()
        # unkeyed bodies from one address take its 256K ...
        self.hold("/1.1/comment-check", 250 * 1024, b"x")
        # ... keyed ones take 1.75M more in all
        self.hold("/v1/check", 1000 * 1024, b"x", json_ct, auth)
        self.hold("/v1/check", 700 * 1024, b"x", json_ct, auth)
        r = self.raw_http(b"POST /v1/check HTTP/1.1\r\nHost: x\r\n" + json_ct + b"\r\n" +
                          auth + b"\r\nContent-Length: 200000\r\n\r\n")
        self.assert_error(r, 503, "unavailable")
        self.assertEqual(self.metrics()["threshd_body_bytes"], (250 + 1000 + 700) * 1024 + 3)


class AbortedConnectionsTest(DaemonTest):
    """Connections cut off are counted in /metrics, not told on stderr one
    line each (2,157 lines in one test before)."""
    ARGS = ("--timeout", "1", "--header-timeout", "1", "--max-connections-per-ip", "40")

    def aborted(self):
        r = self.curl("GET", "/metrics")
        return {line.split('"')[1]: int(line.rsplit(" ", 1)[1]) for line in r.text.splitlines()
                if line.startswith("threshd_connections_aborted_total{")}

    def test_counted_not_logged(self):
        socks = []
        try:
            for i in range(60):
                # from 127.0.0.2, so that /metrics, asked from 127.0.0.1
                # meanwhile, is another address's connection
                s = socket.create_connection(("127.0.0.1", self.d.port), timeout=5,
                                             source_address=("127.0.0.2", 0))
                if i % 3 == 0:
                    s.sendall(b"POST /1.1/comment-check HTTP/1.1\r\nHost: x\r\n")
                elif i % 3 == 1:
                    s.sendall(b"POST /1.1/comment-check HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Length: 100\r\n\r\nblog=")
                socks.append(s)
            # Past the 1 s deadlines, each stalled connection is cut and
            # counted; wait for the counts while the clients still hold
            # their sockets (up to 15 s on a loaded machine).
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                time.sleep(0.5)
                c = self.aborted()
                if c.get("header_timeout", 0) + c.get("body_timeout", 0) + \
                        c.get("idle_timeout", 0) >= 40:
                    break
            # a client gone mid-body
            s = socket.create_connection(("127.0.0.1", self.d.port), timeout=5)
            s.sendall(b"POST /1.1/comment-check HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Length: 100\r\n\r\nblog=")
            time.sleep(0.2)
            s.close()
        finally:
            for s in socks:
                s.close()
        # The sweeper notices a client gone within a second or so; on a
        # loaded machine later, so wait for it (up to 15 s) instead of
        # reading /metrics once after a fixed pause.
        deadline = time.monotonic() + 15
        while True:
            r = self.curl("GET", "/metrics")
            m = dict(line.rsplit(" ", 1) for line in r.text.splitlines()
                     if not line.startswith("#"))
            counts = {k[len('threshd_connections_aborted_total{reason="'):-2]: int(v)
                      for k, v in m.items() if k.startswith("threshd_connections_aborted_total")}
            if (counts.get("client_gone", 0) >= 1 and int(m["threshd_body_bytes"]) == 0) or \
                    time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(set(counts), {"header_timeout", "body_timeout", "idle_timeout",
                                       "per_ip", "budget", "too_large", "client_gone",
                                       "error"})
        self.assertGreaterEqual(counts["per_ip"], 20, counts)  # 60 from one address, 40 allowed
        self.assertGreaterEqual(counts["header_timeout"] + counts["body_timeout"] +
                                counts["idle_timeout"], 20, counts)
        self.assertEqual(counts["client_gone"], 1, counts)
        self.assertEqual(int(m["threshd_body_bytes"]), 0, counts)
        self.assertLess(len(self.d.stderr().splitlines()), 6, self.d.stderr())


# ---------------------------------------------------------------------------
class SignalTest(DaemonTest):
    START = False

    def test_sighup_reloads_keys(self):
        d = self.start_daemon(keys=(KEY,))
        self.assertEqual(self.post_form("/1.1/verify-key", form(key=KEY), d=d).text, "valid")
        write_keys(d.keys_path, [KEY2])
        d.signal(signal.SIGHUP)
        d.wait_stderr(r"reloaded 1 API key from")
        self.assertEqual(self.post_form("/1.1/verify-key", form(key=KEY), d=d).text, "invalid")
        self.assertEqual(self.post_form("/1.1/verify-key", form(key=KEY2), d=d).text, "valid")
        # A broken key file keeps the keys in force.
        with open(d.keys_path, "w") as f:
            f.write("tiny\n")
        d.signal(signal.SIGHUP)
        d.wait_stderr(r"keeping the keys loaded before")
        self.assertEqual(self.post_form("/1.1/verify-key", form(key=KEY2), d=d).text, "valid")
        # So does one that others may write, whatever keys it holds.
        write_keys(d.keys_path, [KEY])
        os.chmod(d.keys_path, 0o622)
        d.signal(signal.SIGHUP)
        d.wait_stderr(r"writable by .* \(keeping the keys loaded before\)")
        self.assertEqual(self.post_form("/1.1/verify-key", form(key=KEY2), d=d).text, "valid")
        self.assertEqual(self.post_form("/1.1/verify-key", form(key=KEY), d=d).text, "invalid")
        self.assertNotIn(KEY2, d.stderr())
        self.assertNotIn(KEY, d.stderr())

    def test_sighup_reloads_conf(self):
        d = self.start_daemon()
        r = self.post_form("/1.1/comment-check", comment_form("rolex " + HAM_TEXT), d=d)
        self.assertEqual(r.headers["x-thresh-verdict"], "hold")
        with open(os.path.join(self.db, "thresh.conf"), "w") as f:
            f.write(CONF.replace("moderation_words = rolex", "moderation_words = casserole")
                    + "\n[threshd]\nhold_as_spam = no\ntimeout = 9\n")
        d.signal(signal.SIGHUP)
        d.wait_stderr(r"reloaded thresh\.conf")
        self.assertIn("[threshd] timeout changed: it takes effect when threshd restarts",
                      d.stderr())
        r = self.post_form("/1.1/comment-check", comment_form("rolex " + HAM_TEXT), d=d)
        self.assertEqual(r.headers["x-thresh-verdict"], "accept")
        r = self.post_form("/1.1/comment-check", comment_form("casserole " + HAM_TEXT), d=d)
        self.assertEqual((r.text, r.headers["x-thresh-verdict"]), ("false", "hold"))
        # A broken thresh.conf keeps the configuration in force.
        with open(os.path.join(self.db, "thresh.conf"), "w") as f:
            f.write("no_such_rule = 1\n")
        d.signal(signal.SIGHUP)
        d.wait_stderr(r"thresh\.conf not reloaded")
        r = self.post_form("/1.1/comment-check", comment_form("casserole " + HAM_TEXT), d=d)
        self.assertEqual(r.headers["x-thresh-verdict"], "hold")

    def test_sigterm_finishes_requests_in_flight(self):
        d = self.start_daemon(["--shutdown-timeout", "10"])
        body = comment_form(SPAM_TEXT)
        s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        try:
            s.sendall(b"POST /1.1/comment-check HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/x-www-form-urlencoded\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
            time.sleep(0.3)
            d.signal(signal.SIGTERM)
            d.wait_stderr("finishing the requests in flight")
            # New connections are refused while the request finishes.
            refused = False
            for _ in range(50):
                try:
                    socket.create_connection(("127.0.0.1", d.port), timeout=2).close()
                except ConnectionRefusedError:
                    refused = True
                    break
                time.sleep(0.05)
            self.assertTrue(refused, "threshd still accepted connections after SIGTERM")
            self.assertIsNone(d.proc.poll())
            s.sendall(body[10:])
            data = b""
            while b"\r\n\r\n" not in data or not data.endswith(b"true"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            self.assertTrue(data.startswith(b"HTTP/1.1 200"), data)
            self.assertIn(b"Connection: close", data)
            self.assertTrue(data.endswith(b"true"), data)
        finally:
            s.close()
        self.assertEqual(d.proc.wait(20), 0)
        self.assertIn("threshd: stopped", d.stderr())

    def test_sigint_stops(self):
        d = self.start_daemon()
        d.signal(signal.SIGINT)
        self.assertEqual(d.proc.wait(20), 0)
        self.assertIn("SIGINT", d.stderr())

    def test_request_log(self):
        log = os.path.join(self.tmp, "requests.log")
        d = self.start_daemon(["--log", log])
        secrets = ["secret-mail@example.org", "198.51.100.77", "uniquecontentstring", KEY,
                   "KEYINPATH"]
        self.post_form("/1.1/comment-check",
                       comment_form("uniquecontentstring " + SPAM_TEXT,
                                    comment_author_email="secret-mail@example.org",
                                    user_ip="198.51.100.77"), d=d)
        self.post_json("/v1/check", {"content": "uniquecontentstring"}, d=d)
        self.curl("GET", "/KEYINPATH/" + KEY, d=d)
        self.post_form("/1.1/comment-check", comment_form("x", key=None), d=d,
                       host="%s.localhost" % KEY)
        os.rename(log, log + ".1")
        d.signal(signal.SIGHUP)  # logrotate: the log is opened again
        d.wait_stderr("reloaded thresh.conf")
        self.curl("GET", "/healthz", d=d)
        d.stop()
        with open(log + ".1") as f:
            lines = f.read().splitlines()
        with open(log) as f:
            lines2 = f.read().splitlines()
        self.assertEqual(len(lines), 4, lines)
        self.assertEqual(len(lines2), 1, lines2)
        self.assertRegex(lines[0], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z POST "
                                   r"/1\.1/comment-check 200 \d+\.\d{3}ms reject 0\.\d{4}$")
        self.assertRegex(lines[2], r" GET - 404 ")
        self.assertRegex(lines2[0], r" GET /healthz 200 ")
        text = "\n".join(lines + lines2) + d.stderr()
        for secret in secrets:
            self.assertNotIn(secret, text)


# ---------------------------------------------------------------------------
def node_ready():
    if not NODE:
        return "node is not installed"
    for pkg in ("@cedx/akismet", "akismet-api"):
        if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", pkg)):
            return ("%s is not installed in %s: run `npm ci` there (the npm registry is needed "
                    "once)" % (pkg, NODE_DIR))
    return None


class NodeClientTest(DaemonTest):
    """Real Akismet clients from npm: @cedx/akismet (base URL, key in the
    body) and akismet-api (key in the host name)."""

    def setUp(self):
        why = node_ready()
        if why:
            self.skipTest(why)
        super().setUp()

    def run_plan(self, lib, key, plan):
        p = subprocess.run([NODE, os.path.join(NODE_DIR, "clients.mjs"), lib, str(self.d.port), key],
                           input=json.dumps(plan), capture_output=True, text=True, timeout=120,
                           cwd=NODE_DIR)
        self.assertEqual(p.returncode, 0, p.stderr)
        results = json.loads(p.stdout)
        self.assertEqual(len(results), len(plan))
        return results

    def scenario(self, lib, spam_result, ham_result):
        plan = [{"op": "verify"},
                {"op": "check", "comment": {"content": SPAM_TEXT, "author": "Spammer"}},
                {"op": "check", "comment": {"content": HAM_TEXT, "author": "Ann",
                                            "email": "ann@example.org"}},
                {"op": "check", "comment": {"content": NEW_TEXT, "ip": "192.0.2.50"}}]
        plan += [{"op": "submitSpam", "comment": {"content": t, "ip": "192.0.2.50"}}
                 for t in NEW_VARIANTS]
        plan += [{"op": "check", "comment": {"content": NEW_TEXT, "ip": "192.0.2.50"}}]
        plan += [{"op": "submitHam", "comment": {"content": t, "ip": "192.0.2.50"}}
                 for t in NEW_VARIANTS]
        plan += [{"op": "check", "comment": {"content": NEW_TEXT, "ip": "192.0.2.50"}}]
        res = self.run_plan(lib, KEY, plan)
        for i, r in enumerate(res):
            self.assertTrue(r["ok"], (i, plan[i], r))
        self.assertEqual(res[0]["result"], True)
        self.assertIn(res[1]["result"], spam_result)
        self.assertEqual(res[2]["result"], ham_result)
        self.assertEqual(res[3]["result"], ham_result)     # neutral at first
        self.assertIn(res[7]["result"], spam_result)       # after submit-spam
        self.assertEqual(res[11]["result"], ham_result)    # after submit-ham

        bad = self.run_plan(lib, BAD_KEY, [{"op": "verify"},
                                           {"op": "check", "comment": {"content": SPAM_TEXT}},
                                           {"op": "check", "comment": {"content": HAM_TEXT}}])
        self.assertEqual(bad[0], {"ok": True, "result": False})
        for r in bad[1:]:
            self.assertFalse(r["ok"], r)
        return res

    def test_cedx_akismet(self):
        self.scenario("cedx", ("spam", "discard"), "ham")
        st = self.stats()
        self.assertEqual((st["spam_messages"], st["ham_messages"]), (40, 43))
        # Pervasive spam is told apart through X-akismet-pro-tip.
        res = self.run_plan("cedx", KEY, [{"op": "check", "comment": {"content": SPAM_TEXT}}])
        self.assertEqual(res[0]["result"], "discard")

    def test_akismet_api(self):
        self.scenario("akismet-api", (True,), False)
        st = self.stats()
        self.assertEqual((st["spam_messages"], st["ham_messages"]), (40, 43))
        # akismet-api sends its honeypot as honeypot_field_name + the named field.
        res = self.run_plan("akismet-api", KEY, [
            {"op": "check", "comment": {"content": HAM_TEXT, "honeypot": "filled by a bot"}}])
        self.assertEqual(res[0], {"ok": True, "result": True})



# ---------------------------------------------------------------------------
class HostileClientTest(DaemonTest):
    """Hostile clients: thousands of idle connections, slow headers and
    bodies, malformed HTTP, huge field counts. threshd keeps answering
    others, its memory stays bounded, and it never dies. Everything talks to
    127.0.0.1 only and is bounded in connections and time."""

    # (no share per address: 1,024 connections of 127.0.0.1, as from a proxy)
    ARGS = ("--timeout", "2", "--max-connections", "1024", "--max-connections-per-ip", "0")

    def rss_kib(self):
        with open("/proc/%d/status" % self.d.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def assert_alive(self):
        self.assertIsNone(self.d.proc.poll(), "threshd died: " + self.d.stderr())
        r = self.curl("GET", "/healthz", timeout=5)
        self.assertEqual(r.status, 200)

    def raw(self, data, wait=2.0):
        """Send bytes on a fresh connection; the reply (maybe empty)."""
        s = socket.create_connection(("127.0.0.1", self.d.port), timeout=wait)
        try:
            s.sendall(data)
            s.settimeout(wait)
            out = b""
            try:
                while len(out) < 65536:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    out += chunk
            except (socket.timeout, ConnectionResetError):
                pass
            return out
        finally:
            s.close()

    def test_thousands_of_idle_connections(self):
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = min(hard, 4096)
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        n = min(1500, want - 100)
        before = self.rss_kib()
        socks = []
        try:
            for _ in range(n):
                try:
                    socks.append(socket.create_connection(("127.0.0.1", self.d.port), timeout=2))
                except OSError:
                    break  # refused past --max-connections: that is the point
            self.assertGreater(len(socks), 500)
            grown = self.rss_kib() - before
            self.assertLess(grown, 64 * 1024, "RSS grew by %d KiB for %d idle connections"
                            % (grown, len(socks)))
        finally:
            for s in socks:
                s.close()
        # idle connections time out (--timeout 2) and others are served
        time.sleep(0.5)
        self.assert_alive()

    def test_slow_headers_and_bodies_time_out(self):
        slow = []
        try:
            for i in range(40):
                s = socket.create_connection(("127.0.0.1", self.d.port), timeout=5)
                if i % 2:
                    s.sendall(b"POST /1.1/comment-check HTTP/1.1\r\nHost: x\r\n")  # headers never end
                else:
                    s.sendall(b"POST /1.1/comment-check HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Type: application/x-www-form-urlencoded\r\n"
                              b"Content-Length: 1000\r\n\r\nblog=")  # body never ends
                slow.append(s)
            self.assert_alive()  # while they hang
            time.sleep(3.5)      # past --timeout 2
            closed = 0
            for s in slow:
                s.settimeout(2)
                try:
                    if s.recv(1) == b"":
                        closed += 1
                except (ConnectionResetError, socket.timeout, OSError):
                    closed += 1
            self.assertEqual(closed, len(slow), "slow clients were not timed out")
        finally:
            for s in slow:
                s.close()
        self.assert_alive()

    def test_malformed_http(self):
        for junk in (b"GARBAGE\r\n\r\n",
                     b"GET / HTTP/9.9\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n",
                     b"POST /1.1/comment-check HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                     b"POST /1.1/comment-check HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                     b"\x00\x01\x02\xff\xfe" * 100,
                     b"GET /" + b"%" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"):
            reply = self.raw(junk)
            if reply:
                status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.") else 0
                self.assertTrue(400 <= status < 600, "%r answered %r" % (junk[:40], reply[:80]))
            self.assert_alive()

    def test_huge_field_counts(self):
        before = self.stats()
        form = b"&".join(b"f%d=" % i for i in range(200000))  # ~1.3 MiB: over the body limit
        self.assert_refused_by_length("/1.1/comment-check", form)
        form = b"blog=https%3A%2F%2Fb.example&user_ip=192.0.2.1&" + \
            b"&".join(b"x%d=" % i for i in range(90000)) + b"&api_key=" + KEY.encode()
        r = self.post_form("/1.1/comment-check", form)  # under the limit, 90,000 fields
        self.assertEqual((r.status, r.text), (200, "false"))
        form = b"blog=b&" + b"&".join(b"comment_content=x" for i in range(50000)) + \
            b"&api_key=" + KEY.encode()
        r = self.post_form("/1.1/comment-check", form)  # one name, 50,000 times
        self.assertEqual((r.status, r.text), (200, "false"))
        obj = {"content": "hello"}
        obj.update(("k%d" % i, "v") for i in range(3000))  # ~36 KiB
        r = self.post_json("/v1/check", obj)
        self.assertEqual(r.status, 400)  # unknown fields are named, not ignored
        self.assertEqual(self.stats()["spam_messages"], before["spam_messages"])
        self.assert_alive()


# ---------------------------------------------------------------------------
class AkismetSettingsTest(DaemonTest):
    """What WordPress's Akismet plugin (5.0.2) asks on its settings page."""

    def test_verify_key_checks_key_before_api_key(self):
        # Changing the key sends key=NEW&api_key=OLD: NEW is the one asked about.
        r = self.post_form("/1.1/verify-key", form(key=BAD_KEY, api_key=KEY, blog="https://b.example/"))
        self.assertEqual(r.text, "invalid")
        r = self.post_form("/1.1/verify-key", form(key=KEY, api_key=BAD_KEY, blog="https://b.example/"))
        self.assertEqual(r.text, "valid")

    def test_twelve_hex_digit_keys(self):
        # Akismet's form keeps [0-9a-f] and needs exactly 12 of them.
        d = self.start_daemon(keys=("7e57ab1e0c0d",))
        r = self.post_form("/1.1/verify-key", form(key="7e57ab1e0c0d", blog="https://b.example/"), d=d)
        self.assertEqual(r.text, "valid")

    def test_get_subscription(self):
        r = self.post_form("/1.1/get-subscription", form(key=KEY, blog="https://b.example/"))
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["status"], "active")
        for k in ("account_name", "account_type", "next_billing_date", "limit_reached"):
            self.assertIn(k, body)
        self.assertNotIn(KEY, r.text)
        r = self.post_form("/1.1/get-subscription", form(key=BAD_KEY, api_key=KEY, blog="b"))
        self.assertEqual((r.status, r.text), (200, "invalid"))

    def test_get_stats_counts_answers_and_reports(self):
        r = self.post_form("/1.1/get-stats", form(key=KEY, blog="b", **{"from": "6-months"}))
        self.assertEqual(r.status, 200, r)
        st = r.json()
        self.assertEqual((st["spam"], st["ham"], st["missed_spam"], st["false_positives"]), (0, 0, 0, 0))
        self.assertEqual(st["accuracy"], 100.0)
        self.assertEqual(st["from"], "6-months")
        self.check(SPAM_TEXT)
        self.check(HAM_TEXT)
        self.check(HAM_TEXT + " museum", is_test="true")           # not counted
        self.check(HAM_TEXT + " poetry", recheck_reason="recheck_queue")  # not counted
        self.post_form("/1.1/submit-spam", comment_form(NEW_TEXT))
        self.post_form("/1.1/submit-ham", comment_form(NEW_TEXT + " orbit"))
        self.post_form("/1.1/submit-ham", comment_form(NEW_TEXT + " tundra", is_test="1"))
        st = self.post_form("/1.1/get-stats", form(key=KEY, blog="b", **{"from": "all"})).json()
        self.assertEqual((st["spam"], st["ham"], st["missed_spam"], st["false_positives"]), (1, 1, 1, 1))
        self.assertEqual(st["accuracy"], 0.0)
        self.assertIn("since", st)
        r = self.post_form("/1.1/get-stats", form(key=BAD_KEY, blog="b"))
        self.assertEqual(r.text, "invalid")

    def test_connectivity_test_and_deactivate(self):
        for method in ("GET", "POST"):
            r = self.curl(method, "/1.1/test", form(x="1") if method == "POST" else None)
            self.assertEqual((r.status, r.text), (200, "connected"))
        r = self.post_form("/1.1/deactivate", form(key=KEY, blog="b"))
        self.assertEqual(r.text, "deactivated")
        r = self.post_form("/1.1/deactivate", form(key=BAD_KEY, blog="b"))
        self.assertEqual(r.text, "invalid")


# ---------------------------------------------------------------------------
class AkismetConventionsTest(DaemonTest):
    """Akismet's documented test values and fields, and what a hold answers."""
    CONF = CONF.replace("rate_limit = 0", "rate_limit = 1\nrate_period = 60\nrate_burst = 1")

    def test_test_values_are_spam(self):
        before = self.stats()
        r = self.check(HAM_TEXT, comment_author="viagra-test-123", comment_author_email="v@example.org")
        self.assertEqual((r.text, r.headers["x-thresh-reasons"]), ("true", "akismet_test_spam"))
        r = self.check(HAM_TEXT, comment_author="Ann", comment_author_email="Akismet-Guaranteed-Spam@example.com")
        self.assertEqual(r.text, "true")
        self.assertEqual(self.stats()["learned"], before["learned"])
        # ... and spend no rate: a first comment from that e-mail passes.
        r = self.check(HAM_TEXT, comment_author_email="v@example.org")
        self.assertEqual(r.text, "false", r)

    def test_administrator_is_ham_and_never_rate_limited(self):
        for i in range(4):
            r = self.check(SPAM_TEXT + " %d" % i, comment_author_email="admin@b.example",
                           user_role="editor, administrator", user_ID="1")
            self.assertEqual((r.text, r.headers["x-thresh-verdict"]), ("false", "accept"), r)
            self.assertEqual(r.headers["x-thresh-reasons"], "administrator")
            self.assertNotIn("retry-after", r.headers)

    def test_logged_in_users_are_not_rate_limited(self):
        for extra in ({"user_role": "subscriber"}, {"user_ID": "7"}, {"user_id": "7"}):
            email = "user%s@b.example" % list(extra.values())[0]
            for i in range(3):
                r = self.check(HAM_TEXT + " %d" % i, comment_author_email=email, **extra)
                self.assertEqual(r.text, "false", (extra, i, r))
                self.assertNotIn("rate_limited", r.headers.get("x-thresh-reasons", ""))
        # user_ID=0 is a visitor: the second comment within the minute is limited.
        self.check(HAM_TEXT, comment_author_email="visitor@b.example", user_ID="0")
        r = self.check(HAM_TEXT + " again", comment_author_email="visitor@b.example", user_ID="0")
        self.assertIn("rate_limited", r.headers["x-thresh-reasons"])

    def test_is_test_and_recheck_spend_no_rate(self):
        for extra in ({"is_test": "true"}, {"is_test": "1"}, {"recheck_reason": "recheck_queue"},
                      {"recheck_reason": "retry"}):
            email = "t%s@b.example" % list(extra.values())[0]
            for i in range(3):
                r = self.check(HAM_TEXT + " %d" % i, comment_author_email=email, **extra)
                self.assertEqual(r.text, "false", (extra, r))
                self.assertEqual(r.headers.get("x-thresh-read-only"), "1")
            r = self.check(HAM_TEXT, comment_author_email=email)
            self.assertEqual(r.text, "false", "the first real comment after tests: %r" % r)
        # is_test=0 and is_test=false are no tests.
        self.check(HAM_TEXT, comment_author_email="real@b.example", is_test="0")
        r = self.check(HAM_TEXT + " 2", comment_author_email="real@b.example", is_test="false")
        self.assertIn("rate_limited", r.headers["x-thresh-reasons"])

    def test_a_hold_answers_by_its_reasons(self):
        # A moderation word: pending, without a check error (X-akismet-error).
        r = self.check("rolex " + HAM_TEXT)
        self.assertEqual((r.text, r.headers["x-thresh-verdict"]), ("false", "hold"))
        self.assertIn("moderation_word", r.headers["x-akismet-error"])
        # The rate: the second comment in a minute is held or rejected, never plain false.
        self.check(HAM_TEXT, comment_author_email="fast@b.example")
        r = self.check(HAM_TEXT + " 2", comment_author_email="fast@b.example")
        self.assertTrue(r.text == "true" or "x-akismet-error" in r.headers, r)
        # --hold-as-spam: every hold is "true", with no error header.
        d = self.start_daemon(["--hold-as-spam"])
        r = self.post_form("/1.1/comment-check", comment_form("rolex " + HAM_TEXT, user_ip="192.0.2.99"),
                           d=d)
        self.assertEqual((r.text, r.headers["x-thresh-verdict"]), ("true", "hold"))
        self.assertNotIn("x-akismet-error", r.headers)


class FirstCommentHoldTest(DaemonTest):
    CONF = CONF.replace("first_comment = off", "first_comment = on")

    def test_a_first_comment_hold_is_left_to_wordpress(self):
        r = self.check(NEW_TEXT, comment_author_email="new@b.example")
        self.assertEqual((r.text, r.headers["x-thresh-verdict"]), ("false", "hold"), r)
        self.assertEqual(r.headers["x-thresh-reasons"], "first_comment")
        self.assertNotIn("x-akismet-error", r.headers)


# ---------------------------------------------------------------------------
class AkismetTextTest(DaemonTest):
    """Charsets, submits without user_ip, and one form of the digest fields."""

    def latin1(self, path, text, how, **extra):
        fields = {"blog": "https://b.example/", "user_ip": "192.0.2.1", "api_key": KEY,
                  "comment_content": text}
        fields.update(extra)
        headers = []
        if how == "header":
            headers = ["Content-Type: application/x-www-form-urlencoded; charset=ISO-8859-1"]
        elif how == "field":
            fields["blog_charset"] = "ISO-8859-1"
        return self.post_form(path, urllib.parse.urlencode(fields, encoding="latin-1").encode(),
                              headers=headers)

    def test_latin1_and_windows_1252(self):
        text = "Grüße aus Köln, ein schönes Rezept. " + NEW_TEXT
        for how in ("header", "field"):
            r = self.latin1("/1.1/comment-check", text, how)
            self.assertEqual((r.status, r.text), (200, "false"), (how, r))
        # Learned from Latin-1, the same comment in UTF-8 is the same comment.
        r = self.latin1("/1.1/submit-spam", text, "header")
        self.assertEqual(r.headers["x-thresh-learned"], "learned", r)
        r = self.post_form("/1.1/submit-spam", comment_form(text, user_ip="192.0.2.1"))
        self.assertEqual(r.headers["x-thresh-learned"], "duplicate", r)
        # windows-1252's 0x80 is the euro sign, as browsers send it.
        body = comment_form(NEW_TEXT + " 5 \x80", key=KEY).replace(b"%C2%80", b"%80")
        r = self.post_form("/1.1/submit-ham", body, headers=[
            "Content-Type: application/x-www-form-urlencoded; charset=windows-1252"])
        self.assertEqual(r.status, 200)
        r = self.post_form("/1.1/submit-ham", comment_form(NEW_TEXT + " 5 €"))
        self.assertEqual(r.headers["x-thresh-learned"], "duplicate", r)

    def test_decoded_fields_are_cut_where_their_limit_cuts_them(self):
        # windows-1252's 0x80 sent as a raw byte is one byte of the body and
        # three of UTF-8 ("\u20ac"): a comment of such bytes and nothing
        # else is what makes a field grow most in decoding. Whatever the
        # body's size, each field holds what the library's limit lets it
        # hold (content 65,536 bytes, others 4,096: 21,845 and 1,365 euro
        # signs), the same comment as sent in UTF-8.
        ctype = ["Content-Type: application/x-www-form-urlencoded; charset=windows-1252"]
        for n, author in ((7, 3), (30000, 2000)):
            body = (b"blog=b&api_key=" + KEY.encode() + b"&comment_author=" + b"\x80" * author +
                    b"&comment_content=" + b"\x80" * n + b"+%d" % n)
            r = self.post_form("/1.1/submit-spam", body, headers=ctype)
            self.assertEqual(r.headers.get("x-thresh-learned"), "learned", (n, r))
            kept = min(3 * n + 1 + len(str(n)), 65535)  # bytes of UTF-8
            content = ("\u20ac" * n + " %d" % n).encode()[:kept].decode("utf-8", "ignore")
            same = {"blog": "b", "api_key": KEY, "comment_author": "\u20ac" * min(author, 1365),
                    "comment_content": content}
            r = self.post_form("/1.1/submit-spam", urllib.parse.urlencode(same).encode())
            self.assertEqual(r.headers.get("x-thresh-learned"), "duplicate", (n, r))

    def test_other_charsets_through_iconv_and_unknown_ones(self):
        text = "このレシピはとても分かりやすいです " + NEW_TEXT
        fields = {"blog": "b", "api_key": KEY, "comment_content": text, "blog_charset": "EUC-JP"}
        r = self.post_form("/1.1/submit-ham", urllib.parse.urlencode(fields, encoding="euc-jp").encode())
        self.assertEqual(r.headers["x-thresh-learned"], "learned", r)
        r = self.post_form("/1.1/submit-ham", comment_form(text, user_ip=""))
        self.assertEqual(r.headers["x-thresh-learned"], "duplicate", "EUC-JP was decoded: %r" % r)
        r = self.check("caf\xe9", blog_charset="x-no-such-charset")
        self.assertEqual((r.status, r.text), (200, "false"))

    def test_submits_without_user_ip_are_learned(self):
        before = self.stats()
        fields = {"blog": "b", "api_key": KEY, "comment_content": NEW_TEXT, "comment_author_IP": ""}
        r = self.post_form("/1.1/submit-spam", urllib.parse.urlencode(fields).encode())
        self.assertEqual((r.status, r.headers.get("x-thresh-learned")), (200, "learned"), r)
        fields["comment_content"] = NEW_TEXT + " orbit"
        fields["comment_author_IP"] = "192.0.2.8"
        r = self.post_form("/1.1/submit-ham", urllib.parse.urlencode(fields).encode())
        self.assertEqual((r.status, r.headers.get("x-thresh-learned")), (200, "learned"), r)
        after = self.stats()
        self.assertEqual((after["spam_messages"], after["ham_messages"]),
                         (before["spam_messages"] + 1, before["ham_messages"] + 1))

    def test_stored_and_submitted_text_are_one_comment(self):
        # As typed (akismet_as_submitted) vs as WordPress stored it (kses:
        # &amp; &lt;, the author's spaces collapsed, http:// before a site).
        typed = dict(comment_content="  Tom & Jerry <3 bread, isn't it?\n", comment_author="Ann  Lee",
                     comment_author_url="ann.example", comment_author_email="ann@b.example")
        stored = dict(comment_content="Tom &amp; Jerry &lt;3 bread, isn&#039;t it?",
                      comment_author="Ann Lee", comment_author_url="http://ann.example",
                      comment_author_email="ann@b.example", recheck_reason="recheck_queue")
        r = self.post_form("/1.1/submit-ham", comment_form(SPAM_TEXT + "!", **typed))
        self.assertEqual(r.headers["x-thresh-learned"], "learned")
        r = self.check(SPAM_TEXT + "!", **stored)
        self.assertEqual(r.text, "false", r)
        self.assertIn("learned_ham", r.headers["x-thresh-reasons"])



# ---------------------------------------------------------------------------
class BulkTest(DaemonTest):
    """POST /v1/learn/bulk: JSON lines, one transaction per request."""

    def bulk(self, lines, key=KEY, query="", ctype="application/x-ndjson", raw=None, **kw):
        data = raw if raw is not None else "".join(
            (x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines).encode()
        h = ["Content-Type: " + ctype] if ctype else ["Content-Type:"]  # curl's own left out
        if key:
            h.append("Authorization: Bearer " + key)
        return self.curl("POST", "/v1/learn/bulk" + query, data, headers=h, **kw)

    def counts(self):
        st = self.stats()
        return st["spam_messages"], st["ham_messages"], st["learned"]

    def test_learns_a_batch_and_counts_it(self):
        spam0, ham0, n0 = self.counts()
        lines = [{"label": "ham", "content": "history comment %d about %s" % (i, NEW_TEXT),
                  "author": "Reader %d" % i, "email": "r%d@example.org" % i, "ip": "192.0.2.%d" % i,
                  "user_agent": "Mozilla/5.0", "type": "comment"} for i in range(6)]
        lines += [{"label": "spam", "comment_content": "cheap pills offer %d" % i,
                   "comment_author_url": "http://pills.example/"} for i in range(4)]
        # blank lines and CRLF line ends are taken; the last line needs no newline
        body = ("\r\n".join(json.dumps(x) for x in lines[:5]) + "\r\n\n   \n" +
                "\n".join(json.dumps(x) for x in lines[5:])).encode()
        r = self.bulk(None, raw=body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"lines": 10, "learned": 10, "duplicates": 0, "moved": 0,
                                    "skipped": 0, "errors": [], "errors_omitted": 0})
        self.assertEqual(self.counts(), (spam0 + 4, ham0 + 6, n0 + 10))
        # again: every one a duplicate; the labels swapped: every one moved
        r = self.bulk(lines)
        self.assertEqual((r.json()["learned"], r.json()["duplicates"]), (0, 10), r)
        swapped = [dict(x, label="spam" if x["label"] == "ham" else "ham") for x in lines]
        self.assertEqual(self.bulk(swapped).json()["moved"], 10)
        self.assertEqual(self.counts(), (spam0 + 6, ham0 + 4, n0 + 10))
        # the single-comment endpoint sees the same comments
        one = dict(lines[0], label="spam")
        self.assertEqual(self.post_json("/v1/learn", one).json(),
                         {"learned": 0, "duplicates": 1, "moved": 0})
        # an empty body learns nothing
        r = self.bulk([])
        self.assertEqual(r.json()["lines"], 0, r)
        # the request is counted under its own endpoint
        m = self.curl("GET", "/metrics").text
        self.assertRegex(m, r'threshd_requests_total\{endpoint="v1-learn-bulk",code="200"\} [1-9]')

    def test_bad_lines_are_listed_and_the_rest_learned(self):
        spam0, ham0, n0 = self.counts()
        good = {"label": "spam", "content": "fine spam line"}
        body = b"\n".join([
            json.dumps(good).encode(),                                       # 1
            b'{"label": "ham", "content": "unterminated}',                   # 2
            b'{"label": "ham", "colour": "blue", "content": "x"}',           # 3
            b'{"content": "no label"}',                                      # 4
            b'{"label": "maybe", "content": "x"}',                           # 5
            b'{"label": "ham", "ip": "192.0.2.1"}',                          # 6
            b'{"label": "ham", "content": "bad \xff byte"}',                 # 7
            b'{"label": "ham", "content": "nul \\u0000 byte"}',              # 8
            b'["an", "array"]',                                              # 9
            b'',                                                             # 10: blank
            b'{"label": "ham", "content": "fine ham line", "label": "ham"}', # 11
            b'{"label": "ham", "content": "fine ham line"}',                 # 12
        ]) + b"\n"
        r = self.bulk(None, raw=body)
        self.assertEqual(r.status, 200, r)
        j = r.json()
        self.assertEqual((j["lines"], j["learned"], j["skipped"], j["errors_omitted"]),
                         (11, 2, 9, 0), j)
        by_line = {e["line"]: e for e in j["errors"]}
        self.assertEqual(sorted(by_line), [2, 3, 4, 5, 6, 7, 8, 9, 11])
        expect = {2: ("malformed_json", None), 3: ("unknown_field", "colour"),
                  4: ("missing_field", "label"), 5: ("bad_field", "label"),
                  6: ("missing_field", "content"), 7: ("invalid_utf8", None),
                  8: ("nul_byte", "content"), 9: ("malformed_json", None),
                  11: ("duplicate_field", "label")}
        for line, (code, field) in expect.items():
            self.assertEqual(by_line[line]["error"], code, by_line[line])
            self.assertTrue(by_line[line]["message"], by_line[line])
            self.assertEqual(by_line[line].get("field"), field, by_line[line])
        self.assertEqual(self.counts(), (spam0 + 1, ham0 + 1, n0 + 2))
        # past BULK_ERRORS_MAX the errors are counted, not listed
        r = self.bulk(["{bad"] * 150 + [json.dumps({"label": "ham", "content": "one more"})])
        j = r.json()
        self.assertEqual((j["skipped"], len(j["errors"]), j["errors_omitted"], j["learned"]),
                         (150, 100, 50, 1), j)

    def test_refusals_change_nothing(self):
        before = self.counts()
        line = [{"label": "spam", "content": NEW_TEXT}]
        self.assert_error(self.bulk(line, key=None), 401, "unauthorized")
        self.assert_error(self.bulk(line, key=BAD_KEY), 401, "unauthorized")
        self.assert_error(self.bulk(line, ctype="text/plain"), 415, "unsupported_media_type")
        self.assert_error(self.bulk(line, query="?form=drupal"), 400, "bad_request", "form")
        self.assert_error(self.curl("GET", "/v1/learn/bulk"), 405, "method_not_allowed")
        for ctype in ("application/json", "application/jsonl; charset=utf-8", None):
            self.assertEqual(self.bulk([{"label": "ham", "content": "ctype %s" % ctype}],
                                       ctype=ctype).status, 200, ctype)
        after = self.counts()
        self.assertEqual((after[0], after[2]), (before[0], before[2] + 3))

    def test_401_before_the_body(self):
        """The key is checked with the headers: a batch without a valid one
        is answered before its megabyte is sent."""
        for auth in (b"", b"Authorization: Bearer " + BAD_KEY.encode() + b"\r\n"):
            with socket.create_connection(("127.0.0.1", self.d.port), timeout=5) as s:
                s.sendall(b"POST /v1/learn/bulk HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Type: application/x-ndjson\r\n" + auth +
                          b"Content-Length: 1000000\r\n\r\n")
                data = b""
                while b"}" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            self.assertTrue(data.startswith(b"HTTP/1.1 401"), data)

    def test_body_limit_is_sixteen_comments(self):
        d = self.start_daemon(["--body-limit", "1K"])
        # a line over --body-limit (as /v1/learn refuses it), 14 of them under 16 times it
        line = json.dumps({"label": "ham", "content": "x" * 1100}) + "\n"
        r = self.bulk([], raw=(line * 14).encode(), d=d)
        self.assertEqual((r.status, r.json()["learned"]), (200, 1), r)  # one text, 14 times
        r = self.bulk([], raw=(line * 16).encode(), d=d)
        self.assert_error(r, 413, "body_too_large")
        self.assert_error(self.post_json("/v1/learn", None, raw=line.encode(), d=d), 413,
                          "body_too_large")

    def test_form_wordpress_is_what_akismet_learns(self):
        """A row of wp_comments (kses-filtered) sent with ?form=wordpress is
        the comment WordPress's Akismet plugin later reports as typed: the
        report moves it, it is not learned twice. Without the form the two
        differ."""
        stored = {"label": "ham", "content": "Tom &amp; Jerry &lt;3 bread, isn&#039;t it?",
                  "author": "Ann Lee", "url": "http://ann.example", "email": "ann@b.example"}
        typed = dict(comment_content="  Tom & Jerry <3 bread, isn't it?\n", comment_author="Ann  Lee",
                     comment_author_url="ann.example", comment_author_email="ann@b.example")
        self.assertEqual(self.bulk([stored], query="?form=wordpress").json()["learned"], 1)
        r = self.post_form("/1.1/submit-spam", comment_form(**typed, content=typed.pop("comment_content")))
        self.assertEqual(r.headers.get("x-thresh-learned"), "moved", r)
        other = dict(stored, content=stored["content"] + " (plain)")
        self.assertEqual(self.bulk([other]).json()["learned"], 1)
        r = self.post_form("/1.1/submit-spam", comment_form(
            "Tom & Jerry <3 bread, isn't it? (plain)", **typed))
        self.assertEqual(r.headers.get("x-thresh-learned"), "learned", r)

    def test_history_from_the_command_is_what_akismet_learns(self):
        """`thresh train --wp-json` on the database threshd serves, then
        WordPress's Akismet plugin reports the same comment: one comment."""
        page = [{"id": 7, "status": "approved", "author_name": "Ann Lee",
                 "author_email": "ann@b.example", "author_url": "http://ann.example",
                 "author_ip": "192.0.2.9", "author_user_agent": "Mozilla/5.0", "type": "comment",
                 "content": {"raw": "History &amp; more &lt;3", "rendered": "<p>...</p>"},
                 "link": "https://blog.example/?p=1#comment-7"}]
        p = os.path.join(self.tmp, "page.json")
        with open(p, "w") as f:
            json.dump(page, f)
        before = self.counts()
        out = subprocess.run([THRESH, "--db", self.db, "train", "--wp-json", p], capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.counts(), (before[0], before[1] + 1, before[2] + 1))
        r = self.post_form("/1.1/submit-spam", comment_form(
            "History & more <3", comment_author="Ann Lee", comment_author_url="ann.example",
            comment_author_email="ann@b.example", user_ip="192.0.2.9"))
        self.assertEqual(r.headers.get("x-thresh-learned"), "moved", r)
        self.assertEqual(self.counts(), (before[0] + 1, before[1], before[2] + 1))


class BulkDevModeTest(DaemonTest):
    KEYS = None

    def test_learning_needs_a_key(self):
        r = BulkTest.bulk(self, [{"label": "spam", "content": NEW_TEXT}], key=None)
        body = self.assert_error(r, 401, "unauthorized")
        self.assertIn("without a key file", body["message"])


class BulkReadOnlyTest(DaemonTest):
    ARGS = ("--read-only",)

    def test_read_only(self):
        r = BulkTest.bulk(self, [{"label": "spam", "content": NEW_TEXT}])
        self.assert_error(r, 403, "read_only")

# ---------------------------------------------------------------------------
OPENSSL = shutil.which("openssl")


def make_cert(tmp, host="rest.akismet.com"):
    """A test CA and a certificate for host signed by it: (ca, cert, key)."""
    ca_key, ca = os.path.join(tmp, "ca.key"), os.path.join(tmp, "ca.pem")
    key, csr, cert = os.path.join(tmp, "tls.key"), os.path.join(tmp, "tls.csr"), os.path.join(tmp, "tls.pem")
    ext = os.path.join(tmp, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n" % host)
    run = lambda *a: subprocess.run(a, check=True, capture_output=True, timeout=60)
    run(OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
        "-days", "2", "-subj", "/CN=thresh test CA")
    run(OPENSSL, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + host)
    run(OPENSSL, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", ext)
    return ca, cert, key


class ListenTest(DaemonTest):
    """HTTPS beside HTTP, and sockets inherited from systemd (LISTEN_FDS)."""
    START = False

    def https_get(self, port, ca, path="/1.1/test"):
        p = subprocess.run([CURL, "-sS", "--max-time", "10", "--cacert", ca, "--resolve",
                            "rest.akismet.com:%d:127.0.0.1" % port,
                            "https://rest.akismet.com:%d%s" % (port, path)],
                           capture_output=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_tls_port(self):
        if not OPENSSL:
            self.skipTest("openssl is not installed")
        ca, cert, key = make_cert(self.tmp)
        d = self.start_daemon(["--tls-port", "0", "--tls-cert", cert, "--tls-key", key])
        m = re.search(r"HTTPS on 127\.0\.0\.1:(\d+)", d.stderr())
        self.assertTrue(m, d.stderr())
        self.assertEqual(self.https_get(int(m.group(1)), ca), b"connected")
        self.assertEqual(self.curl("GET", "/1.1/test", d=d).text, "connected")
        # A certificate without its key, or no files: refused at start.
        for args, what in [(["--tls-port", "0"], "--tls-cert"),
                           (["--tls-port", "0", "--tls-cert", cert, "--tls-key", os.path.join(self.tmp, "none")],
                            "No such file"),
                           (["--tls-port", "0", "--tls-cert", cert, "--tls-key", ext_file(self.tmp)],
                            "not a PEM file")]:
            p = subprocess.run([THRESHD, "--db", self.db, "--port", "0"] + args, capture_output=True,
                               text=True, timeout=20)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(what, p.stderr)

    def test_socket_activation(self):
        """threshd serves the sockets it inherits: one plain, one named https."""
        if not OPENSSL:
            self.skipTest("openssl is not installed")
        ca, cert, key = make_cert(self.tmp)
        plain = socket.socket()
        plain.bind(("127.0.0.1", 0))
        plain.listen(16)
        tls = socket.socket()
        tls.bind(("127.0.0.1", 0))
        tls.listen(16)
        keys = os.path.join(self.tmp, "keys")
        write_keys(keys, [KEY])
        err_path = os.path.join(self.tmp, "activated.err")

        def child():
            os.dup2(plain.fileno(), 3)
            os.dup2(tls.fileno(), 4)
        env = dict(os.environ, LISTEN_FDS="2", LISTEN_FDNAMES="http:https")
        # LISTEN_PID must be threshd's own: the shell sets it and execs threshd.
        cmd = ["sh", "-c", 'LISTEN_PID=$$ exec "$0" "$@"', THRESHD, "--db", self.db, "--keys", keys,
               "--threads", "1", "--port", "1", "--tls-cert", cert, "--tls-key", key]
        with open(err_path, "wb") as err:
            proc = subprocess.Popen(cmd, stderr=err, stdout=subprocess.DEVNULL, env=env,
                                    pass_fds=(plain.fileno(), tls.fileno()), preexec_fn=child)
        plain_port, tls_port = plain.getsockname()[1], tls.getsockname()[1]
        plain.close()
        tls.close()
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and b"listening" not in open(err_path, "rb").read():
                self.assertIsNone(proc.poll(), open(err_path, "rb").read())
                time.sleep(0.05)
            text = open(err_path, "rb").read().decode()
            self.assertIn("listening on 127.0.0.1:%d, HTTPS on 127.0.0.1:%d, inherited from systemd"
                          % (plain_port, tls_port), text)
            conn = http.client.HTTPConnection("127.0.0.1", plain_port, timeout=10)
            conn.request("POST", "/1.1/verify-key", body=form(key=KEY, blog="b"),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            self.assertEqual(conn.getresponse().read(), b"valid")
            conn.close()
            self.assertEqual(self.https_get(tls_port, ca), b"connected")
        finally:
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(20), 0, open(err_path, "rb").read())

    def test_inherited_socket_must_listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        env = dict(os.environ, LISTEN_FDS="1")
        p = subprocess.run(["sh", "-c", 'LISTEN_PID=$$ exec "$0" "$@"', THRESHD, "--db", self.db],
                           capture_output=True, text=True, env=env, timeout=20,
                           pass_fds=(s.fileno(),), preexec_fn=lambda: os.dup2(s.fileno(), 3))
        s.close()
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("not a listening TCP socket", p.stderr)


def ext_file(tmp):
    p = os.path.join(tmp, "not.pem")
    with open(p, "w") as f:
        f.write("not a key\n")
    return p


if __name__ == "__main__":
    unittest.main(verbosity=2)
