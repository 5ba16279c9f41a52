#!/usr/bin/env python3
"""Integration tests of threshd --sites DIR: one daemon, many sites.

    THRESH_BIN=build/src/cli/thresh THRESHD_BIN=build/src/daemon/threshd \
    THRESH_MODEL=build/models/default.dump python3 tests/daemon/test_sites.py [-v]

Every test starts the real threshd on a free loopback port with a key file
of "KEY SITE" lines and a folder of sites that does not exist yet: each site
is made from the default model on its first request. The tests talk HTTP to
it with curl (test_daemon.py's helpers) and from threads with http.client.
"""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_daemon as td  # noqa: E402

MODEL = os.environ.get("THRESH_MODEL", "")

# No rate limit unless a test asks, and no first-comment hold: the tests
# post many comments from one address.
CONF = """rate_limit = 0
first_comment = off
"""

# A kind of spam the default model has not seen: the words are its own.
SPAM_LIKE = ("quorvex zantrium pellicode tablets shipped overnight from quorvex pharmacy "
             "zantrium discount code pellicode %d visit quorvex-zantrium.example")
SPAM_PROBE = ("quorvex zantrium pellicode tablets from quorvex pharmacy zantrium "
              "pellicode offer visit quorvex-zantrium.example")


def setUpModule():
    td.setUpModule()  # the trained toy database DaemonTest copies (used by --db tests)


def tearDownModule():
    td.tearDownModule()


def key_of(site):
    return "key-%s-0123456789" % site.replace(".", "-")


def site_metric(text, name, label=None):
    for line in text.splitlines():
        if line.startswith(name + ("{" + label + "}" if label else " ")):
            return float(line.rsplit(" ", 1)[1])
    return None


class SitesDaemon(td.Daemon):
    def __init__(self, tmp, sites_dir, keys_path, args=()):
        super().__init__(tmp, None, args, keys=None)
        self.sites_dir = sites_dir
        self.keys_path = keys_path

    def command(self):
        return [td.THRESHD, "--sites", self.sites_dir, "--port", "0", "--threads", "2",
                "--keys", self.keys_path] + self.args

    def pid(self):
        return self.proc.pid


class SitesTest(td.DaemonTest):
    START = False
    SITES = ("alpha", "beta", "gamma")
    SITES_CONF = CONF

    def setUp(self):
        if not MODEL or not os.path.exists(MODEL):
            self.skipTest("set THRESH_MODEL to the default model's dump")
        super().setUp()
        self.sites_dir = os.path.join(self.tmp, "sites")
        self.keys_path = os.path.join(self.tmp, "site-keys")
        self.conf_path = os.path.join(self.tmp, "sites.conf")
        self.write_site_keys(self.SITES)
        with open(self.conf_path, "w") as f:
            f.write(self.SITES_CONF)

    def write_site_keys(self, sites, extra=""):
        with open(self.keys_path, "w") as f:
            f.write("# key site\n")
            for s in sites:
                f.write("%s %s\n" % (key_of(s), s))
            f.write(extra)
        os.chmod(self.keys_path, 0o600)

    def start_sites(self, args=()):
        d = SitesDaemon(self.tmp, self.sites_dir, self.keys_path,
                        ["--config", self.conf_path] + list(args))
        self.daemons.append(d)
        self.d = d.start()
        return d

    def run_sites(self, *args):
        """threshd --sites run to its exit (a start that must fail)."""
        return subprocess.run([td.THRESHD, "--sites", self.sites_dir, "--port", "0"] + list(args),
                              capture_output=True, text=True, timeout=30)

    def jcheck(self, site, content, key=None, **fields):
        obj = {"content": content, "author": "Pat", "email": "pat@example.net",
               "ip": "198.51.100.7"}
        obj.update(fields)
        r = self.post_json("/v1/check", obj, key=key or key_of(site))
        self.assertEqual(r.status, 200, r)
        return r.json()

    def learn(self, site, content, label="spam"):
        r = self.post_json("/v1/learn", {"content": content, "label": label}, key=key_of(site))
        self.assertEqual(r.status, 200, r)
        return r.json()

    def site_stats(self, site):
        r = self.curl("GET", "/v1/stats", headers=["Authorization: Bearer " + key_of(site)])
        self.assertEqual(r.status, 200, r)
        return r.json()

    def metrics(self):
        r = self.curl("GET", "/metrics")
        self.assertEqual(r.status, 200, r)
        return r.text


