#!/usr/bin/env python3
"""mod_thresh in a real Apache httpd.

Makes a thresh database with the built `thresh` command, trains it on a small
fixture whose spam and ham are unambiguous, writes an httpd.conf that loads
mod_thresh in front of a small CGI application, starts /usr/sbin/apache2 on a
free loopback port and posts comment forms with curl. The application echoes
back, as JSON, the body it received (base64), its length and every THRESH_*
variable and X-Thresh-* header it saw.

Runs with the event MPM (mod_cgid) and with the prefork MPM (mod_cgi). Then
PhpBehindModThresh runs mod_php (prefork) behind mod_thresh and the README's
<If> rule, copied verbatim from plugin/apache/README.md, and sends it every
request found to get a comment to PHP unchecked.
Standard library only. env: THRESH_BIN, MOD_THRESH, optional THRESH_MODEL,
APACHE_BIN (/usr/sbin/apache2), CURL_BIN (curl), APACHE_MODULES
(/usr/lib/apache2/modules), LD_LIBRARY_PATH (the built libthresh).
"""
import base64
import grp
import http.client
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse

THRESH_BIN = os.environ.get("THRESH_BIN", "")
MOD_THRESH = os.environ.get("MOD_THRESH", "")
APACHE_BIN = os.environ.get("APACHE_BIN", "/usr/sbin/apache2")
CURL_BIN = os.environ.get("CURL_BIN") or shutil.which("curl") or "curl"
MODULES = os.environ.get("APACHE_MODULES", "/usr/lib/apache2/modules")
CGI_PYTHON = "/usr/bin/python3"
MAX_BODY = 8192

SPAM_WORDS = ("cheap viagra pills casino bonus jackpot winner crypto investment profit "
              "guaranteed loans replica watches discount pharmacy click offer free money").split()
HAM_WORDS = ("thanks article helpful recipe garden tomatoes enjoyed reading explanation "
             "chapter library weekend hiking photos agree point author careful").split()
SPAM = "cheap casino bonus click free money offer jackpot"
HAM = "thanks for the helpful article, I enjoyed reading about the garden"

APP = r"""#!%(python)s
# The comment application: echoes what it received as JSON.
import base64, json, os, sys
body = sys.stdin.buffer.read()
seen = {k: v for k, v in os.environ.items()
        if k.startswith("THRESH_") or k.startswith("HTTP_X_THRESH_")}
test_id = os.environ.get("HTTP_X_TEST_ID", "")
if test_id.isalnum():
    with open(os.path.join(%(calls)r, test_id), "w") as f:
        f.write("called")
out = json.dumps({"method": os.environ.get("REQUEST_METHOD"),
                  "content_length": os.environ.get("CONTENT_LENGTH"),
                  "length": len(body),
                  "body": base64.b64encode(body).decode("ascii"),
                  "seen": seen})
sys.stdout.write("Content-Type: application/json\r\n\r\n" + out)
"""

CONF = """
ServerRoot "%(tmp)s"
ServerName 127.0.0.1
Listen 127.0.0.1:%(port)d
PidFile "%(tmp)s/run/httpd.pid"
DefaultRuntimeDir "%(tmp)s/run"
Mutex file:%(tmp)s/run default
ErrorLog "%(tmp)s/error.log"
LogLevel warn thresh:info
Timeout 30
%(mpm)s
LoadModule authz_core_module %(modules)s/mod_authz_core.so
LoadModule alias_module %(modules)s/mod_alias.so
LoadModule env_module %(modules)s/mod_env.so
LoadModule actions_module %(modules)s/mod_actions.so
LoadModule thresh_module %(mod_thresh)s
%(user)s

<Directory />
    Require all denied
</Directory>
<Directory "%(tmp)s/cgi">
    Require all granted
</Directory>

ScriptAlias /comments "%(tmp)s/cgi/app.cgi"
ScriptAlias /pass "%(tmp)s/cgi/app.cgi"
ScriptAlias /custom "%(tmp)s/cgi/app.cgi"
ScriptAlias /open "%(tmp)s/cgi/app.cgi"
ScriptAlias /closed "%(tmp)s/cgi/app.cgi"
ScriptAlias /plain "%(tmp)s/cgi/app.cgi"
Alias /act "%(tmp)s/cgi/act"

# The database for the whole server; locations inherit it.
ThreshDatabase "%(db)s"
ThreshConfig "%(tmp)s/thresh.conf"

<Location /comments>
    Thresh On
    ThreshAction reject 422
    ThreshAction hold pass
    ThreshMaxBody %(max_body)d
</Location>

# The same folder named again: one handle per process is shared.
<Location /pass>
    Thresh On
    ThreshDatabase "%(db)s"
    ThreshConfig "%(tmp)s/thresh.conf"
    ThreshAction accept pass
    ThreshAction hold pass
    ThreshAction reject pass
</Location>

<Location /custom>
    Thresh On
    ThreshField content body
    ThreshField email mail
    ThreshField author name
    ThreshField url none
    ThreshField honeypot website2
    ThreshAction reject status 403
</Location>

# A handler that redirects internally (how php-cgi is run with Action): the
# body read and checked here must reach the script the request lands on.
<Location /act>
    Thresh On
    ThreshAction reject pass
    SetHandler thresh-test-action
    Action thresh-test-action /plain virtual
</Location>

<Location /open>
    Thresh On
    ThreshDatabase "%(tmp)s/missing-db"
    ThreshFailMode open
</Location>

<Location /closed>
    Thresh On
    ThreshDatabase "%(tmp)s/missing-db"
    ThreshFailMode closed
</Location>
"""

