#!/usr/bin/env python3
"""thresh's WordPress plugin learning a site's history ("Learn from this
site's comments", plugin/wordpress/thresh/history.php) on the real stack of
tests/wordpress: MariaDB, Apache httpd with mod_php (FFI on), Debian's
WordPress 6.1, headless Chromium for the admin's clicks and the screenshots.

`meson test -C build --suite wordpress` runs it with the other WordPress
tests on one stack (tests/wordpress/run.py). By itself, on a stack of its own:

    THRESH_BIN=build/src/cli/thresh THRESH_LIB=build/src/lib/libthresh.so \\
    THRESH_MODEL=build/models/default.dump THRESHD_BIN=build/src/daemon/threshd \\
        python3 tests/wordpress/test_thresh_history.py [-v] [Test.name]

The site, history.thresh.test, is a site that switches to thresh: before the
plugin is active, visitors post comments through the comment form, the admin
approves some with the Bulk actions of edit-comments.php, marks others as
spam, trashes one and leaves two pending, and a shop plugin keeps an order
note as a comment (wp_insert_comment, as WooCommerce does). Then the admin
activates the plugin, which offers the import in a notice; sets the database
folder on Settings > Thresh; and presses the notice's button in Chromium.
What thresh learned is read with `thresh stats --json` of the site's
database (as www-data, read-only), the run's state from the option
thresh_history in MariaDB. WP-Cron runs as a site's system cron runs it: a
GET of wp-cron.php (the stack sets DISABLE_WP_CRON, so no page load runs it
behind the tests' back). A must-use plugin makes the batches 4 comments and
each WP-Cron run one batch, so that a few comments take several batches.
"""
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import stack  # noqa: E402

S = None        # the Stack (run.py's shared one, or this module's own)
OWNED = False   # whether this module started S (and so stops it)
SITE = None
HOST = "history.thresh.test"
LIB = os.path.abspath(os.environ["THRESH_LIB"]) if os.environ.get("THRESH_LIB") else ""


def php_string(v):
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


# run.py adds every module's sites at once. The library's path is a line of
# the site's wp-config.php (THRESH_LIB_PATH) for a plugin that reads it
# there, and a field of Settings > Thresh for one that has the field.
SITES = [(HOST, {"extra_config": "define('THRESH_LIB_PATH', %s); /* thresh's library */" % php_string(LIB)})]
PLUGIN_SRC = os.path.join(stack.SOURCE_ROOT, "plugin", "wordpress", "thresh")
THRESH_PHP = os.path.join(stack.SOURCE_ROOT, "plugin", "php", "Thresh.php")
ARTIFACTS = os.path.join(stack.ARTIFACTS, "thresh-history")
SETTINGS = "/wp-admin/options-general.php?page=thresh"
DB = None
MODEL = None
BATCH = 4
HISTORY = {}    # what setUpModule made: comment IDs by kind

HAMS = [
    "Lovely post, I tried the recipe last night and my kids asked for seconds.",
    "Thanks for the clear explanation of the pruning, my roses look much better now.",
    "I disagree a little about the watering schedule, twice a week was too much in my clay soil.",
    "Could you share which camera you used for the photos of the bridge?",
    "We visited the museum after reading this and the guided tour was wonderful.",
    "My grandmother made the same bread, she added a spoon of honey to the dough.",
    "Great write-up of the meeting, sorry I missed it, see you at the next one.",
    "The second method worked for me on an older laptop, thank you for including it.",
    "Is the trail still closed after the storm or can we walk it this weekend?",
    "I printed the knitting pattern and finished the scarf in four evenings.",
    "Your notes on the violin bow rehair saved me a trip to the shop.",
    "Happy to help with the garden day, I can bring two spades and some gloves.",
]
SPAMS = [
    "URGENT! You have won a 1 week FREE membership in our 100,000 Prize Jackpot! Txt CLAIM to 81010",
    "Cheap viagra cialis online pharmacy no prescription best price discount pills",
    "Make $5000 a week from home with this one simple trick, click here now!!!",
    "Buy followers and likes cheap, instant delivery, best SEO backlinks package",
    "Hot singles in your area are waiting, chat now free no credit card",
    "Casino bonus 200% free spins jackpot winner claim your prize today",
    "Crypto investment doubles your bitcoin in 24 hours guaranteed profit",
    "Replica watches rolex omega cheap wholesale free shipping worldwide",
]
PENDING = ["Nice photos! Where was the third one taken?",
           "I have a question about the sourdough starter, mine smells like acetone."]