class Test01Isolation(SitesTest):
    def test_sites_are_made_on_first_use_and_learn_apart(self):
        self.start_sites()
        self.assertFalse(os.path.exists(os.path.join(self.sites_dir, "alpha")))
        before = {s: self.jcheck(s, SPAM_PROBE)["score"] for s in ("alpha", "beta")}
        self.assertEqual(before["alpha"], before["beta"], "both start from the default model")
        for s in ("alpha", "beta"):
            self.assertTrue(os.path.isfile(os.path.join(self.sites_dir, s, "data.mdb")))
            self.assertRegex(self.d.stderr(), r"site %s: created .*/%s from the default model"
                             % (s, s))
        self.assertFalse(os.path.exists(os.path.join(self.sites_dir, "gamma")),
                         "a site is made by its first request, not by its key")

        for i in range(20):
            got = self.learn("alpha", SPAM_LIKE % i)
            self.assertEqual(got["learned"], 1, got)
        after_a = self.jcheck("alpha", SPAM_PROBE)
        after_b = self.jcheck("beta", SPAM_PROBE)
        self.assertEqual(after_a["verdict"], "reject", after_a)
        self.assertGreater(after_a["score"], before["alpha"])
        self.assertEqual(after_b["score"], before["beta"],
                         "another site's score for the same comment does not change")
        self.assertNotEqual(after_b["verdict"], "reject", after_b)

        sa, sb = self.site_stats("alpha"), self.site_stats("beta")
        self.assertEqual((sa["site"], sa["spam_messages"]), ("alpha", 20))
        self.assertEqual((sb["site"], sb["spam_messages"]), ("beta", 0))
        # the digests are the site's: beta has not learned what alpha has
        got = self.learn("beta", SPAM_LIKE % 0)
        self.assertEqual((got["learned"], got["duplicates"]), (1, 0), got)

    def test_a_key_of_no_site_is_refused(self):
        self.start_sites()
        r = self.post_json("/v1/check", {"content": "hello"}, key="key-nobody-0123456789")
        self.assert_error(r, 401, "unauthorized")
        r = self.post_form("/1.1/comment-check",
                           td.comment_form("hello", key="key-nobody-0123456789"))
        self.assertEqual((r.status, r.text), (200, "invalid"), r)
        r = self.post_form("/1.1/verify-key", td.form(key="key-nobody-0123456789",
                                                      blog="https://x.example/"))
        self.assertEqual(r.text, "invalid", r)
        r = self.post_form("/1.1/verify-key", td.form(key=key_of("alpha"),
                                                      blog="https://x.example/"))
        self.assertEqual(r.text, "valid", r)
        self.assertEqual(os.listdir(self.sites_dir), [".prior"],
                         "no site is made for a refused key or verify-key")

    def test_the_akismet_routes_work_on_the_keys_site(self):
        self.start_sites()
        r = self.post_form("/1.1/submit-spam", td.comment_form(SPAM_LIKE % 1,
                                                               key=key_of("gamma")))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.site_stats("gamma")["spam_messages"], 1)
        self.assertEqual(self.site_stats("beta")["spam_messages"], 0)
        r = self.post_form("/1.1/comment-check", td.comment_form("hello there",
                                                                 key=key_of("gamma")))
        self.assertIn(r.text, ("true", "false"), r)


class Test01bPerSiteReports(SitesTest):
    def test_get_stats_and_the_log_tell_each_site_its_own(self):
        self.start_sites(["--log", "-"])
        for i in range(2):
            r = self.post_form("/1.1/submit-spam", td.comment_form(SPAM_LIKE % i,
                                                                   key=key_of("alpha")))
            self.assertEqual(r.status, 200, r)
        r = self.post_form("/1.1/comment-check", td.comment_form("a kind word",
                                                                 key=key_of("beta")))
        self.assertEqual(r.status, 200, r)
        got = {}
        for site in ("alpha", "beta"):
            r = self.post_form("/1.1/get-stats", td.form(api_key=key_of(site),
                                                         blog="https://blog.example/"))
            self.assertEqual(r.status, 200, r)
            got[site] = r.json()
        self.assertEqual(got["alpha"]["missed_spam"], 2, got)
        self.assertEqual(got["alpha"]["spam"] + got["alpha"]["ham"], 0, got)
        self.assertEqual(got["beta"]["missed_spam"], 0, "another tenant's reports: %r" % got)
        self.assertEqual(got["beta"]["spam"] + got["beta"]["ham"], 1, got)
        self.d.wait_stderr(r"POST /1\.1/submit-spam 200 [0-9.]+ms site=alpha\n")
        self.d.wait_stderr(r"POST /1\.1/comment-check 200 [0-9.]+ms \w+ [0-9.]+ site=beta\n")
        self.assertNotIn(key_of("alpha"), self.d.stderr(), "no key is logged")