MPMS = {
    "event": """LoadModule mpm_event_module %(modules)s/mod_mpm_event.so
LoadModule cgid_module %(modules)s/mod_cgid.so
ScriptSock "%(tmp)s/run/cgid.sock"
StartServers 1
ServerLimit 2
ThreadLimit 8
ThreadsPerChild 8
MinSpareThreads 1
MaxSpareThreads 16
MaxRequestWorkers 16""",
    "prefork": """LoadModule mpm_prefork_module %(modules)s/mod_mpm_prefork.so
LoadModule cgi_module %(modules)s/mod_cgi.so
StartServers 2
MinSpareServers 1
MaxSpareServers 3
MaxRequestWorkers 6""",
}

# The PHP application: what PHP itself made of the request ($_POST), as JSON.
PHP_APP = r"""<?php
$id = $_SERVER['HTTP_X_TEST_ID'] ?? '';
if (ctype_alnum($id)) {
    file_put_contents(%(calls)r . '/' . $id, 'called');
}
header('Content-Type: application/json');
echo json_encode(['post' => $_POST, 'content_type' => $_SERVER['CONTENT_TYPE'] ?? null,
                  'verdict' => $_SERVER['THRESH_VERDICT'] ?? null]);
"""

# mod_php (prefork only: Debian's PHP is not thread-safe) with the comment
# endpoint guarded as the README says: mod_thresh, rejecting with 403, and
# the README's rule refusing other POSTs, copied verbatim (readme_rule()).
PHP_CONF = """
LoadModule php_module %(modules)s/%(php)s
<FilesMatch "[.]php$">
    SetHandler application/x-httpd-php
</FilesMatch>
php_admin_flag log_errors on
php_admin_value error_log "%(tmp)s/php-error.log"
<Directory "%(tmp)s/php">
    Require all granted
</Directory>
Alias /wp-comments-post.php "%(tmp)s/php/app.php"
Alias /unchecked.php "%(tmp)s/php/app.php"

<Location /wp-comments-post.php>
    Thresh On
    ThreshAction reject 403
%(rule)s
</Location>
"""

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
READMES = ("plugin/apache/README.md", "README.md")


def readme_rules():
    """Each README's <If> ... </If> rule refusing non-form POSTs, as a list
    of (README, its lines with the README's indentation removed)."""
    out = []
    for name in READMES:
        with open(os.path.join(SOURCE_ROOT, name)) as f:
            text = f.read()
        for m in re.finditer(r"^([ \t]*)<If .*?^[ \t]*</If>[ \t]*$", text, re.M | re.S):
            indent = m.group(1)
            lines = [line[len(indent):] if line.startswith(indent) else line
                     for line in m.group(0).splitlines()]
            out.append((name, "\n".join(lines)))
    return out


def php_module():
    for name in sorted(os.listdir(MODULES)) if os.path.isdir(MODULES) else []:
        if re.fullmatch(r"libphp[0-9.]*\.so", name):
            return name
    return None


THRESH_CONF = """# the site's rules for the test
moderation_words = moderateme
# every request here comes from 127.0.0.1 and stands for another visitor:
# the address's own rate (ip_rate_limit; tests/unit/test_ratelimit.c)
# would stop them, as it would a site behind a proxy without mod_remoteip
ip_rate_limit = 0
"""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing_prerequisite():
    for what, path in (("THRESH_BIN", THRESH_BIN), ("MOD_THRESH", MOD_THRESH)):
        if not path or not os.path.exists(path):
            return "%s not set or missing" % what
    if not os.access(APACHE_BIN, os.X_OK):
        return "no Apache httpd at %s" % APACHE_BIN
    if not shutil.which(CURL_BIN):
        return "no curl"
    if not os.access(CGI_PYTHON, os.X_OK):
        return "no %s for the CGI application" % CGI_PYTHON
    return None


