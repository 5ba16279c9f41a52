#!/usr/bin/env python3
"""thresh's own WordPress plugin (plugin/wordpress/thresh/ over
plugin/php/Thresh.php and PHP FFI) on the real stack of tests/wordpress:
MariaDB, Apache httpd with mod_php (FFI on), Debian's WordPress 6.1, in
namespaces of their own (stack.py). No threshd: the plugin loads libthresh
into mod_php.

`meson test -C build --suite wordpress` runs it with test_akismet.py on one
stack (tests/wordpress/run.py). By itself, on a stack of its own:

    THRESH_BIN=build/src/cli/thresh THRESH_LIB=build/src/lib/libthresh.so \\
    THRESH_MODEL=build/models/default.dump THRESHD_BIN=build/src/daemon/threshd \\
        python3 tests/wordpress/test_thresh_plugin.py [-v] [Test.name]

The plugin is installed as
plugin/wordpress/README.md says: the plugin folder with Thresh.php copied
into wp-content/plugins/thresh/, a database made with `thresh init` by the web
server's user (www-data) outside the web root, activated on the Plugins
screen, configured on Settings > Thresh (the database folder and the
library's path, since the library is the build's, not installed). Comments
are posted by visitors through wp-comments-post.php, moderated with the Spam,
Not Spam and Approve links of edit-comments.php, and thresh's learned counts
are read back with `thresh stats --json` run as www-data.

This complements tests/plugins/test_wordpress.php (WordPress with an
in-memory wpdb, no HTTP): here MariaDB, HTTP, the admin screens, options.php
and FFI under mod_php are real.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import stack  # noqa: E402

S = None        # the Stack (run.py's shared one, or this module's own)
OWNED = False   # whether this module started S (and so stops it)
SITE = None
SITES = [("thresh.test", {})]   # run.py adds every module's sites at once
DB = None
LIB = os.path.abspath(os.environ["THRESH_LIB"]) if os.environ.get("THRESH_LIB") else ""
PLUGIN_SRC = os.path.join(stack.SOURCE_ROOT, "plugin", "wordpress", "thresh")
THRESH_PHP = os.path.join(stack.SOURCE_ROOT, "plugin", "php", "Thresh.php")
ARTIFACTS = os.path.join(stack.ARTIFACTS, "thresh-plugin")
SETTINGS = "/wp-admin/options-general.php?page=thresh"
SETUP = {}


def setUpModule():
    global S, OWNED, SITE, DB
    if os.path.exists(ARTIFACTS):
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
    os.makedirs(ARTIFACTS, exist_ok=True)
    S, OWNED = stack.module_stack(SITES, threshd=False)
    try:
        SITE = S.sites["thresh.test"]
        # the plugin as plugin/wordpress/README.md installs it: a copy, with Thresh.php beside it
        dest = os.path.join(SITE.content, "plugins", "thresh")
        shutil.copytree(PLUGIN_SRC, dest)
        shutil.copy(THRESH_PHP, dest)
        # a database the web server's user owns, outside the web root
        DB = S.path("thresh-db", "blog")
        os.makedirs(os.path.dirname(DB))
        shutil.chown(os.path.dirname(DB), "www-data", "www-data")
        # the build's model dump is private to its owner (0600): a copy www-data can read
        SETUP["model"] = S.path("default.dump")
        shutil.copy(stack.THRESH_MODEL, SETUP["model"])
        os.chmod(SETUP["model"], 0o644)
        thresh("init")
        SITE.install()
        SITE.activate_plugin("thresh")
        SITE.activate_theme("twentytwentyone")
        SITE.save_settings("/wp-admin/options-discussion.php", {"comment_previously_approved": None})
        # Settings > Thresh: before and after entering the folder and the library
        ua = SITE.admin_agent()
        SETUP["before"] = stack.strip_tags(ua.get(SETTINGS).text)
        SETUP["saved"] = SITE.save_settings(SETTINGS, {"thresh_db_dir": DB, "thresh_lib_path": LIB},
                                            form_pred=lambda f: f.get("option_page") == "thresh")
        SETUP["after"] = stack.strip_tags(ua.get(SETTINGS).text)
        SETUP["sizes"] = S.log_sizes()
    except BaseException as e:
        stack.setup_failed(S, OWNED, "setting up thresh.test (thresh's plugin)", ARTIFACTS, e)


ROWS = []   # the comment table: what was posted, what was expected, what WordPress did


def write_comment_table():
    lines = ["| comment | expected | comment_approved | thresh said (_thresh_result) |", "|---|---|---|---|"]
    for text, expected, cid in ROWS:
        status = SITE.status(cid)
        meta = ""
        if cid:
            rows = SITE.sql("SELECT meta_value FROM wp_commentmeta WHERE comment_id = %d AND "
                            "meta_key = '_thresh_result'" % cid)
            if rows:
                m = rows[0][0]
                v = re.search(r's:7:"verdict";s:\d+:"(\w+)"', m)
                sc = re.search(r's:5:"score";d:([0-9.Ee-]+)', m)
                rs = re.findall(r'i:\d+;s:\d+:"(\w+)"', m)
                meta = "%s %s %s" % (v.group(1) if v else "?", sc.group(1) if sc else "?", ",".join(rs))
        lines.append("| %s | %s | %s | %s |" % (text[:60].replace("|", "/"), expected, status, meta or "-"))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(ARTIFACTS, "comments.md"), "w", encoding="utf-8") as f:
        f.write(text)
    print("\n" + text, file=sys.stderr)


def tearDownModule():
    if S is None:
        return
    try:
        if ROWS:
            write_comment_table()
        S.save_logs(os.path.join(ARTIFACTS, "logs"))
    finally:
        if OWNED:
            S.stop()


def thresh(*args):
    """The thresh command on the site's database, as the web server's user."""
    env = dict(os.environ, THRESH_MODEL=SETUP.get("model", stack.THRESH_MODEL))
    env.pop(stack.INSIDE_ENV, None)
    r = subprocess.run([stack.THRESH, "--db", DB] + list(args), capture_output=True, text=True,
                       timeout=60, env=env, user="www-data", group="www-data", cwd="/")
    if r.returncode:
        raise AssertionError("thresh %s: %d %s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r.stdout


def learned():
    st = json.loads(thresh("stats", "--json"))
    return st["spam_messages"], st["ham_messages"]


class PluginTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.sizes = S.log_sizes()

    def tearDown(self):
        res = getattr(getattr(self, "_outcome", None), "result", None)
        if res is not None and any(t is self for t, _ in res.failures + res.errors):
            print("\n===== %s failed: logs written during the test =====\n%s"
                  % (self.id(), S.logs(since=self.sizes)), file=sys.stderr)

    def result(self, cid):
        """The plugin's _thresh_result meta (verdict, score, reasons), as text."""
        rows = SITE.sql("SELECT meta_value FROM wp_commentmeta WHERE comment_id = %d AND "
                        "meta_key = '_thresh_result'" % cid) if cid else []
        return rows[0][0] if rows else None

    def post(self, content, expected="", **kw):
        cid, r = SITE.post_comment(content, **kw)
        self.assertEqual(r.status, 302, "wp-comments-post.php: %d %s" % (r.status, stack.strip_tags(r.text)[:800]))
        ROWS.append((content, expected, cid))
        return cid