class Test02RateLimits(SitesTest):
    SITES_CONF = CONF.replace("rate_limit = 0", "rate_limit = 2\nrate_period = 3600\n"
                              "rate_burst = 2")

    def test_one_authors_burst_is_counted_per_site(self):
        self.start_sites()
        reasons = []
        for _ in range(3):
            reasons.append(self.jcheck("alpha", "a kind word about the garden")["reasons"])
        names = [[x["code"] if isinstance(x, dict) else x for x in r] for r in reasons]
        self.assertFalse(any("rate_limited" in n for n in names[:2]), reasons)
        self.assertIn("rate_limited", names[2], reasons)
        first_beta = self.jcheck("beta", "a kind word about the garden")["reasons"]
        self.assertNotIn("rate_limited",
                         [x["code"] if isinstance(x, dict) else x for x in first_beta],
                         "the same author on another site starts with a full burst")


class Test03StartErrors(SitesTest):
    def test_the_key_file_is_checked_line_by_line(self):
        for text, want in (("key-alpha-0123456789\n", r"site-keys:1: a key without a site"),
                           ("key-alpha-0123456789 Alpha\n", r"site-keys:1: a site name is"),
                           ("key-alpha-0123456789 ../etc\n", r"site-keys:1: a site name is"),
                           ("key-alpha-0123456789 a\nkey-alpha-0123456789 b\n",
                            r"site-keys:2: a key given before for site a")):
            with open(self.keys_path, "w") as f:
                f.write(text)
            p = self.run_sites("--keys", self.keys_path)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertRegex(p.stderr, want)

    def test_usage_errors(self):
        for args, want in ((["--db", self.db, "--keys", self.keys_path], r"--db and --sites"),
                           (["--read-only", "--keys", self.keys_path], r"--read-only is for --db"),
                           ([], r"--sites needs --keys FILE")):
            p = self.run_sites(*args)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertRegex(p.stderr, want)

    def test_a_bad_sites_section_stops_the_start(self):
        with open(self.conf_path, "a") as f:
            f.write("[sites]\nalpha Blog.Example = beta\n")
        p = self.run_sites("--keys", self.keys_path, "--config", self.conf_path)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertRegex(p.stderr, r"\[sites\] alpha Blog\.Example.*lower-case host name")


class Test04Reload(SitesTest):
    SITES = ("alpha",)

    def test_sighup_adds_and_removes_sites(self):
        self.start_sites()
        self.jcheck("alpha", "hello")
        r = self.post_json("/v1/check", {"content": "hello"}, key=key_of("beta"))
        self.assert_error(r, 401, "unauthorized")

        self.write_site_keys(("alpha", "beta"))
        self.d.signal(signal.SIGHUP)
        self.d.wait_stderr(r"reloaded 2 API keys from")
        self.assertEqual(self.jcheck("beta", "hello")["verdict"] in ("accept", "hold"), True)

        self.write_site_keys(("beta",))
        self.d.signal(signal.SIGHUP)
        self.d.wait_stderr(r"reloaded 1 API key from")
        r = self.post_json("/v1/check", {"content": "hello"}, key=key_of("alpha"))
        self.assert_error(r, 401, "unauthorized")
        self.jcheck("beta", "hello")
        # its data stays on disk: the key is gone, not the site
        self.assertTrue(os.path.isdir(os.path.join(self.sites_dir, "alpha")))

    def test_sighup_reads_the_sites_section_and_open_sites_again(self):
        self.start_sites()
        self.assertEqual(site_metric(self.metrics(), "threshd_sites_open_limit"), 256)
        with open(self.conf_path, "a") as f:
            f.write("[threshd]\nopen_sites = 7\n[sites]\nalpha blog.example/two = two\n")
        self.d.signal(signal.SIGHUP)
        self.d.wait_stderr(r"reloaded thresh\.conf")
        self.assertEqual(site_metric(self.metrics(), "threshd_sites_open_limit"), 7)
        r = self.post_form("/1.1/submit-spam", td.comment_form(
            SPAM_LIKE % 3, key=key_of("alpha"), blog="https://blog.example/two/"))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(os.path.isdir(os.path.join(self.sites_dir, "two")),
                        "[sites] read again on SIGHUP")