def make_database(tmp):
    """A trained database in tmp/db and the fixture it was trained on."""
    rnd = random.Random(5)
    fixture = os.path.join(tmp, "fixture.tsv")
    with open(fixture, "w") as f:
        for _ in range(40):
            f.write("spam\t" + " ".join(rnd.sample(SPAM_WORDS, 8)) + "\n")
            f.write("ham\t" + " ".join(rnd.sample(HAM_WORDS, 8)) + "\n")
    db = os.path.join(tmp, "db")
    env = dict(os.environ)
    subprocess.run([THRESH_BIN, "--db", db, "init", "--empty"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    subprocess.run([THRESH_BIN, "--db", db, "train", "--tsv", fixture], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    return db


def give_to(path, uid, gid):
    """chown -R path."""
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid)


class Server:
    """One Apache httpd with a generated configuration, in its own folder."""

    def __init__(self, mpm, env=None, conf_extra="", conf_values=None):
        self.tmp = tempfile.mkdtemp(prefix="thresh-apache-")
        os.chmod(self.tmp, 0o755)
        self.port = free_port()
        self.proc = None
        self.log = os.path.join(self.tmp, "error.log")
        self.calls = os.path.join(self.tmp, "calls")
        for d in ("run", "cgi", "calls"):
            os.mkdir(os.path.join(self.tmp, d))
        os.chmod(self.calls, 0o1777)
        self.db = make_database(self.tmp)
        with open(os.path.join(self.tmp, "thresh.conf"), "w") as f:
            f.write(THRESH_CONF)
        os.chmod(os.path.join(self.tmp, "thresh.conf"), 0o644)
        app = os.path.join(self.tmp, "cgi", "app.cgi")
        with open(app, "w") as f:
            f.write(APP % {"python": CGI_PYTHON, "calls": self.calls})
        os.chmod(app, 0o755)
        user = ""
        if os.geteuid() == 0:
            # Apache refuses to run its children as root: they run as nobody,
            # which must own the database (LMDB writes lock.mdb, the rate
            # limiter writes its state).
            nobody = pwd.getpwnam("nobody")
            group = "nogroup"
            try:
                gid = grp.getgrnam(group).gr_gid
            except KeyError:
                group, gid = "#%d" % nobody.pw_gid, nobody.pw_gid
            give_to(self.db, nobody.pw_uid, gid)
            user = "User nobody\nGroup %s" % group
        values = {"tmp": self.tmp, "port": self.port, "modules": MODULES,
                  "mod_thresh": MOD_THRESH, "db": self.db, "user": user, "max_body": MAX_BODY,
                  "php": php_module()}
        values.update(conf_values or {})
        values["mpm"] = MPMS[mpm] % values
        self.conf = os.path.join(self.tmp, "httpd.conf")
        with open(self.conf, "w") as f:
            f.write((CONF + conf_extra) % values)
        if "php_module" in conf_extra:
            os.mkdir(os.path.join(self.tmp, "php"))
            with open(os.path.join(self.tmp, "php", "app.php"), "w") as f:
                f.write(PHP_APP % {"calls": self.calls})
            os.chmod(os.path.join(self.tmp, "php", "app.php"), 0o644)
        self.env = dict(os.environ)
        self.env.update(env or {})

    def start(self, expect_up=True):
        """Start httpd in the foreground; wait (bounded) for its port, or with
        expect_up False for it to exit. Returns the exit status or None."""
        self.out = open(os.path.join(self.tmp, "stdout.log"), "w+")
        self.proc = subprocess.Popen([APACHE_BIN, "-d", self.tmp, "-f", self.conf, "-DFOREGROUND"],
                                     stdout=self.out, stderr=subprocess.STDOUT, env=self.env,
                                     # prefork signals its whole process group on
                                     # shutdown: give it one of its own.
                                     start_new_session=True)
        for _ in range(200):
            rc = self.proc.poll()
            if rc is not None:
                return rc
            if expect_up:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                    s.settimeout(0.2)
                    if s.connect_ex(("127.0.0.1", self.port)) == 0:
                        return None
            time.sleep(0.1)
        if expect_up:
            raise RuntimeError("apache did not open port %d:\n%s" % (self.port, self.logs()))
        return None

    def logs(self):
        text = ""
        for name in ("error.log", "stdout.log"):
            try:
                with open(os.path.join(self.tmp, name), errors="replace") as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if getattr(self, "out", None):
            self.out.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


class Response:
    def __init__(self, status, body, headers):
        self.status = status
        self.raw = body
        self.headers = headers

    def json(self):
        return json.loads(self.raw)


class ApacheBase:
    """The checks, run against one server per MPM (see the subclasses)."""
    mpm = None
    serial = 0

    @classmethod
    def setUpClass(cls):
        why = missing_prerequisite()
        if why:
            raise unittest.SkipTest(why)
        cls.server = Server(cls.mpm)
        try:
            cls.server.start()
        except Exception:
            cls.server.cleanup()
            raise
        cls.base = "http://127.0.0.1:%d" % cls.server.port
        cls.sent = []  # every e-mail and comment text posted, for the log check

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    # ---- helpers ----

    @classmethod
    def next_id(cls):
        ApacheBase.serial += 1
        return "t%d%d" % (os.getpid(), ApacheBase.serial)

    def email(self):
        e = "someone%s@example.org" % self.next_id()
        self.sent.append(e)
        return e

    def curl(self, path, data=None, content_type=None, headers=(), chunked=False, method=None):
        """One request with the curl command; data is bytes sent verbatim.
        Returns a Response and the id the application logs it under."""
        test_id = self.next_id()
        tmp = self.server.tmp
        body_file = os.path.join(tmp, "resp-" + test_id)
        head_file = os.path.join(tmp, "head-" + test_id)
        cmd = [CURL_BIN, "-sS", "--noproxy", "*", "--max-time", "30", "-o", body_file,
               "-D", head_file, "-w", "%{http_code}", "-H", "X-Test-Id: " + test_id,
               "-A", "Mozilla/5.0 (thresh test)", "-e", "http://127.0.0.1/post/1"]
        for h in headers:
            cmd += ["-H", h]
        if data is not None:
            data_file = os.path.join(tmp, "req-" + test_id)
            with open(data_file, "wb") as f:
                f.write(data)
            cmd += ["--data-binary", "@" + data_file]
            cmd += ["-H", "Content-Type: " + (content_type or "application/x-www-form-urlencoded")]
            if chunked:
                cmd += ["-H", "Transfer-Encoding: chunked"]
        if method:
            cmd += ["-X", method]
        cmd.append(self.base + path)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=60)
        status = int(p.stdout.strip() or 0)
        try:
            with open(body_file, "rb") as f:
                body = f.read()
        except OSError:
            body = b""
        headers_out = {}
        try:
            with open(head_file, errors="replace") as f:
                for line in f:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers_out[k.strip().lower()] = v.strip()
        except OSError:
            pass
        return Response(status, body, headers_out), test_id

    def raw(self, path, body, headers):
        """One POST with http.client, which sends every header given, repeated
        ones too (curl's -H replaces). headers: (name, value) pairs. Returns
        the status, the body and the id the application logs it under."""
        test_id = self.next_id()
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            conn.putrequest("POST", path)
            for k, v in [("X-Test-Id", test_id), ("User-Agent", "Mozilla/5.0 (thresh test)"),
                         ("Content-Length", str(len(body)))] + list(headers):
                conn.putheader(k, v)
            conn.endheaders(body)
            resp = conn.getresponse()
            return resp.status, resp.read(), test_id
        finally:
            conn.close()

    def called(self, test_id):
        return os.path.exists(os.path.join(self.server.calls, test_id))

    def form(self, **fields):
        for k in ("comment", "body"):
            if k in fields:
                self.sent.append(fields[k])
        return urllib.parse.urlencode(fields).encode("ascii")

    def post_ok(self, path, data, **kw):
        """Post and expect the application to answer; returns what it saw."""
        r, test_id = self.curl(path, data, **kw)
        self.assertEqual(r.status, 200, r.raw[:500])
        self.assertTrue(self.called(test_id))
        seen = r.json()
        self.assertEqual(base64.b64decode(seen["body"]), data, "body reached the app intact")
        self.assertEqual(seen["length"], len(data))
        return seen

    # ---- the checks ----

    def test_ham_is_accepted_and_passed_on(self):
        data = self.form(comment=HAM, author="Ann", email=self.email(), url="")
        seen = self.post_ok("/comments", data)["seen"]
        self.assertEqual(seen["THRESH_VERDICT"], "accept")
        self.assertEqual(seen["HTTP_X_THRESH_VERDICT"], "accept")
        self.assertLess(float(seen["THRESH_SCORE"]), 0.5)
        self.assertEqual(seen["HTTP_X_THRESH_SCORE"], seen["THRESH_SCORE"])
        self.assertIn("THRESH_REASONS", seen)
        self.assertNotIn("bayes", seen["THRESH_REASONS"])
        self.assertEqual(seen.get("THRESH_BLATANT"), "0")

    def test_spam_is_rejected_with_the_configured_status(self):
        data = self.form(comment=SPAM, author="Bob", email=self.email())
        r, test_id = self.curl("/comments", data)
        self.assertEqual(r.status, 422)
        self.assertFalse(self.called(test_id), "the application never saw the spam")

    def test_spam_passed_on_with_its_verdict(self):
        data = self.form(comment=SPAM, author="Bob", email=self.email())
        seen = self.post_ok("/pass", data)["seen"]
        self.assertEqual(seen["THRESH_VERDICT"], "reject")
        self.assertEqual(seen["HTTP_X_THRESH_VERDICT"], "reject")
        self.assertGreater(float(seen["THRESH_SCORE"]), 0.5)
        self.assertIn("bayes", seen["THRESH_REASONS"].split())
        self.assertEqual(seen["HTTP_X_THRESH_REASONS"], seen["THRESH_REASONS"])

    def test_hold_from_thresh_conf_is_passed_on(self):
        # ThreshConfig names a thresh.conf whose moderation word holds the comment.
        data = self.form(comment=HAM + " moderateme", author="Cy", email=self.email())
        seen = self.post_ok("/comments", data)["seen"]
        self.assertEqual(seen["THRESH_VERDICT"], "hold")
        self.assertIn("moderation_word", seen["THRESH_REASONS"].split())

    def test_utf8_body_arrives_byte_for_byte(self):
        text = HAM + " — naïve café, 中文评论, emoji 🌱, ½ + 50% & more"
        data = self.form(comment=text, author="Zoë", email=self.email(), url="https://例え.jp/")
        seen = self.post_ok("/comments", data)["seen"]
        self.assertIn(seen["THRESH_VERDICT"], ("accept", "hold"))
        # Raw (unencoded) UTF-8, invalid UTF-8, NUL and odd escapes: the app
        # still gets exactly these bytes, and the check still runs.
        raw = (b"comment=" + HAM.encode() + " grüße ".encode() + b"%FF%00%zz+%E2%82&author=\xc3\xa9"
               b"&email=" + self.email().encode() + b"&comment_post_ID=7&&=x&flag")
        seen = self.post_ok("/comments", raw)["seen"]
        self.assertIn(seen["THRESH_VERDICT"], ("accept", "hold", "reject"))

    def test_body_at_the_limit_passes_intact(self):
        data = self.form(comment=HAM, author="Dee", email=self.email(), pad="")
        data += b"x" * (MAX_BODY - len(data))
        self.assertEqual(len(data), MAX_BODY)
        seen = self.post_ok("/comments", data)
        self.assertEqual(seen["content_length"], str(MAX_BODY))
        self.assertIn(seen["seen"]["THRESH_VERDICT"], ("accept", "hold"))

    def test_body_over_the_limit_gets_413(self):
        data = self.form(comment=HAM, author="Eve", email=self.email(), pad="")
        data += b"x" * (MAX_BODY + 1 - len(data))
        r, test_id = self.curl("/comments", data)
        self.assertEqual(r.status, 413)
        self.assertFalse(self.called(test_id))
        # Without a Content-Length the limit is found while reading.
        r, test_id = self.curl("/comments", data + b"y" * 5000, chunked=True)
        self.assertEqual(r.status, 413)
        self.assertFalse(self.called(test_id))

    def test_chunked_form_under_the_limit(self):
        data = self.form(comment=HAM, author="Fay", email=self.email())
        r, test_id = self.curl("/pass", data, chunked=True)
        if r.status == 411:
            self.skipTest("this CGI module refuses chunked request bodies (411)")
        self.assertEqual(r.status, 200, r.raw[:300])
        seen = r.json()
        self.assertEqual(base64.b64decode(seen["body"]), data)
        self.assertIn(seen["seen"]["THRESH_VERDICT"], ("accept", "hold"))

    def test_flood_from_one_email_is_rate_limited(self):
        # The library's default: 5 a minute, a burst of 3.
        email = self.email()
        reasons = []
        for i in range(5):
            data = self.form(comment=HAM + " number %d" % i, author="Gil", email=email)
            seen = self.post_ok("/pass", data)["seen"]
            reasons.append(seen["THRESH_REASONS"].split())
            if i == 3:
                self.assertEqual(seen["THRESH_VERDICT"], "reject")
                self.assertGreater(int(seen["THRESH_RETRY_AFTER"]), 0)
        for i in range(3):
            self.assertNotIn("rate_limited", reasons[i], "comment %d" % (i + 1))
        self.assertIn("rate_limited", reasons[3], "the 4th comment in a row")
        # Where a reject is answered with a status, Retry-After says when to retry.
        email = self.email()
        statuses = []
        for i in range(4):
            data = self.form(comment=HAM + " again %d" % i, author="Hal", email=email)
            r, _ = self.curl("/comments", data)
            statuses.append(r.status)
        self.assertEqual(statuses[:3], [200, 200, 200])
        self.assertEqual(statuses[3], 422)
        self.assertGreater(int(r.headers.get("retry-after", "0")), 0)

    def test_get_and_other_posts_pass_untouched(self):
        r, test_id = self.curl("/comments?p=1")
        self.assertEqual(r.status, 200)
        seen = r.json()
        self.assertEqual(seen["method"], "GET")
        self.assertEqual(seen["seen"], {})
        blob = json.dumps({"comment": SPAM, "email": "x@example.org"}).encode()
        for ctype in ("application/json", "text/plain; charset=utf-8"):
            seen = self.post_ok("/comments", blob, content_type=ctype)
            self.assertEqual(seen["seen"], {})
        binary = bytes(range(256)) * 40  # over ThreshMaxBody, but not a form
        seen = self.post_ok("/comments", binary, content_type="application/octet-stream")
        self.assertEqual(seen["seen"], {})

    def test_spoofed_headers_are_dropped(self):
        spoof = ["X-Thresh-Verdict: accept", "X-Thresh-Score: 0.0000", "X-Thresh-Custom: 1"]
        r, _ = self.curl("/comments", headers=spoof)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["seen"], {})
        data = self.form(comment=SPAM, author="Ivy", email=self.email())
        seen = self.post_ok("/pass", data, headers=spoof)["seen"]
        self.assertEqual(seen["HTTP_X_THRESH_VERDICT"], "reject")
        self.assertNotEqual(seen["HTTP_X_THRESH_SCORE"], "0.0000")
        self.assertNotIn("HTTP_X_THRESH_CUSTOM", seen)
        # Outside a Thresh location nothing is touched.
        r, _ = self.curl("/plain", headers=spoof)
        self.assertEqual(r.json()["seen"]["HTTP_X_THRESH_VERDICT"], "accept")

    def test_custom_field_names_and_honeypot(self):
        data = self.form(body=SPAM, name="Jo", mail=self.email(), website2="")
        r, test_id = self.curl("/custom", data)
        self.assertEqual(r.status, 403)
        self.assertFalse(self.called(test_id))
        data = self.form(body=HAM, name="Jo", mail=self.email(), website2="")
        seen = self.post_ok("/custom", data)["seen"]
        self.assertEqual(seen["THRESH_VERDICT"], "accept")
        data = self.form(body=HAM, name="Jo", mail=self.email(), website2="http://bot.example/")
        r, test_id = self.curl("/custom", data)
        self.assertEqual(r.status, 403, "a filled honeypot is rejected")
        # The WordPress names mean nothing here: no content, nothing to reject.
        data = self.form(comment=SPAM, author="Jo", email=self.email())
        seen = self.post_ok("/custom", data)["seen"]
        self.assertNotEqual(seen["THRESH_VERDICT"], "reject")

    def test_internal_redirect_keeps_body_and_verdict(self):
        data = self.form(comment=SPAM, author="Max", email=self.email())
        seen = self.post_ok("/act", data)["seen"]
        self.assertEqual(seen["THRESH_VERDICT"], "reject")
        self.assertEqual(seen["HTTP_X_THRESH_VERDICT"], "reject")
        self.assertIn("bayes", seen["THRESH_REASONS"].split())

    def test_broken_database_fails_open(self):
        data = self.form(comment=SPAM, author="Kim", email=self.email())
        seen = self.post_ok("/open", data)["seen"]
        self.assertEqual(seen["THRESH_VERDICT"], "error")
        self.assertEqual(seen["HTTP_X_THRESH_VERDICT"], "error")
        self.assertNotIn("THRESH_SCORE", seen)
        self.assertIn("cannot open database", self.server.logs())

    def test_broken_database_fails_closed(self):
        data = self.form(comment=HAM, author="Lee", email=self.email())
        r, test_id = self.curl("/closed", data)
        self.assertEqual(r.status, 503)
        self.assertFalse(self.called(test_id))

    # ---- what the application would read as the comment is what is checked ----

    def test_a_form_type_however_written_is_checked(self):
        # PHP cuts the media type at ';', ',' or a space and ignores case
        # (SAPI.c); Apache joins repeated headers with ", ". Each of these is
        # a form to some application, so each is checked.
        for ctype in ("application/x-www-form-urlencoded,x",
                      "application/x-www-form-urlencoded, text/plain",
                      "Application/X-WWW-Form-Urlencoded x",
                      "application/x-www-form-urlencoded\tx",
                      "application/x-www-form-urlencoded ; charset=UTF-8",
                      "text/plain, application/x-www-form-urlencoded"):
            data = self.form(comment=SPAM, author="Nia", email=self.email())
            r, test_id = self.curl("/comments", data, content_type=ctype)
            self.assertEqual(r.status, 422, ctype)
            self.assertFalse(self.called(test_id), ctype)
        # The same header twice: Apache hands on one value, "A, B".
        for first, second in (("application/x-www-form-urlencoded", "text/plain"),
                              ("text/plain", "application/x-www-form-urlencoded")):
            data = self.form(comment=SPAM, author="Nia", email=self.email())
            status, _, test_id = self.raw("/comments", data, [("Content-Type", first),
                                                              ("Content-Type", second)])
            self.assertEqual(status, 422, (first, second))
            self.assertFalse(self.called(test_id))
        # Types that are no form to anyone still pass untouched.
        data = self.form(comment=SPAM, author="Nia", email=self.email())
        for ctype in ("application/x-www-form-urlencodedx", "text/x-www-form-urlencoded",
                      "application/json; x=application/x-www-form-urlencoded"):
            seen = self.post_ok("/comments", data, content_type=ctype)
            self.assertEqual(seen["seen"], {}, ctype)

    def test_an_encoded_form_gets_415(self):
        # PHP ignores Content-Encoding and parses the bytes as they come; a
        # body thresh cannot read as the application will is refused.
        for enc in ("x", "gzip", "identity, gzip", "IDENTITY,x"):
            data = self.form(comment=SPAM, author="Oli", email=self.email())
            r, test_id = self.curl("/comments", data, headers=["Content-Encoding: " + enc])
            self.assertEqual(r.status, 415, enc)
            self.assertFalse(self.called(test_id), enc)
        r, test_id = self.curl("/pass", data, headers=["Content-Encoding: x"])
        self.assertEqual(r.status, 415, "even where every verdict passes")
        self.assertFalse(self.called(test_id))
        # identity is no encoding.
        data = self.form(comment=HAM, author="Oli", email=self.email())
        seen = self.post_ok("/comments", data, headers=["Content-Encoding: Identity"])
        self.assertEqual(seen["seen"]["THRESH_VERDICT"], "accept")

    def test_field_names_are_read_as_php_reads_them(self):
        # PHP drops leading spaces, stops a name at NUL, turns "comment[...]"
        # into an array named comment (php_register_variable_ex): each of
        # these is $_POST['comment'] there.
        spam = urllib.parse.quote_plus(SPAM)
        for name in ("+comment", "%20%20comment", "comment%00x", "%63omment", "comment[]",
                     "comment%5B%5D", "comment[x]", "comment[+]"):
            email = urllib.parse.quote(self.email())
            body = ("author=Pat&email=%s&%s=%s" % (email, name, spam)).encode()
            r, test_id = self.curl("/comments", body)
            self.assertEqual(r.status, 422, name)
            self.assertFalse(self.called(test_id), name)
        # The other fields too: a honeypot filled under another spelling.
        body = "body=%s&name=Jo&mail=%s&+website2=x" % (urllib.parse.quote_plus(HAM),
                                                        urllib.parse.quote(self.email()))
        r, test_id = self.curl("/custom", body.encode())
        self.assertEqual(r.status, 403, "a filled honeypot, however its name is spelled")

    def test_a_checked_field_given_twice_differently_gets_400(self):
        # PHP keeps the last value, other frameworks the first: thresh does
        # not guess which one the application reads.
        email = urllib.parse.quote(self.email())
        ham, spam = urllib.parse.quote_plus(HAM), urllib.parse.quote_plus(SPAM)
        for body in ("comment=%s&email=%s&comment=%s" % (spam, email, ham),
                     "comment=%s&email=%s&comment=%s" % (ham, email, spam),
                     "comment=%s&email=%s&+comment=%s" % (ham, email, spam),
                     "comment[]=%s&email=%s&comment[]=%s" % (ham, email, spam),
                     "comment=%s&email=%s&email=other%%40example.org" % (ham, email)):
            r, test_id = self.curl("/pass", body.encode())
            self.assertEqual(r.status, 400, body)
            self.assertFalse(self.called(test_id), body)
        # The same value twice is no conflict; fields not checked may repeat.
        body = "comment=%s&email=%s&comment=%s&x=1&x=2" % (ham, email, ham)
        seen = self.post_ok("/comments", body.encode())["seen"]
        self.assertEqual(seen["THRESH_VERDICT"], "accept")

    def test_zz_logs_keep_no_comment_email_or_address(self):
        # Runs last (alphabetical order): everything above was logged by now.
        time.sleep(0.3)
        log = self.server.logs()
        self.assertIn("mod_thresh: libthresh", log)
        self.assertIn("mod_thresh: POST /comments", log)
        for s in self.sent:
            self.assertNotIn(s, log)
        for line in log.splitlines():
            if "mod_thresh" in line:
                self.assertNotIn("127.0.0.1", line, line)
        self.assertNotIn("exit signal", log, "no worker crashed")
        self.assertNotIn("Segmentation", log)


