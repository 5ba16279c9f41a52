#!/usr/bin/env python3
"""A WordPress multisite network against threshd --sites, on the real stack
(tests/wordpress/stack.py): one network key, each sub-site its own database.

`meson test -C build --suite wordpress` runs it with the other programs on
one stack (tests/wordpress/run.py). By itself, on a stack of its own:

    THRESHD_BIN=build/src/daemon/threshd THRESH_BIN=build/src/cli/thresh \\
    THRESH_LIB=build/src/lib/libthresh.so THRESH_MODEL=build/models/default.dump \\
        python3 tests/wordpress/test_multisite.py [-v] [Test.name]

The network, net.test, is a subdirectory install made as its owner makes
one: wp-admin/install.php, Tools > Network Setup (wp-admin/network.php, which
WP_ALLOW_MULTISITE offers), its wp-config.php lines added to the site's
configuration and its .htaccess rules in the virtual host (the stack's Apache
reads no .htaccess), logging in again, four sub-sites added on Network Admin >
Sites > Add New (blog1 ... blog4), and WordPress's Akismet network-activated
on Network Admin > Plugins. blog1 and blog2 get the one network key typed
into Akismet's settings form of each. WordPress's Network Setup refuses a
port other than 80 or 443, so the network is http://net.test/ on
127.0.0.2:80.

threshd: the stack's own one keeps one database for the other programs, so
this program starts a second (Stack.start_threshd) with --sites DIR, a key
file "NETWORK_KEY network" and DIR/thresh.conf mapping net.test/blog1 and
net.test/blog2 to the sites blog1 and blog2 ([sites]). The network's
must-use plugin multisite/akismet-route.php sends its connections to
rest.akismet.com to that threshd's ports (the name, certificate and Host
header stay rest.akismet.com's). Two more keys, for the sites blog1 and
blog2, are the test's own: GET /v1/stats answers for the key's site.

The tests check that comments reach threshd with the network key and their
sub-site's home as `blog`, and land in that sub-site's database; that Spam on
blog1 (a row link and a Bulk action, 20 comments) learns into blog1 only; and
that a comment like them is then spam on blog1 while blog2's score for the
very same comment does not move. Last, thresh's own plugin, network-activated:
its settings are each sub-site's own (blog3 and blog4 each a folder), and
each learns into its own.
"""
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import akismet_log  # noqa: E402
import stack  # noqa: E402

S = None        # the Stack (run.py's shared one, or this module's own)
OWNED = False   # whether this module started S (and so stops it)
NET = None      # the network's main site, http://net.test/
BLOGS = {}      # sub-site slug: Site (stack.Site.subsite)
T = None        # the --sites threshd
SETUP = {}

HOST = "net.test"
ADDRESS = "127.0.0.2"          # port 80 of its own: Network Setup refuses :8080
NETWORK_KEY = "ae7100c0ffee"   # Akismet keeps 12 hex digits
# the test's own keys, to read each site's /v1/stats
INSPECT = {"blog1": "inspect-blog1-4b1d", "blog2": "inspect-blog2-9d0e"}
THRESHD_PORT, THRESHD_TLS_PORT = 8707, 8443
LIB = os.path.abspath(os.environ["THRESH_LIB"]) if os.environ.get("THRESH_LIB") else ""
PLUGIN_SRC = os.path.join(stack.SOURCE_ROOT, "plugin", "wordpress", "thresh")
THRESH_PHP = os.path.join(stack.SOURCE_ROOT, "plugin", "php", "Thresh.php")
ARTIFACTS = os.path.join(stack.ARTIFACTS, "multisite")
DISCUSSION = "/wp-admin/options-discussion.php"
THRESH_SETTINGS = "/wp-admin/options-general.php?page=thresh"


def php_string(v):
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