class Test05Network(SitesTest):
    """A WordPress network: one key, each blog's own URL in `blog`."""
    SITES = ("network",)
    SITES_CONF = CONF + ("[sites]\n"
                         "network example.org/blog1 = blog1\n"
                         "network example.org/blog2 = blog2\n"
                         "network shop.example.org = shop\n")

    def submit(self, blog, content):
        r = self.post_form("/1.1/submit-spam", td.comment_form(content, key=key_of("network"),
                                                               blog=blog))
        self.assertEqual(r.status, 200, r)

    def test_blogs_of_one_key_learn_apart(self):
        self.start_sites()
        self.submit("http://Example.ORG/blog1/", SPAM_LIKE % 1)
        self.submit("https://example.org/blog1/?p=5", SPAM_LIKE % 2)
        self.submit("https://example.org:8443/blog2", SPAM_LIKE % 3)
        self.submit("https://shop.example.org/any/folder/", SPAM_LIKE % 4)
        self.submit("https://example.org/", SPAM_LIKE % 5)  # the network's main site
        counts = {}
        for site in ("blog1", "blog2", "shop", "network"):
            out = subprocess.run([td.THRESH, "--db", os.path.join(self.sites_dir, site),
                                  "stats", "--json"], capture_output=True, text=True,
                                 timeout=30)
            self.assertEqual(out.returncode, 0, out.stderr)
            counts[site] = json.loads(out.stdout)["spam_messages"]
        self.assertEqual(counts, {"blog1": 2, "blog2": 1, "shop": 1, "network": 1})
        self.assertEqual(self.site_stats("network")["site"], "network",
                         "the JSON API goes by the key alone")


class Test06LeastRecentlyUsed(SitesTest):
    SITES = tuple("s%02d" % i for i in range(12))
    SITES_CONF = CONF + "[threshd]\nopen_sites = 3\n"

    def test_idle_sites_close_and_reopen_under_concurrent_checks(self):
        self.start_sites()
        self.learn("s00", SPAM_LIKE % 0)
        errors, done = [], []

        def worker(n):
            conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=30)
            try:
                for i in range(36):
                    site = self.SITES[(n * 5 + i) % len(self.SITES)]
                    body = json.dumps({"content": "checking site %s round %d" % (site, i)})
                    conn.request("POST", "/v1/check", body,
                                 {"Content-Type": "application/json",
                                  "Authorization": "Bearer " + key_of(site)})
                    resp = conn.getresponse()
                    data = resp.read()
                    if resp.status != 200:
                        errors.append((site, resp.status, data[:200]))
                done.append(n)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))
            finally:
                conn.close()

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(len(done), 4)
        m = self.metrics()
        self.assertEqual(site_metric(m, "threshd_sites", 'state="known"'), 12)
        self.assertLessEqual(site_metric(m, "threshd_sites", 'state="open"'), 3,
                             "idle sites past open_sites are closed")
        closed = site_metric(m, "threshd_site_events_total", 'event="closed"')
        opened = site_metric(m, "threshd_site_events_total", 'event="opened"')
        self.assertGreater(closed, 0, m)
        self.assertEqual(opened - closed, site_metric(m, "threshd_sites", 'state="open"'))
        self.assertEqual(site_metric(m, "threshd_site_events_total", 'event="created"'), 12)
        self.assertEqual(site_metric(m, "threshd_site_events_total", 'event="failed"'), 0)
        # what a site learned survives its closing
        self.assertEqual(self.site_stats("s00")["spam_messages"], 1)
        top = re.findall(r'threshd_site_requests_total\{site="([a-z0-9._-]+)"\} (\d+)', m)
        self.assertEqual(len(top), 10, "the ten busiest sites, not one series a site")
        self.assertEqual([int(c) for _, c in top], sorted((int(c) for _, c in top),
                                                          reverse=True))


class Test07TwoHundredSites(SitesTest):
    SITES = tuple("site-%03d" % i for i in range(200))

    def test_two_hundred_sites_made_on_first_use_all_answer(self):
        self.start_sites()
        errors = []
        lock = threading.Lock()
        order = list(self.SITES)

        def worker():
            conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=60)
            try:
                while True:
                    with lock:
                        if not order:
                            return
                        site = order.pop()
                    body = json.dumps({"content": "first words on " + site})
                    conn.request("POST", "/v1/check", body,
                                 {"Content-Type": "application/json",
                                  "Authorization": "Bearer " + key_of(site)})
                    resp = conn.getresponse()
                    data = resp.read()
                    if resp.status != 200 or json.loads(data)["verdict"] not in ("accept",
                                                                                 "hold"):
                        errors.append((site, resp.status, data[:200]))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))
            finally:
                conn.close()

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        self.assertEqual(errors, [])
        made = sorted(n for n in os.listdir(self.sites_dir) if not n.startswith("."))
        self.assertEqual(made, sorted(self.SITES))
        m = self.metrics()
        self.assertEqual(site_metric(m, "threshd_sites", 'state="known"'), 200)
        self.assertEqual(site_metric(m, "threshd_site_events_total", 'event="created"'), 200)


if __name__ == "__main__":
    unittest.main()