TRASHED = "asdf test test please ignore"
ORDER_NOTE = "Order status changed from Pending payment to Processing."


def setUpModule():
    global S, OWNED, SITE, DB, MODEL
    if os.path.exists(ARTIFACTS):
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
    os.makedirs(ARTIFACTS, exist_ok=True)
    S, OWNED = stack.module_stack(SITES, threshd=False)
    try:
        SITE = S.sites[HOST]
        SITE.install(title="A blog with a past")
        SITE.activate_theme("twentytwentyone")
        # the plugin is copied in now, activated later
        dest = os.path.join(SITE.content, "plugins", "thresh")
        shutil.copytree(PLUGIN_SRC, dest)
        shutil.copy(THRESH_PHP, dest)
        DB = S.path("thresh-db-history", "blog")
        os.makedirs(os.path.dirname(DB))
        shutil.chown(os.path.dirname(DB), "www-data", "www-data")
        MODEL = S.path("history-default.dump")
        shutil.copy(stack.THRESH_MODEL, MODEL)
        os.chmod(MODEL, 0o644)
        thresh("init")
        make_history()
    except BaseException as e:
        stack.setup_failed(S, OWNED, "setting up %s (a site's history)" % HOST, ARTIFACTS, e)


def make_history():
    """The site's past, made through WordPress before thresh was there.
    WordPress holds a first comment of every new author (its default), so
    the admin decides each one."""
    post = lambda text, who: SITE.post_comment(text, author=who.title(), email=stack.new_email(who))[0]  # noqa: E731
    HISTORY["ham"] = [post(t, "hamfan") for t in HAMS]
    HISTORY["spam"] = [post(t, "spambot") for t in SPAMS]
    HISTORY["pending"] = [post(t, "asker") for t in PENDING]
    HISTORY["trash"] = post(TRASHED, "tester")
    for kind in ("ham", "spam", "pending"):
        got = [SITE.status(c) for c in HISTORY[kind]]
        assert got == ["0"] * len(got), "WordPress holds first comments: %s %s" % (kind, got)
    SITE.bulk_action(HISTORY["ham"], "approve", view="moderated", search="hamfan")
    SITE.bulk_action(HISTORY["spam"], "spam", view="moderated", search="spambot")
    SITE.click(HISTORY["trash"], "trashcomment", view="moderated")
    # a shop plugin's order note, approved, of its own comment type
    with mu_plugin("shop", "add_action('init', function () {\n"
                   "\tif (get_option('test_shop_note')) return;\n"
                   "\tupdate_option('test_shop_note', 1);\n"
                   "\twp_insert_comment(['comment_post_ID' => %d, 'comment_author' => 'WooCommerce',\n"
                   "\t\t'comment_content' => %s, 'comment_type' => 'order_note', 'comment_approved' => 1,\n"
                   "\t\t'comment_agent' => 'WooCommerce']);\n"
                   "});\n" % (SITE.first_post(), php_string(ORDER_NOTE))):
        SITE.agent().get("/")
    rows = SITE.sql("SELECT comment_ID FROM wp_comments WHERE comment_type = 'order_note'")
    assert len(rows) == 1, rows
    HISTORY["note"] = int(rows[0][0])
    # WordPress's own first comment ("A WordPress Commenter"), approved
    HISTORY["default"] = int(SITE.sql("SELECT MIN(comment_ID) FROM wp_comments")[0][0])
    assert SITE.status(HISTORY["default"]) == "1"
    with open(os.path.join(ARTIFACTS, "history.md"), "w") as f:
        f.write("| comment_ID | comment_approved | comment_type | comment |\n|---|---|---|---|\n")
        for cid, st, typ, text in SITE.sql("SELECT comment_ID, comment_approved, comment_type, "
                                           "LEFT(comment_content, 60) FROM wp_comments ORDER BY comment_ID"):
            f.write("| %s | %s | %s | %s |\n" % (cid, st, typ, text.replace("|", "/")))