# WordPress's .htaccess for a subdirectory network (what Network Setup shows,
# compared in Test01), in the virtual host: the stack's Apache reads no
# .htaccess (AllowOverride None)
HTACCESS = r"""RewriteEngine On
RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]
RewriteBase /
RewriteRule ^index\.php$ - [L]

# add a trailing slash to /wp-admin
RewriteRule ^([_0-9a-zA-Z-]+/)?wp-admin$ $1wp-admin/ [R=301,L]

RewriteCond %{REQUEST_FILENAME} -f [OR]
RewriteCond %{REQUEST_FILENAME} -d
RewriteRule ^ - [L]
RewriteRule ^([_0-9a-zA-Z-]+/)?(wp-(content|admin|includes).*) $2 [L]
RewriteRule ^([_0-9a-zA-Z-]+/)?(.*\.php)$ $2 [L]
RewriteRule . index.php [L]
"""
CONFIG = """define('WP_ALLOW_MULTISITE', true);   /* Tools > Network Setup */
define('WP_DEFAULT_THEME', 'twentytwentyone');   /* the theme every new sub-site starts with */
/* multisite/akismet-route.php: this network's rest.akismet.com is the --sites threshd */
define('THRESH_TEST_AKISMET_PORT', %d);
define('THRESH_TEST_AKISMET_TLS_PORT', %d);
define('THRESH_LIB_PATH', %s);   /* thresh's library (Test04) */
""" % (THRESHD_PORT, THRESHD_TLS_PORT, php_string(LIB))
SITES = [(HOST, {"address": ADDRESS, "port": 80, "fixed_home": False, "plugins": ["akismet"],
                 "mu_plugins": [os.path.join(HERE, "multisite", "akismet-route.php")],
                 "extra_config": CONFIG,
                 "apache_extra": '<Directory "%s">\n%s\n    </Directory>' % (stack.WP_ROOT, HTACCESS)})]

# The spam campaign blog1 learns: the default model lets each through (a
# first comment, held only as such, is left to WordPress, which approves it).
CAMPAIGN = [
    "Thanks for the article. My cousin saved a lot on her energy bills with the Brightline home solar kit, you can get a free quote on their website this week.",
    "Nice read. We switched to the Brightline home solar kit last spring and our energy bills dropped by half, ask them for a free quote.",
    "Good points here. If anyone wants lower energy bills, the Brightline home solar kit is worth a look, the free quote takes two minutes.",
    "I agree with this post. Brightline home solar kit installers came to our house last month, our energy bills are tiny now, get a free quote.",
    "Interesting. A neighbour told me about the Brightline home solar kit, cheaper energy bills and a free quote for every reader of this blog.",
    "Well written. The Brightline home solar kit paid for itself in a year thanks to lower energy bills, request your free quote today.",
    "Great post. Speaking of saving money, the Brightline home solar kit cut my energy bills, they do a free quote over the phone.",
    "Very helpful. Our family uses the Brightline home solar kit now and the energy bills are much lower, the free quote was easy.",
    "Thank you for sharing. Brightline home solar kit owners pay less for energy bills, and the company gives a free quote to anyone who asks.",
    "This is useful. I recommend the Brightline home solar kit to everyone tired of high energy bills, they will send a free quote.",
    "Lovely blog. After we got the Brightline home solar kit our energy bills went way down, their free quote is on the website.",
    "So true. The Brightline home solar kit is the best way to beat rising energy bills, click for a free quote from a local installer.",
    "Nice one. With the Brightline home solar kit my parents finally have low energy bills, and the free quote costs nothing.",
    "I enjoyed this. Ask about the Brightline home solar kit if your energy bills are too high, a free quote arrives the same day.",
    "Informative post. The Brightline home solar kit saved our office a fortune on energy bills, get your free quote while it lasts.",
    "Cool article. Everyone on my street has the Brightline home solar kit and lower energy bills, the free quote is quick.",
    "Thanks a lot. I was sceptical but the Brightline home solar kit really lowers energy bills, try the free quote yourself.",
    "Helpful info. Brightline home solar kit deals this month mean smaller energy bills, book a free quote from their site.",
    "Awesome. Lower your energy bills with the Brightline home solar kit, it is easy and the free quote has no obligation.",
    "Keep writing. The Brightline home solar kit brought our energy bills down, and the installers offer a free quote.",
]
# one more of its like, never learned: posted to blog1 and blog2 before and
# after blog1 learns, the same comment from the same visitor each time
PROBE = ("Great blog. My sister got the Brightline home solar kit and now her energy bills are low, "
         "you should ask for a free quote too.")
PROBE_VISITOR = {"author": "Dana Probe", "email": "dana.probe@mail.example", "source": "127.0.9.9"}
HAM = "Thanks Anna, we made the soup with lentils instead of beans and the kids loved it."