class Test01Settings(PluginTest):
    def test_settings_page_before_and_after_configuration(self):
        self.assertIn("thresh is not in use", SETUP["before"])
        self.assertIn(SETUP["saved"].status, (302,))
        self.assertEqual(SITE.option("thresh_db_dir"), DB)
        self.assertEqual(SITE.option("thresh_lib_path"), LIB)
        self.assertIn("comments are checked", SETUP["after"], SETUP["after"][-2000:])
        self.assertIn("database %s" % DB, SETUP["after"])
        self.assertNotIn("under the web root", SETUP["after"])
        self.assertNotIn("not in use", SETUP["after"])
        self.assertIn("Discard blatant spam", SETUP["after"])
        # on by default (WordPress stores nothing while the value is the default)
        self.assertIn(SITE.option("thresh_discard_blatant"), (None, "1"))


MAP = {"accept": "1", "hold": "0", "reject": "spam"}   # and blatant reject: discarded


def verdict(meta):
    m = re.search(r's:7:"verdict";s:\d+:"(\w+)"', meta or "")
    return m.group(1) if m else None


class Test02Verdicts(PluginTest):
    """thresh's verdict decides where a visitor's comment lands: accept ->
    approved (1), hold -> pending (0), reject -> spam."""

    COMMENTS = [
        ("Haha ok see you tomorrow at lunch then", "Sam"),
        ("I will call you later when I get home, love you", "Alex"),
        ("Thank you for this post. I followed your recipe for the sourdough loaf and it turned "
         "out beautifully, with a crisp crust.", "Margaret"),
        ("Two good articles on the subject: https://en.wikipedia.org/wiki/Sourdough and "
         "https://en.wikipedia.org/wiki/Bread - thanks for yours too.", "Linda"),
        ("Hey guys check out my channel!! Subscribe to my youtube channel please "
         "http://www.youtube.com/channel/UC0fake0channel", "Gamer Kid"),
    ]

    def test_each_verdict_maps_to_its_status(self):
        seen = []
        emails = {}
        for text, author in self.COMMENTS:
            emails[author] = stack.new_email(author.lower().replace(" ", ""))
            cid = self.post(text, expected="1/0/spam by verdict", author=author, email=emails[author])
            seen.append(self.check_mapping(cid, author))
        # Every new author's first comment is held unless it scores clearly
        # as ham (thresh.conf first_comment): the admin approves Sam's, and
        # Sam's next comment is accepted.
        first = SITE.sql("SELECT MAX(comment_ID) FROM wp_comments WHERE comment_author_email = %s"
                         % stack.quote(emails["Sam"]))[0][0]
        if SITE.status(int(first)) == "0":
            SITE.click(int(first), "approvecomment", view="moderated")
        cid = self.post("Sounds good, see you at lunch tomorrow", expected="1 (a returning author)",
                        author="Sam", email=emails["Sam"])
        seen.append(self.check_mapping(cid, "Sam, again"))
        self.assertEqual(set(seen), set(MAP), "every verdict occurred: %s" % seen)

    def check_mapping(self, cid, who):
        if cid is None:
            return "reject"   # blatant: discarded, never stored
        meta = self.result(cid)
        v = verdict(meta)
        self.assertIn(v, MAP, "no _thresh_result verdict for %r: %r" % (who, meta))
        self.assertEqual(SITE.status(cid), MAP[v], "%s: %s" % (who, meta))
        return v

    def test_on_topic_ham_is_not_spam(self):
        cid = self.post("Could you say a little more about how long you let the dough rest before "
                        "shaping it? Mine spread out quite a lot in the oven.", expected="1/0", author="Tom")
        self.assertIn(SITE.status(cid), ("1", "0"), self.result(cid))

    def test_spam_is_spam(self):
        cid = self.post("URGENT! You have won a 1 week FREE membership in our 100,000 Prize Jackpot! "
                        "Txt the word: CLAIM to No: 81010 T&C www.dbuk.net", expected="spam",
                        author="Prize Team")
        self.assertEqual(SITE.status(cid), "spam", self.result(cid))

    def test_blatant_spam_is_discarded(self):
        # A bot fills every field, the plugin's hidden honeypot too: blatant
        # spam, discarded (never stored; the visitor is sent back to the post).
        before = int(SITE.option("thresh_discarded_count") or 0)
        email = stack.new_email("bot")
        cid, r = SITE.post_comment("Nice post, visit my site", author="Bot", email=email,
                                   extra={"thresh_hp": "http://spam.example"})
        ROWS.append(("(honeypot filled) Nice post, visit my site", "discarded", cid))
        self.assertEqual(r.status, 302)
        self.assertIsNone(cid, "a discarded comment has no id: %r" % r.location)
        self.assertEqual(SITE.sql("SELECT COUNT(*) FROM wp_comments WHERE comment_author_email = %s"
                                  % stack.quote(email))[0][0], "0")
        self.assertEqual(int(SITE.option("thresh_discarded_count")), before + 1)
        # A person never fills it: the same comment with it empty is stored.
        cid = self.post("Nice post, I learned a lot about proofing", expected="1/0", author="Person",
                        extra={"thresh_hp": ""})
        self.assertIn(SITE.status(cid), ("1", "0"), self.result(cid))

    def test_a_flood_from_one_author_is_spam(self):
        email = stack.new_email("flood")
        ip = stack.new_ip()
        got = []
        for text in ["Ok, I will try it again tomorrow morning", "I think so too, see you next week",
                     "That is a good idea, I will ask my mother", "Sorry, I meant the other recipe, my mistake",
                     "Good question, I usually let it rest for an hour"]:
            cid = self.post(text, expected="1/0, spam from the 4th (rate)", author="Flo", email=email,
                            source=ip)
            got.append((SITE.status(cid), self.result(cid)))
        self.assertTrue(all(s in ("1", "0") for s, _ in got[:3]), got)
        self.assertEqual(got[3][0], "spam", got)
        self.assertIn("rate_limited", got[3][1] or "")

    def test_admin_comments_are_not_checked(self):
        ua = SITE.admin_agent()
        cid = self.post("Check out my channel!! cheap pills casino bonus http://free-money.example",
                        expected="1 (an admin's: not checked)", ua=ua)
        self.assertEqual(SITE.status(cid), "1")
        self.assertIsNone(self.result(cid))