class EventMPM(ApacheBase, unittest.TestCase):
    mpm = "event"


class PreforkMPM(ApacheBase, unittest.TestCase):
    mpm = "prefork"


class PhpBehindModThresh(unittest.TestCase):
    """What PHP (mod_php, as installed) reads as the comment is what
    mod_thresh checked, with the README's configuration: every way found to
    get a comment to PHP unchecked now gets 403, 415 or 400, where a plain
    form post of the same spam gets 403. /unchecked.php is the same script
    without mod_thresh: it shows what PHP would have read."""

    @classmethod
    def setUpClass(cls):
        why = missing_prerequisite()
        if why:
            raise unittest.SkipTest(why)
        if not php_module():
            raise unittest.SkipTest("no mod_php (libapache2-mod-php) in %s" % MODULES)
        rules = readme_rules()
        cls.rule = rules[0][1] if rules else ""
        cls.server = Server("prefork", conf_extra=PHP_CONF, conf_values={
            "rule": "\n".join("    " + line for line in cls.rule.splitlines())})
        try:
            cls.server.start()
        except Exception:
            cls.server.cleanup()
            raise
        cls.base = "http://127.0.0.1:%d" % cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    next_id = ApacheBase.next_id
    raw = ApacheBase.raw
    called = ApacheBase.called

    def post(self, path, body, headers):
        status, out, test_id = self.raw(path, body, headers)
        return status, out, self.called(test_id)

    # Each: what is sent, what PHP reads as the comment (at /unchecked.php),
    # and the status mod_thresh and the README's rule answer now.
    FORM = [("Content-Type", "application/x-www-form-urlencoded")]

    def tail(self, author):
        """The rest of a form: an author and an e-mail of its own (so that no
        request is rate-limited)."""
        return "&author=%s&email=%s%%40example.org" % (author, self.next_id())

    def attacks(self):
        spam, ham = urllib.parse.quote_plus(SPAM), urllib.parse.quote_plus(HAM)

        def t():
            return self.tail("Mallory")
        boundary = "thresh0boundary"
        multipart = ("--%s\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\n%s\r\n"
                     "--%s--\r\n" % (boundary, SPAM, boundary))
        return [
            ("type ending in ,x", "comment=" + spam + t(),
             [("Content-Type", "application/x-www-form-urlencoded,x")], SPAM, 403),
            ("type given twice", "comment=" + spam + t(),
             [("Content-Type", "application/x-www-form-urlencoded"),
              ("Content-Type", "text/plain")], SPAM, 403),
            ("type and a space", "comment=" + spam + t(),
             [("Content-Type", "application/x-www-form-urlencoded x")], SPAM, 403),
            ("Content-Encoding: x", "comment=" + spam + t(),
             self.FORM + [("Content-Encoding", "x")], SPAM, 415),
            ("a name with a leading +", "+comment=" + spam + t(), self.FORM, SPAM, 403),
            ("a name with a leading %20", "%20comment=" + spam + t(), self.FORM, SPAM, 403),
            ("a name cut at NUL", "comment%00x=" + spam + t(), self.FORM, SPAM, 403),
            ("a name percent-encoded", "%63omment=" + spam + t(), self.FORM, SPAM, 403),
            ("a name as an array", "comment[x]=" + spam + t(), self.FORM, {"x": SPAM}, 403),
            ("ham first, spam under another spelling last",
             "comment=" + ham + t() + "&+comment=" + spam, self.FORM, SPAM, 400),
            ("multipart", multipart,
             [("Content-Type", "multipart/form-data; boundary=" + boundary)], SPAM, 403),
        ]

    def test_readmes_give_one_rule(self):
        rules = readme_rules()
        self.assertEqual(sorted(name for name, _ in rules), sorted(READMES),
                         "each README gives the rule once")
        self.assertEqual(len({rule for _, rule in rules}), 1, "the READMEs' rules differ")

    def test_php_reads_each_attack_as_the_comment(self):
        # The premise, with the PHP on this machine: without mod_thresh each
        # request below puts the spam in $_POST['comment'].
        for what, body, headers, php_reads, _ in self.attacks():
            with self.subTest(what):
                status, out, called = self.post("/unchecked.php", body.encode(), headers)
                self.assertEqual(status, 200)
                self.assertEqual(json.loads(out)["post"].get("comment"), php_reads)

    def test_each_attack_is_refused(self):
        for what, body, headers, _, expect in self.attacks():
            with self.subTest(what):
                status, out, called = self.post("/wp-comments-post.php", body.encode(), headers)
                self.assertEqual(status, expect, out[:300])
                self.assertFalse(called, "PHP ran")

    def test_plain_spam_gets_403_and_ham_reaches_php_checked(self):
        status, _, called = self.post(
            "/wp-comments-post.php",
            ("comment=" + urllib.parse.quote_plus(SPAM) + self.tail("Ann")).encode(), self.FORM)
        self.assertEqual(status, 403)
        self.assertFalse(called)
        for ctype in ("application/x-www-form-urlencoded",
                      "application/x-www-form-urlencoded; charset=UTF-8"):
            status, out, called = self.post(
                "/wp-comments-post.php",
                ("comment=" + urllib.parse.quote_plus(HAM) + self.tail("Ann")).encode(),
                [("Content-Type", ctype)])
            self.assertEqual(status, 200, out[:300])
            self.assertTrue(called)
            seen = json.loads(out)
            self.assertEqual(seen["post"]["comment"], HAM)
            self.assertEqual(seen["verdict"], "accept")