def setUpModule():
    global S, OWNED, NET, T
    if os.path.exists(ARTIFACTS):
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
    os.makedirs(ARTIFACTS, exist_ok=True)
    S, OWNED = stack.module_stack(SITES)
    try:
        t0 = time.monotonic()
        NET = S.sites[HOST]
        T = start_threshd()
        # thresh's plugin, as plugin/wordpress/README.md installs it (Test04)
        dest = os.path.join(NET.content, "plugins", "thresh")
        shutil.copytree(PLUGIN_SRC, dest)
        shutil.copy(THRESH_PHP, dest)
        NET.install("thresh test network")
        network_setup()
        SETUP["blog_ids"] = {}
        for slug in ("blog1", "blog2", "blog3", "blog4"):
            BLOGS[slug] = add_subsite(slug)
        network_activate("akismet")
        for slug in ("blog1", "blog2"):
            blog = BLOGS[slug]
            blog.save_settings(DISCUSSION, {"comment_previously_approved": None})
            SETUP["key_" + slug] = enter_key(blog)
        SETUP["seconds"] = time.monotonic() - t0
        print("\nthe network (install, Network Setup, 4 sub-sites, Akismet) set up in %.1f s"
              % SETUP["seconds"], file=sys.stderr)
    except BaseException as e:
        stack.setup_failed(S, OWNED, "setting up the network %s (Akismet against threshd --sites)" % HOST,
                           ARTIFACTS, e)


def tearDownModule():
    if S is None:
        return
    try:
        S.save_logs(os.path.join(ARTIFACTS, "logs"))
        if T is not None and os.path.exists(T.log):
            shutil.copy(T.log, os.path.join(ARTIFACTS, "logs", "threshd-sites-requests.log"))
    finally:
        if OWNED:
            problems = S.stop()
            if problems:
                print("stopping the stack: %s" % problems, file=sys.stderr)


def start_threshd():
    """threshd --sites DIR: the network's key for the site `network`, the
    test's own keys for blog1 and blog2, and DIR/thresh.conf's [sites]."""
    d = S.path("threshd-sites-dir")
    os.makedirs(d, mode=0o700)
    with open(os.path.join(d, "thresh.conf"), "w") as f:
        f.write("# tests/wordpress/test_multisite.py: the network's blogs learn apart\n"
                "[sites]\n"
                "network %s/blog1 = blog1\n"
                "network %s/blog2 = blog2\n" % (HOST, HOST))
    keys = ("# the WordPress network's Akismet key\n%s network\n"
            "# the test's own, to read the sub-sites' /v1/stats\n%s blog1\n%s blog2\n"
            % (NETWORK_KEY, INSPECT["blog1"], INSPECT["blog2"]))
    SETUP["sites_dir"] = d
    return S.start_threshd("sites", ["--sites", d], keys, THRESHD_PORT, THRESHD_TLS_PORT)


def textarea(page, ident):
    m = re.search(r'<textarea id="%s"[^>]*>(.*?)</textarea>' % re.escape(ident), page, re.S)
    if not m:
        raise AssertionError("no textarea %s on the page:\n%s" % (ident, stack.strip_tags(page)[:3000]))
    return html.unescape(m.group(1))


def network_setup():
    """Tools > Network Setup: sub-directories, Install; then its wp-config.php
    lines go into the site's configuration, and the admin logs in again."""
    ua = NET.admin_agent()
    page = ua.get("/wp-admin/network.php")
    form = stack.find_form(page.text, pred=lambda f: f.get("_wpnonce") is not None and
                           f.get("sitename") is not None)
    form.set("subdomain_install", "0")
    form.set("sitename", "thresh test network")
    r = ua.submit(page, form)
    if "network-wpconfig-rules" not in r.text:
        raise AssertionError("Network Setup did not install the network: %d\n%s"
                             % (r.status, stack.strip_tags(r.text)[:3000]))
    rules = textarea(r.text, "network-wpconfig-rules").strip()
    SETUP["wpconfig_rules"] = rules
    SETUP["htaccess_rules"] = textarea(r.text, "network-htaccess-rules")
    with open(os.path.join(S.wp_etc, "config-%s.php" % HOST), "a") as f:
        f.write("/* Tools > Network Setup's lines for wp-config.php */\n%s\n" % rules)
    # "Once you complete these steps, your network is enabled and
    # configured. You will have to log in again."
    NET.admin = None
    NET.admin_agent()