def tearDownModule():
    if S is None:
        return
    try:
        S.save_logs(os.path.join(ARTIFACTS, "logs"))
    finally:
        if OWNED:
            S.stop()


# ---------------------------------------------------------------------------

def thresh(*args):
    """The thresh command on the site's database, as the web server's user."""
    env = dict(os.environ, THRESH_MODEL=MODEL or stack.THRESH_MODEL)
    env.pop(stack.INSIDE_ENV, None)
    r = subprocess.run([stack.THRESH, "--db", DB] + list(args), capture_output=True, text=True,
                       timeout=60, env=env, user="www-data", group="www-data", cwd="/")
    if r.returncode:
        raise AssertionError("thresh %s: %d %s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r.stdout


def learned():
    """(spam, ham): the comments the site's database has learned."""
    st = json.loads(thresh("stats", "--json"))
    return st["spam_messages"], st["ham_messages"]


def state():
    """The run, as the plugin keeps it (the option thresh_history), through
    PHP's unserialize (php-cli reads it from MariaDB's answer)."""
    raw = SITE.option("thresh_history")
    if raw is None:
        return None
    r = subprocess.run(["php", "-r", "echo json_encode(unserialize(stream_get_contents(STDIN)), JSON_FORCE_OBJECT);"],
                       input=raw, capture_output=True, text=True, timeout=30)
    if r.returncode:
        raise AssertionError("unserialize: %s %s" % (r.stdout, r.stderr))
    return json.loads(r.stdout)


def scheduled():
    """Whether WP-Cron has a thresh_history_batch event (the option cron)."""
    return "thresh_history_batch" in (SITE.option("cron") or "")


def cron():
    """A run of WP-Cron, as a system cron makes it."""
    r = SITE.agent().get("/wp-cron.php")
    assert r.status == 200, r


def cron_until_done(limit=30):
    """WP-Cron runs until the run is finished; returns [done after each]."""
    seen = []
    for _ in range(limit):
        if state()["state"] != "running":
            return seen
        cron()
        seen.append(state()["done"])
    raise AssertionError("not finished after %d WP-Cron runs: %s" % (limit, state()))


class mu_plugin:
    """A must-use plugin (wp-content/mu-plugins/NAME.php) while the block runs."""

    def __init__(self, name, code):
        self.path = os.path.join(SITE.content, "mu-plugins", name + ".php")
        self.code = code

    def __enter__(self):
        with open(self.path, "w") as f:
            f.write("<?php\n/* from tests/wordpress/test_thresh_history.py */\n" + self.code)

    def __exit__(self, *exc):
        os.unlink(self.path)


def small_batches():
    """Batches of BATCH comments, one batch a WP-Cron run."""
    return mu_plugin("history-batches", "add_filter('thresh_history_batch_size', fn() => %d);\n"
                     "add_filter('thresh_history_seconds', fn() => 0);\n" % BATCH)


def admin_post(form_class, page=SETTINGS, changes=None, ua=None):
    """Press a button of the history box: submit the form of class
    thresh-history-FORM_CLASS on `page`; returns the page it leads to."""
    ua = ua or SITE.admin_agent()
    p = ua.get(page)
    form = stack.find_form(p.text, pred=lambda f: "thresh-history-" + form_class in (f.attrs.get("class") or "").split())
    for k, v in (changes or {}).items():
        form.set(k, v)
    r = ua.submit(p, form)
    if r.status != 302:
        raise AssertionError("%s: %d %s" % (form_class, r.status, stack.strip_tags(r.text)[:1500]))
    return ua.get(r.location)


def box(page=SETTINGS):
    text = SITE.admin_agent().get(page).text
    m = re.search(r'<div class="thresh-history" id="thresh-history".*?</ul>|<div class="thresh-history".*?</p>',
                  text, re.S)
    return re.sub(r"\s+([:;,.)])", r"\1", stack.strip_tags(m.group(0))) if m else ""


def configure():
    """Settings > Thresh: the database folder (and the library, where the
    page has that field), as the admin saves it."""
    ua = SITE.admin_agent()
    page = ua.get(SETTINGS)
    form = stack.find_form(page.text, pred=lambda f: f.get("option_page") == "thresh")
    form.set("thresh_db_dir", DB)
    if form.get("thresh_lib_path") is not None:
        form.set("thresh_lib_path", LIB)
    form.set("thresh_discard_blatant", None)    # blatant spam is kept in Spam (Test02)
    r = ua.submit(page, form)
    assert r.status == 302, r


def browser(steps, timeout=240):
    """The admin's steps in Chromium (node/admin.mjs); None when the browser
    cannot run here (a failure with CI=true)."""
    missing = stack.missing_browser()
    if missing:
        if stack.in_ci():
            raise AssertionError("CI=true and the browser cannot run: " + "; ".join(missing))
        return None
    env = dict(os.environ)
    env.pop(stack.INSIDE_ENV, None)
    env["NODE_PATH"] = os.path.join(stack.NODE_DIR, "node_modules")
    args = {"base": SITE.base, "out": ARTIFACTS, "chromium": stack.CHROMIUM, "admin_user": stack.ADMIN_USER,
            "admin_password": stack.ADMIN_PASSWORD, "steps": steps}
    with tempfile.TemporaryDirectory(prefix="thresh-wp-node-") as tmp:
        env["HOME"] = tmp
        r = subprocess.run(["node", os.path.join(stack.NODE_DIR, "admin.mjs"), json.dumps(args)],
                           capture_output=True, text=True, timeout=timeout, env=env, cwd=stack.NODE_DIR)
    if r.returncode:
        raise AssertionError("the browser script failed:\n%s\n%s" % (r.stdout, r.stderr))
    out = json.loads(r.stdout.strip().splitlines()[-1])
    for s in steps:
        if "shot" in s:
            with open(os.path.join(ARTIFACTS, s["shot"]), "rb") as f:
                head = f.read(8)
            assert head == b"\x89PNG\r\n\x1a\n", s
    return out


# ---------------------------------------------------------------------------

class HistoryTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.sizes = S.log_sizes()

    def tearDown(self):
        res = getattr(getattr(self, "_outcome", None), "result", None)
        if res is not None and any(t is self for t, _ in res.failures + res.errors):
            print("\n===== %s failed: logs written during the test =====\n%s"
                  % (self.id(), S.logs(since=self.sizes)), file=sys.stderr)

    def assertCounts(self, s, **want):
        self.assertEqual({k: s[k] for k in want}, want, s)

    def assertConsistent(self, s):
        """Every comment done was learned, a duplicate, or skipped: once."""
        handed = s["ham"] + s["spam"]
        self.assertEqual(s["done"], handed + sum(s["skipped"].values()), s)
        self.assertEqual(handed, s["learned"] + s["duplicates"] + s["moved"], s)


class Test01Import(HistoryTest):
    """Activation offers the import; the admin starts it from the notice in
    Chromium; WP-Cron does the rest in batches."""

    def test_1_activation_offers_it_once_thresh_is_in_use(self):
        self.assertIsNone(SITE.option("thresh_history_offer"))
        SITE.activate_plugin("thresh")
        self.assertEqual(SITE.option("thresh_history_offer"), "1", "activation offers the import")
        dash = stack.strip_tags(SITE.admin_agent().get("/wp-admin/").text)
        self.assertIn("Thresh can learn from this site's comments", dash)
        self.assertIn("It can once thresh is in use", dash, "no database set yet")
        self.assertNotIn("thresh-history-start", SITE.admin_agent().get("/wp-admin/").text)
        configure()
        page = SITE.admin_agent().get("/wp-admin/").text
        form = stack.find_form(page, pred=lambda f: f.get("action") == "thresh_history_start")
        self.assertEqual(form.get("cap"), "5000", "5,000 comments by default")
        self.assertTrue(form.get("_wpnonce"), "a nonce")
        self.assertIsNone(state(), "nothing started")

    def test_2_a_forged_or_unauthorised_start_is_refused(self):
        ua = SITE.admin_agent()
        r = ua.post("/wp-admin/admin-post.php", {"action": "thresh_history_start", "cap": "10"})
        self.assertEqual(r.status, 403, "no nonce: %r" % r)
        r = ua.post("/wp-admin/admin-post.php", {"action": "thresh_history_start", "_wpnonce": "0123456789"})
        self.assertEqual(r.status, 403, "a wrong nonce")
        visitor = SITE.agent()
        r = visitor.post("/wp-admin/admin-post.php", {"action": "thresh_history_start"})
        self.assertNotEqual(r.status, 302, r)
        r = visitor.get("/wp-admin/admin-ajax.php?action=thresh_history_progress")
        self.assertIn(r.status, (400, 403), r)
        self.assertIsNone(state(), "nothing started")
        self.assertEqual(learned(), (0, 0))

    def test_3_the_button_learns_the_history_in_batches(self):
        total = len(HAMS) + 1 + len(SPAMS) + 1     # approved + WordPress's own + spam + the order note
        with small_batches():
            # the admin presses the notice's button on the dashboard, then
            # "Run a batch now" in the notice, then looks at Settings > Thresh
            out = browser([
                {"goto": "/wp-admin/"},
                {"shot": "history-offer.png", "of": "#thresh-history-notice"},
                {"click": "#thresh-history-notice .thresh-history-start button"},
                {"text": "#thresh-history-notice", "as": "started"},
                {"click": "#thresh-history-notice .thresh-history-step button"},
                {"goto": SETTINGS},
                {"shot": "history-progress.png", "of": "#thresh-history-section"},
                {"text": "#thresh-history-section", "as": "progress"},
            ])
            if out is None:     # no browser here: the same through forms
                admin_post("start", page="/wp-admin/")
                admin_post("step", page="/wp-admin/")
            else:
                self.assertEqual(out["page_errors"], [])
                self.assertIn("Learning this site's comments: 0 of %d comments" % total, out["texts"]["started"])
                self.assertIn("%d of %d comments" % (BATCH, total), out["texts"]["progress"])
            s = state()
            self.assertCounts(s, state="running", cap=5000, total=total, done=BATCH, batches=1)
            self.assertConsistent(s)
            self.assertEqual(s["left"], {"pending": 2, "trash": 1})
            self.assertTrue(scheduled(), "WP-Cron has the next batch")
            self.assertEqual(sum(learned()), s["learned"], "the first batch is learned")

            # WP-Cron: one batch a run, each from where the last stopped
            seen = cron_until_done()
        want = list(range(2 * BATCH, total, BATCH)) + [total]
        self.assertEqual(seen, want, "one batch of %d a run" % BATCH)
        s = state()
        self.assertCounts(s, state="finished", total=total, done=total, ham=len(HAMS) + 1, spam=len(SPAMS),
                          learned=len(HAMS) + 1 + len(SPAMS), duplicates=0, moved=0,
                          batches=math.ceil(total / BATCH), error="")
        self.assertEqual(s["skipped"], {"type": 1}, "the order note is not a comment")
        self.assertConsistent(s)
        self.assertFalse(scheduled(), "nothing left for WP-Cron")
        self.assertEqual(learned(), (len(SPAMS), len(HAMS) + 1), "thresh stats: spam, ham")
        self.assertIsNone(SITE.option("thresh_history_lock"), "the lock is released")
        page = box()
        self.assertIn("Finished: %d of %d comments (100%%)" % (total, total), page)
        self.assertIn("Taught: %d approved comments as ham, %d spam comments as spam." % (s["ham"], s["spam"]), page)
        self.assertIn("New to thresh: %d; learned before, so counted once: 0." % s["learned"], page)
        self.assertIn("Skipped 1: 1 of other types than comments", page)
        self.assertIn("Not learned, as they teach nothing: 2 pending, 1 in Trash", page)
        out = browser([{"goto": SETTINGS}, {"shot": "history-result.png", "of": "#thresh-history-section"},
                       {"goto": "/wp-admin/"}, {"text": "#thresh-history-notice", "as": "notice"}])
        if out is not None:
            self.assertIn("Finished", out["texts"]["notice"], "the dashboard says it is done")
        # dismissed, the notice is gone; the page keeps the result
        admin_post("dismiss", page="/wp-admin/")
        self.assertNotIn("thresh-history-notice", SITE.admin_agent().get("/wp-admin/").text)
        self.assertIn("Finished", box())
        self.assertEqual(plugin_errors(self.sizes), [])


def plugin_errors(sizes):
    """What the plugin (or PHP about it) logged since `sizes`; WordPress's own
    warnings (its update checks, which WP-Cron runs too, cannot reach
    wordpress.org from the stack) are not the plugin's."""
    return [line for line in S.logs(since=sizes, limit=10 ** 7).splitlines()
            if "thresh" in line.lower() and ("PHP Fatal" in line or "PHP Warning" in line or "thresh:" in line)]


class Test02Again(HistoryTest):
    """History and moderation agree on what a comment is: a comment learned
    by one counts once for the other, and a second run learns nothing new."""

    def test_a_second_run_counts_what_was_learned_once(self):
        before = learned()
        # moderation, now that thresh is in use: a pending comment approved
        # (ham), an imported approved comment marked spam (moved)
        SITE.click(HISTORY["pending"][0], "approvecomment", view="moderated")
        self.assertEqual(learned(), (before[0], before[1] + 1), "approving learned ham")
        SITE.click(HISTORY["ham"][0], "spamcomment")
        self.assertEqual(learned(), (before[0] + 1, before[1]), "Spam moved the imported ham: same comment")
        # a bot's comment thresh itself puts in Spam (a filled honeypot, kept)
        bot, _ = SITE.post_comment("marmoset thistledown wibble", author="Bot", email=stack.new_email("bot"),
                                   extra={"thresh_hp": "http://bot.example"})
        self.assertEqual(SITE.status(bot), "spam")
        after_moderation = learned()
        self.assertEqual(after_moderation, (before[0] + 1, before[1]), "thresh's own verdict is not learned")

        with small_batches():
            admin_post("start")     # "Learn again"
            cron_until_done()
        s = state()
        total = len(HAMS) + 1 + 1 + len(SPAMS) + 1 + 1    # approved, spam (the moved one, the bot's)
        self.assertCounts(s, state="finished", total=total, done=total, learned=0, moved=0,
                          duplicates=len(HAMS) + 1 + len(SPAMS) + 1, runs=2)
        self.assertEqual(s["skipped"], {"type": 1, "own": 1})
        self.assertConsistent(s)
        self.assertEqual(learned(), after_moderation, "the second run changed nothing")
        page = box()
        self.assertIn("New to thresh: 0; learned before, so counted once: %d." % s["duplicates"], page)
        self.assertIn("Skipped 2: 1 decided by thresh itself, 1 of other types than comments (order notes, logs).", page)
        self.assertEqual(plugin_errors(self.sizes), [])


class Test03Resume(HistoryTest):
    """A run goes on where it stopped: after deactivation, after a request
    that died mid-batch, after a failure."""

    def test_deactivation_a_crash_and_a_failure(self):
        before = learned()
        with small_batches():
            admin_post("start", changes={"cap": "14"})
            self.assertEqual(SITE.option("thresh_history_cap"), "14")
            cron()
            self.assertCounts(state(), state="running", total=14, done=BATCH)
            # deactivated mid-way: no more batches; activated: on again
            ua = SITE.admin_agent()
            page = ua.get("/wp-admin/plugins.php")
            deactivate = [h for h in stack.links(page.text) if "action=deactivate&plugin=thresh%2F" in h]
            ua.get(urllib.parse.urljoin(page.url, deactivate[0]))
            self.assertNotIn("thresh/", SITE.option("active_plugins"))
            self.assertFalse(scheduled(), "deactivation removes the WP-Cron event")
            cron()
            self.assertCounts(state(), state="running", done=BATCH)
            SITE.activate_plugin("thresh")
            self.assertTrue(scheduled(), "activation puts it back")
            self.assertEqual(SITE.option("thresh_history_offer"), "0", "no offer again")

            # a request that dies mid-batch (a site's filter exits): nothing
            # of the batch is stored, the lock is released, the next run is
            # already scheduled, and goes on from the same comment
            ids = self.next_ids(BATCH)
            with mu_plugin("dies", "add_filter('thresh_fields', function ($f, $c) {\n"
                           "\tif (is_object($c) && (int)$c->comment_ID === %d) exit;\n"
                           "\treturn $f;\n}, 10, 2);\n" % ids[2]):
                cron()
            # WP-Cron's own lock (the transient doing_cron), which the dead
            # request left, keeps wp-cron.php from running for 60 s
            # (WP_CRON_LOCK_TIMEOUT): the test does not wait that long
            SITE.sql("DELETE FROM wp_options WHERE option_name = '_transient_doing_cron'")
            s = state()
            self.assertCounts(s, state="running", done=BATCH)
            self.assertIsNone(SITE.option("thresh_history_lock"), "the lock went with the request")
            self.assertTrue(scheduled(), "the next WP-Cron run is scheduled")
            self.assertEqual(learned(), before, "nothing of the batch stored")

            # a failure: the state says why, nothing is stored, Continue goes on
            with mu_plugin("fails", "add_filter('thresh_fields', function ($f, $c) {\n"
                           "\tif (is_object($c) && (int)$c->comment_ID === %d) throw new RuntimeException('the site\\'s filter broke');\n"
                           "\treturn $f;\n}, 10, 2);\n" % ids[1]):
                self.sizes = S.log_sizes()
                admin_post("step")
                s = state()
                self.assertCounts(s, state="failed", done=BATCH, error="the site's filter broke")
                self.assertIn("Failed: %d of 14 comments" % BATCH, box())
                self.assertIn("the site's filter broke", box())
                self.assertFalse(scheduled(), "a failed run stops")
            self.assertEqual(learned(), before)
            admin_post("start", changes={"continue": "1"})
            seen = cron_until_done()
        self.assertEqual(seen, [8, 12, 14])
        s = state()
        self.assertCounts(s, state="finished", done=14, total=14, learned=0, moved=0)
        self.assertConsistent(s)
        self.assertEqual(learned(), before, "all of them were learned before")

    def next_ids(self, n):
        """The IDs of the next n comments the run takes (newest first after the cursor)."""
        c = state()["cursor"]
        rows = SITE.sql("SELECT comment_ID FROM wp_comments WHERE comment_approved IN ('1', 'spam') AND "
                        "(comment_date_gmt < %s OR (comment_date_gmt = %s AND comment_ID < %d)) "
                        "ORDER BY comment_date_gmt DESC, comment_ID DESC LIMIT %d"
                        % (stack.quote(c["date"]), stack.quote(c["date"]), c["id"], n))
        return [int(r[0]) for r in rows]


def add_user(login, role):
    """A user the admin adds on Users > Add New (user-new.php) with `role`;
    returns a UserAgent logged in as that user."""
    ua = SITE.admin_agent()
    page = ua.get("/wp-admin/user-new.php")
    form = stack.find_form(page.text, id="createuser")
    password = "pw %s %s" % (login, os.urandom(8).hex())
    for k, v in (("user_login", login), ("email", "%s@%s" % (login, SITE.host)), ("pass1", password),
                 ("pass2", password), ("role", role), ("send_user_notification", None)):
        form.set(k, v)
    ua.submit(page, form)
    assert SITE.sql("SELECT ID FROM wp_users WHERE user_login = %s" % stack.quote(login)), login
    return SITE.login(login, password)


def set_state(**changes):
    """Change fields of the run as time would (php-cli serializes it back)."""
    raw = SITE.option("thresh_history")
    code = ("$s = unserialize(stream_get_contents(STDIN)); foreach (json_decode(%s, true) as $k => $v) $s[$k] = $v;"
            " echo serialize($s);" % php_string(json.dumps(changes)))
    r = subprocess.run(["php", "-r", code], input=raw, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    SITE.sql("UPDATE wp_options SET option_value = %s WHERE option_name = 'thresh_history'" % stack.quote(r.stdout))


class Test04Who(HistoryTest):
    """Only users who may moderate comments see, start or run it; the page
    follows a run through admin-ajax.php and runs it itself when WP-Cron
    does not."""

    def test_the_page_runs_it_when_wp_cron_does_not(self):
        with small_batches():
            page = admin_post("start", changes={"cap": "8"})
            self.assertCounts(state(), state="running", total=8, done=0)
            m = re.search(r'var u=("[^"]+")', page.text)
            self.assertTrue(m, "the page polls while it runs")
            url = json.loads(m.group(1))
            ua = SITE.admin_agent()
            r = ua.get(url).json()
            self.assertTrue(r["success"], r)
            self.assertEqual((r["data"]["state"], r["data"]["done"], r["data"]["total"]), ("running", 0, 8))
            self.assertIn("0 of 8 comments", stack.strip_tags(r["data"]["html"]))
            self.assertEqual(state()["done"], 0, "WP-Cron ran a moment ago: the page waits for it")
            # a minute without WP-Cron (DISABLE_WP_CRON and no system cron)
            set_state(updated=state()["updated"] - 120)
            r = ua.get(url).json()
            self.assertEqual((r["data"]["state"], r["data"]["done"]), ("running", BATCH), "the page ran a batch")
            self.assertEqual(ua.get(url).json()["data"]["done"], BATCH, "and waits again")

            # an Author (no moderate_comments) neither sees nor starts nor runs it
            author = add_user("history_author", "author")
            self.assertNotIn("thresh-history", author.get("/wp-admin/").text)
            r = author.post("/wp-admin/admin-post.php", {"action": "thresh_history_step"})
            self.assertEqual(r.status, 403)
            self.assertIn("not allowed to teach thresh", stack.strip_tags(r.text))
            self.assertEqual(author.get(url).status, 403)
            self.assertCounts(state(), state="running", done=BATCH)
            # an Editor (moderate_comments) sees the notice and stops it
            editor = add_user("history_editor", "editor")
            admin_post("stop", page="/wp-admin/", ua=editor)
            self.assertCounts(state(), state="stopped", done=BATCH)
            self.assertFalse(scheduled(), "stopped: no WP-Cron run")
            cron()
            self.assertCounts(state(), state="stopped", done=BATCH)
            self.assertIn("Stopped: %d of 8 comments" % BATCH, box())
            admin_post("start", changes={"continue": "1"})
            self.assertEqual(cron_until_done(), [8])
        s = state()
        self.assertCounts(s, state="finished", done=8, learned=0)
        self.assertConsistent(s)


if __name__ == "__main__":
    if not LIB or not os.path.exists(LIB):
        stack.give_up("THRESH_LIB is not set to the built libthresh (%r)" % LIB)
    stack.enter_namespaces()
    unittest.main(verbosity=2)