class Startup(unittest.TestCase):
    """mod_thresh uses the plugin table alone, and refuses to start when the
    library refuses its ABI."""

    @classmethod
    def setUpClass(cls):
        why = missing_prerequisite()
        if why:
            raise unittest.SkipTest(why)

    def test_module_imports_only_the_plugin_entry_point(self):
        nm = shutil.which("nm")
        if not nm:
            self.skipTest("no nm")
        out = subprocess.run([nm, "-D", "--undefined-only", MOD_THRESH], stdout=subprocess.PIPE,
                             text=True, check=True).stdout
        imported = sorted(line.split()[-1].split("@")[0] for line in out.splitlines()
                          if line.split()[-1].startswith("thresh_"))
        self.assertEqual(imported, ["thresh_plugin_get"])

    def test_refuses_to_start_on_an_abi_mismatch(self):
        cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
        if not cc:
            self.skipTest("no C compiler for the stand-in library")
        server = Server("prefork")
        try:
            # A stand-in libthresh.so.0 that provides no ABI at all.
            libdir = os.path.join(server.tmp, "fakelib")
            os.mkdir(libdir)
            src = os.path.join(libdir, "fake.c")
            with open(src, "w") as f:
                f.write("#include <stddef.h>\n#include <stdint.h>\n"
                        "int thresh_plugin_get(uint32_t abi, size_t size, const void **out)\n"
                        "{ (void)abi; (void)size; if (out) *out = NULL; return -17; }\n")
            # The real library versions its symbols (THRESH_0.1); so must this one.
            mapfile = os.path.join(libdir, "fake.map")
            with open(mapfile, "w") as f:
                f.write("THRESH_0.1 { global: thresh_plugin_get; local: *; };\n")
            subprocess.run([cc, "-shared", "-fPIC", "-Wl,-soname,libthresh.so.0",
                            "-Wl,--version-script=" + mapfile, "-o",
                            os.path.join(libdir, "libthresh.so.0"), src], check=True)
            path = libdir + ":" + os.environ.get("LD_LIBRARY_PATH", "")
            server.env["LD_LIBRARY_PATH"] = path
            rc = server.start(expect_up=False)
            self.assertIsNotNone(rc, "apache kept running with a library that refused the ABI")
            self.assertNotEqual(rc, 0)
            log = server.logs()
            self.assertIn("libthresh refused plugin ABI 1", log)
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