def add_subsite(slug):
    """Network Admin > Sites > Add New: a sub-site at http://net.test/SLUG/."""
    ua = NET.admin_agent()
    page = ua.get("/wp-admin/network/site-new.php")
    form = stack.find_form(page.text, pred=lambda f: f.get("_wpnonce_add-blog") is not None)
    form.set("blog[domain]", slug)
    form.set("blog[title]", "Blog %s" % slug)
    form.set("blog[email]", stack.ADMIN_EMAIL)
    r = ua.submit(page, form)
    rows = NET.sql("SELECT blog_id FROM wp_blogs WHERE domain = %s AND path = %s"
                   % (stack.quote(HOST), stack.quote("/%s/" % slug)))
    if not rows:
        raise AssertionError("site-new.php did not add %s: %d\n%s" % (
            slug, r.status, stack.strip_tags(r.text)[:2000]))
    blog = NET.subsite(slug, int(rows[0][0]))
    SETUP["blog_ids"][slug] = blog.blog_id
    # the network admin's login cookies (path /) serve every sub-site
    blog.admin = blog.agent()
    for c in ua.jar:
        blog.admin.jar.set_cookie(c)
    return blog


def network_activate(slug):
    """Network Admin > Plugins: the plugin's Network Activate link."""
    ua = NET.admin_agent()
    page = ua.get("/wp-admin/network/plugins.php")
    pat = r"plugins\.php\?action=activate&plugin=%s%%2F" % re.escape(slug)
    hrefs = [h for h in stack.links(page.text) if re.search(pat, h)]
    if not hrefs:
        raise AssertionError("no Network Activate link for %s:\n%s" % (slug, stack.strip_tags(page.text)[:3000]))
    r = ua.get(urllib.parse.urljoin(page.url, hrefs[0]))
    active = sitemeta("active_sitewide_plugins") or ""
    if slug + "/" not in active:
        raise AssertionError("%s not network-active: %r\n%s" % (slug, active, stack.strip_tags(r.text)[:2000]))


def sitemeta(key):
    rows = NET.sql("SELECT meta_value FROM wp_sitemeta WHERE meta_key = %s" % stack.quote(key))
    return rows[0][0] if rows else None


def enter_key(blog):
    """The network key typed into the sub-site's Akismet settings form, as
    test_akismet.py types it for its site."""
    ua = blog.admin_agent()
    mark = len(calls())
    page = ua.get("/wp-admin/options-general.php?page=akismet-key-config")
    form = stack.find_form(page.text, pred=lambda f: f.get("action") == "enter-key")
    form.set("key", NETWORK_KEY)
    r = ua.submit(page, form)
    return {"saved": blog.option("wordpress_api_key"), "calls": calls()[mark:],
            "text": stack.strip_tags(r.text)}


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def calls():
    """Akismet's requests, from the network's debug log (every sub-site's)."""
    return akismet_log.calls(read(NET.debug_log))


def field(call, name):
    return akismet_log.first(call["fields"], name)


def site_requests(site):
    """threshd's count of the requests that worked on the site's database."""
    return T.metrics().get('threshd_site_requests_total{site="%s"}' % site, 0)


def learned(site):
    """(spam, ham) learned by the site, from GET /v1/stats with its key."""
    st = T.stats(INSPECT[site])
    if st.get("site") != site:
        raise AssertionError("/v1/stats with %s's key answered for %r" % (site, st.get("site")))
    return st["spam_messages"], st["ham_messages"]