class Test03Learning(PluginTest):
    """The admin's Spam, Not Spam and Approve teach thresh."""

    def test_spam_link_learns_spam_and_not_spam_moves_it_to_ham(self):
        cid = self.post("I will call you later when I get home, see you soon",
                        expected="1/0, then Spam, then Not Spam", author="Sunday Baker")
        self.assertIn(SITE.status(cid), ("1", "0"), self.result(cid))
        before = learned()
        SITE.click(cid, "spamcomment")
        self.assertEqual(SITE.status(cid), "spam")
        self.assertEqual(learned(), (before[0] + 1, before[1]), "Spam learns spam")
        SITE.click(cid, "unspamcomment", view="spam")
        self.assertIn(SITE.status(cid), ("1", "0"))
        self.assertEqual(learned(), (before[0], before[1] + 1), "Not Spam moves the learn to ham")

    def test_approving_a_held_comment_learns_ham(self):
        cid = self.post("Lovely article, thanks for writing it. The photos are wonderful.",
                        expected="0, then Approve", author="Held Reader")
        self.assertEqual(SITE.status(cid), "0", self.result(cid))
        before = learned()
        SITE.click(cid, "approvecomment", view="moderated")
        self.assertEqual(SITE.status(cid), "1")
        self.assertEqual(learned(), (before[0], before[1] + 1))

    def test_spam_on_arrival_is_not_learned(self):
        before = learned()
        cid = self.post("PLEASE CHECK OUT MY CHANNEL AND SUBSCRIBE!!! check out my channel "
                        "subscribe subscribe", expected="spam", author="Music Fan")
        self.assertEqual(SITE.status(cid), "spam", self.result(cid))
        self.assertEqual(learned(), before, "thresh must not learn its own verdicts")


class Test04NoErrors(PluginTest):
    def test_zz_no_php_errors_from_the_plugin(self):
        """Once configured, the plugin logged nothing (before, it rightly
        logged that libthresh.so.0 is not installed)."""
        logs = S.logs(since=SETUP["sizes"], limit=10 ** 7)
        bad = [line for line in logs.splitlines()
               if ("thresh" in line.lower() and ("PHP Fatal" in line or "PHP Warning" in line
                                                 or "thresh:" in line))]
        self.assertEqual(bad, [])


if __name__ == "__main__":
    if not LIB or not os.path.exists(LIB):
        stack.give_up("THRESH_LIB is not set to the built libthresh (%r)" % LIB)
    stack.enter_namespaces()
    unittest.main(verbosity=2)