def thresh_cli(*args, db, user=None):
    env = dict(os.environ, THRESH_MODEL=SETUP.get("model", stack.THRESH_MODEL))
    env.pop(stack.INSIDE_ENV, None)
    kw = {"user": user, "group": user} if user else {}
    r = subprocess.run([stack.THRESH, "--db", db] + list(args), capture_output=True, text=True,
                       timeout=60, env=env, cwd="/", **kw)
    if r.returncode:
        raise AssertionError("thresh %s: %d %s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r.stdout


# ---------------------------------------------------------------------------

class NetworkTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.sizes = S.log_sizes()
        self.mark = len(calls())

    def tearDown(self):
        res = getattr(getattr(self, "_outcome", None), "result", None)
        if res is not None and any(t is self for t, _ in res.failures + res.errors):
            print("\n===== %s failed: Akismet's requests during the test =====" % self.id(), file=sys.stderr)
            for c in self.new_calls():
                print("  %s blog=%s  %s" % (c["path"], field(c, "blog"), akismet_log.describe(c)),
                      file=sys.stderr)
            print("===== logs written during the test =====\n%s" % S.logs(since=self.sizes), file=sys.stderr)

    def new_calls(self, path=None):
        return [c for c in calls()[self.mark:] if path is None or c["path"] == path]

    def assertReached(self, call, blog):
        """An Akismet request that threshd answered, with the network key and
        the sub-site's home as `blog`."""
        self.assertEqual(call["status"], 200, akismet_log.describe(call))
        self.assertTrue(call["url"].startswith("https://"), call["url"])
        self.assertEqual(field(call, "api_key"), NETWORK_KEY)
        self.assertEqual(field(call, "blog"), blog.base)


class Test01Network(NetworkTest):
    """The network as Network Setup and Network Admin made it."""

    def test_network_setup(self):
        rules = SETUP["wpconfig_rules"]
        for line in ("define( 'MULTISITE', true );", "define( 'SUBDOMAIN_INSTALL', false );",
                     "define( 'DOMAIN_CURRENT_SITE', '%s' );" % HOST, "define( 'PATH_CURRENT_SITE', '/' );"):
            self.assertIn(line, rules)
        # the virtual host has the rules Network Setup gives for .htaccess
        norm = lambda t: [x.strip() for x in t.splitlines() if x.strip()]
        self.assertEqual(norm(SETUP["htaccess_rules"]), norm(HTACCESS))
        rows = NET.sql("SELECT blog_id, domain, path FROM wp_blogs ORDER BY blog_id")
        self.assertEqual([(d, p) for _, d, p in rows],
                         [(HOST, "/")] + [(HOST, "/blog%d/" % i) for i in range(1, 5)])
        for slug, blog in BLOGS.items():
            self.assertEqual(blog.option("home"), "http://%s/%s" % (HOST, slug))
        self.assertIn("akismet/akismet.php", sitemeta("active_sitewide_plugins"))

    def test_network_key_typed_into_each_blog(self):
        for slug in ("blog1", "blog2"):
            with self.subTest(slug):
                got = SETUP["key_" + slug]
                self.assertEqual(got["saved"], NETWORK_KEY, "%s: %s" % (slug, got["text"][:1500]))
                verify = [c for c in got["calls"] if c["path"] == "/1.1/verify-key"]
                self.assertTrue(verify, [akismet_log.describe(c) for c in got["calls"]])
                self.assertEqual(verify[-1]["response"], "valid")
                self.assertEqual(field(verify[-1], "key"), NETWORK_KEY)
                self.assertEqual(field(verify[-1], "blog"), BLOGS[slug].base)
        # blog3 and blog4 have no key: Akismet does nothing there
        self.assertIsNone(BLOGS["blog3"].option("wordpress_api_key"))


class Test02Comments(NetworkTest):
    """A visitor's comment on each blog reaches threshd with the network key
    and the blog's own home, and works on that blog's database."""

    def test_each_blog_reaches_its_own_site(self):
        for slug, other in (("blog1", "blog2"), ("blog2", "blog1")):
            with self.subTest(slug):
                blog = BLOGS[slug]
                mark = len(calls())
                before = {s: site_requests(s) for s in ("blog1", "blog2", "network")}
                cid, r = blog.post_comment(HAM, author="Robin Baker")
                self.assertIsNotNone(cid, r)
                self.assertEqual(blog.status(cid), "1")
                checks = [c for c in calls()[mark:] if c["path"] == "/1.1/comment-check"]
                self.assertEqual(len(checks), 1, [akismet_log.describe(c) for c in calls()[mark:]])
                self.assertReached(checks[0], blog)
                self.assertEqual(checks[0]["response"], "false")
                after = {s: site_requests(s) for s in ("blog1", "blog2", "network")}
                self.assertEqual(after[slug], before[slug] + 1, "threshd's site %s" % slug)
                self.assertEqual(after[other], before[other], "threshd's site %s" % other)
                self.assertEqual(after["network"], 0, "the network key's own site")
        self.assertTrue(os.path.isdir(os.path.join(SETUP["sites_dir"], "blog1")))
        self.assertTrue(os.path.isdir(os.path.join(SETUP["sites_dir"], "blog2")))
        self.assertFalse(os.path.exists(os.path.join(SETUP["sites_dir"], "network")))


class Test03Learning(NetworkTest):
    """Spam on blog1 learns into blog1 alone: a comment like the ones it
    learned is spam on blog1 after, and blog2's score for it is the same."""

    def probe(self, blog, trash=True):
        """PROBE posted to the blog by the same visitor, with Akismet's test
        mode (is_test: threshd checks read-only, so the probe itself changes
        nothing); then (trash) moved to the Trash, so that WordPress does not
        refuse the same comment later as a duplicate. Returns (threshd's
        answer, X-Thresh-Score, comment_approved)."""
        mark = len(calls())
        cid, r = blog.post_comment(PROBE, headers={"X-Akismet-Test-Mode": "1"}, **PROBE_VISITOR)
        self.assertIsNotNone(cid, r)
        checks = [c for c in calls()[mark:] if c["path"] == "/1.1/comment-check"]
        self.assertEqual(len(checks), 1)
        self.assertReached(checks[0], blog)
        self.assertEqual(field(checks[0], "is_test"), "true")
        status = blog.status(cid)
        if trash:
            blog.click(cid, "trashcomment")
            self.assertEqual(blog.status(cid), "trash")
        return checks[0]["response"], float(checks[0]["headers"]["x-thresh-score"]), status

    def test_spam_on_blog1_is_learned_by_blog1_only(self):
        b1, b2 = BLOGS["blog1"], BLOGS["blog2"]
        before = {"blog1": self.probe(b1), "blog2": self.probe(b2)}
        learned0 = {s: learned(s) for s in ("blog1", "blog2")}

        # a spammer's campaign on blog1: the default model lets it through
        mark = len(calls())
        cids = []
        for i, text in enumerate(CAMPAIGN):
            cid, r = b1.post_comment(text, author="Solar Fan %d" % (i + 1))
            self.assertIsNotNone(cid, r)
            cids.append(cid)
        arrived = [b1.status(c) for c in cids]
        self.assertNotIn("spam", arrived, "before learning, threshd let the campaign through")
        checks = [c for c in calls()[mark:] if c["path"] == "/1.1/comment-check"]
        self.assertEqual(len(checks), len(CAMPAIGN))
        for c in checks:
            self.assertReached(c, b1)

        # the admin marks them Spam: one with its row link, 19 with a Bulk action
        mark = len(calls())
        b1.click(cids[0], "spamcomment")
        b1.bulk_action(cids[1:], "spam", search="Solar Fan")
        self.assertEqual([b1.status(c) for c in cids], ["spam"] * len(cids))
        submits = [c for c in calls()[mark:] if c["path"] == "/1.1/submit-spam"]
        self.assertEqual(len(submits), len(CAMPAIGN), [akismet_log.describe(c) for c in calls()[mark:]])
        for c in submits:
            self.assertReached(c, b1)
        learned1 = {s: learned(s) for s in ("blog1", "blog2")}
        self.assertEqual(learned1["blog1"], (learned0["blog1"][0] + len(CAMPAIGN), learned0["blog1"][1]),
                         "blog1 learned the campaign")
        self.assertEqual(learned1["blog2"], learned0["blog2"], "blog2 learned nothing")
        # the databases themselves, read with the thresh command
        cli = {s: json.loads(thresh_cli("stats", "--json", db=os.path.join(SETUP["sites_dir"], s)))
               for s in ("blog1", "blog2")}
        self.assertEqual(cli["blog1"]["spam_messages"], learned1["blog1"][0])
        self.assertEqual(cli["blog2"]["spam_messages"], learned1["blog2"][0])
        # nothing reached the network key's own site
        self.assertEqual(site_requests("network"), 0)
        self.assertEqual(T.stats(NETWORK_KEY)["spam_messages"], 0)

        after = {"blog1": self.probe(b1, trash=False), "blog2": self.probe(b2, trash=False)}
        SETUP["scores"] = {"before": before, "after": after}
        print("\n  the probe (answer, score, comment_approved): before blog1 %s, blog2 %s; "
              "after blog1 learned %d spam: blog1 %s, blog2 %s" % (
                  before["blog1"], before["blog2"], len(CAMPAIGN), after["blog1"], after["blog2"]),
              file=sys.stderr)
        self.assertEqual(before["blog1"][1], before["blog2"][1], "two new sites score alike")
        self.assertEqual(before["blog1"][0], "false")
        self.assertEqual((after["blog1"][0], after["blog1"][2]), ("true", "spam"),
                         "blog1 rejects the like of what it learned")
        self.assertGreater(after["blog1"][1], before["blog1"][1])
        self.assertEqual(after["blog2"], before["blog2"], "blog2's score for the same comment moved")


class Test04ThreshPlugin(NetworkTest):
    """thresh's own plugin, network-activated: Settings > Thresh is each
    sub-site's own (get_option: the sub-site's wp_N_options), so blog3 and
    blog4 each name a database folder, and each learns into its own."""

    @classmethod
    def setUpClass(cls):
        # the build's model dump is private to its owner: a copy www-data can read
        SETUP["model"] = S.path("net-default.dump")
        shutil.copy(stack.THRESH_MODEL, SETUP["model"])
        os.chmod(SETUP["model"], 0o644)
        cls.dbs = {}
        for slug in ("blog3", "blog4"):
            d = S.path("thresh-net", slug)
            os.makedirs(os.path.dirname(d), exist_ok=True)
            shutil.chown(os.path.dirname(d), "www-data", "www-data")
            thresh_cli("init", db=d, user="www-data")
            cls.dbs[slug] = d
        network_activate("thresh")
        for slug, d in cls.dbs.items():
            blog = BLOGS[slug]
            blog.save_settings(DISCUSSION, {"comment_previously_approved": None})
            blog.save_settings(THRESH_SETTINGS, {"thresh_db_dir": d},
                               form_pred=lambda f: f.get("option_page") == "thresh")

    def stats(self, slug):
        st = json.loads(thresh_cli("stats", "--json", db=self.dbs[slug], user="www-data"))
        return st["spam_messages"], st["ham_messages"]

    def test_settings_are_each_sub_sites_own(self):
        for slug, d in self.dbs.items():
            blog = BLOGS[slug]
            with self.subTest(slug):
                rows = NET.sql("SELECT option_value FROM %s WHERE option_name = 'thresh_db_dir'"
                               % blog.table("options"))
                self.assertEqual(rows, [[d]])
                page = stack.strip_tags(blog.admin_agent().get(THRESH_SETTINGS).text)
                self.assertIn("database %s: comments are checked" % d, page)
        # nothing network-wide, and the main site keeps the default
        self.assertEqual(NET.sql("SELECT meta_key FROM wp_sitemeta WHERE meta_key LIKE 'thresh%'"), [])
        self.assertIsNone(NET.option("thresh_db_dir"))
        self.assertIn("thresh/thresh.php", sitemeta("active_sitewide_plugins"))

    def test_each_sub_site_learns_into_its_own_database(self):
        before = {s: self.stats(s) for s in self.dbs}
        b3 = BLOGS["blog3"]
        cid, r = b3.post_comment(CAMPAIGN[0], author="Solar Fan")
        self.assertIsNotNone(cid, r)
        self.assertIn(b3.status(cid), ("0", "1"), "thresh's verdict on arrival")
        b3.click(cid, "spamcomment")
        self.assertEqual(b3.status(cid), "spam")
        after = {s: self.stats(s) for s in self.dbs}
        self.assertEqual(after["blog3"], (before["blog3"][0] + 1, before["blog3"][1]))
        self.assertEqual(after["blog4"], before["blog4"])
        # no Akismet request from blog3: it has no key
        self.assertEqual([c for c in self.new_calls() if field(c, "blog") == b3.base], [])


if __name__ == "__main__":
    if not LIB or not os.path.exists(LIB):
        stack.give_up("THRESH_LIB is not set to the built libthresh (%r)" % LIB)
    stack.enter_namespaces()
    unittest.main(verbosity=2)
