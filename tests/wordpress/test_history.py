#!/usr/bin/env python3
"""A WordPress site's history learned by thresh, on the real stack
(tests/wordpress/stack.py): comments made through WordPress itself, then read
back the three ways README.md ("Learning the site's history") and threshd(8)
give:

  1. the REST API's JSON (/wp-json/wp/v2/comments?context=edit), fetched by
     README's own curl loop with an application password, into
     `thresh train --wp-json`;
  2. README's own `mariadb --batch` query of wp_comments, into
     `thresh train --wp-mariadb`;
  3. the same rows as JSON lines to threshd's POST /v1/learn/bulk
     (threshd(8)'s own jq line when jq is installed).

Each goes into a fresh database, and the learned counts (thresh stats, GET
/v1/stats) must be the site's: its approved comments as ham, its spam as
spam, nothing else. Then the site switches to threshd through Akismet: the
history is learned into the database threshd serves, and a moderator's Spam
and Not Spam on history comments (WordPress's Akismet plugin reporting them
to threshd) must move those comments, not learn them a second time.

The site history.test runs WordPress's Akismet plugin, activated only after
its history was made (a site that had none, then switches). A rewrite rule
of its virtual host gives /wp-json/ as pretty permalinks' .htaccess would;
WP_ENVIRONMENT_TYPE=local offers application passwords over plain HTTP
(WordPress offers them over HTTPS otherwise).

    THRESHD_BIN=build/src/daemon/threshd THRESH_BIN=build/src/cli/thresh \\
    THRESH_MODEL=build/models/default.dump python3 tests/wordpress/test_history.py [-v]

run.py runs it after the other modules, on the shared stack: it learns
comments into the shared threshd's database, which the other modules' tests
must not see. Needs root (unshare); without a prerequisite it exits 77.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import stack  # noqa: E402

S = None
OWNED = False
SITE = None
HOST = "history.test"
# /wp-json/ as a site with pretty permalinks has it (its .htaccess sends
# every path that is no file to index.php): here a rule of the virtual host
SITES = [(HOST, {"plugins": ["akismet"],
                 "apache_extra": "RewriteEngine On\n    RewriteRule ^/wp-json/?(.*)$ "
                                 "/index.php?rest_route=/$1 [QSA,PT,L]",
                 "extra_config": "define('WP_ENVIRONMENT_TYPE', 'local');"})]
ARTIFACTS = os.path.join(stack.ARTIFACTS, "history")
README = os.path.join(stack.SOURCE_ROOT, "README.md")
THRESHD_MAN = os.path.join(stack.SOURCE_ROOT, "docs", "threshd.8")
BULK_PORT = 8709
HIST = {}       # what setUpModule made: comment IDs by final status, the app password

# The site's history: what visitors wrote (as they typed it), and what the
# moderator made of it. WordPress stores their text kses-filtered ("&" as
# "&amp;"), the author's white space collapsed, a web site given "http://".
HISTORY = [
    ("Thanks for the tutorial & the examples <3, it's \"great\"", "Ann  Smith", "ann.example/blog", "1"),
    ("First line.\r\n\r\nSecond line, with a tab\there and a backslash \\ there.", "Bo", "", "1"),
    ("Caf\u00e9 \u2615 \u2014 merci beaucoup pour cet article !", "Chlo\u00e9", "", "1"),
    ("I tried the recipe with rye flour and it worked nicely.", "Dan", "", "1"),
    ("Could you write about sourdough starters next time?", "Eve", "https://eve.example/", "1"),
    ("My grandmother baked bread like this every Sunday.", "Finn", "", "1"),
    ("Buy cheap pills online, best prices &amp; fast delivery", "PillShop", "pills.example", "spam"),
    ("Earn $5000 a week from home, click my profile now!!!", "Money Maker", "", "spam"),
    ("Best casino bonus codes 2024 >>> free spins <<<", "casino", "http://casino.example/", "spam"),
    ("Cheap replica watches, rolex & omega, order today", "Watches", "", "spam"),
    ("Is this still up to date for the new version?", "Gus", "", "0"),
    ("Nice post, check out my site for more", "Hal", "hal.example", "0"),
    ("Old comment the moderator threw away", "Ivy", "", "trash"),
]


def setUpModule():
    global S, OWNED, SITE
    if os.path.exists(ARTIFACTS):
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
    os.makedirs(ARTIFACTS, exist_ok=True)
    S, OWNED = stack.module_stack(SITES)
    try:
        SITE = S.sites[HOST]
        SITE.install()
        SITE.activate_theme("twentytwentyone")
        SITE.save_settings("/wp-admin/options-discussion.php", {"comment_previously_approved": None})
        make_history()
        HIST["app_password"] = application_password()
    except BaseException as e:
        stack.setup_failed(S, OWNED, "setting up %s (a site's history)" % HOST, ARTIFACTS, e)


def tearDownModule():
    if S is None:
        return
    try:
        S.save_logs(os.path.join(ARTIFACTS, "logs"))
    finally:
        if OWNED:
            S.stop()


def make_history():
    """Visitors post HISTORY through the comment form; the moderator files
    them with edit-comments.php's bulk actions."""
    post = SITE.first_post()
    by_status = {}
    for text, author, url, status in HISTORY:
        cid, r = SITE.post_comment(text, author=author, url=url, post_id=post)
        if cid is None:
            raise AssertionError("WordPress stored no comment for %r: %r" % (text, r))
        by_status.setdefault(status, []).append(cid)
    for status, action in (("spam", "spam"), ("0", "unapprove"), ("trash", "trash")):
        SITE.bulk_action(by_status[status], action)
    for status, cids in by_status.items():
        for cid in cids:
            if SITE.status(cid) != status:
                raise AssertionError("comment %d is %r, meant to be %r" % (cid, SITE.status(cid), status))
    HIST["by_status"] = by_status


def application_password():
    """Users > Profile > Application Passwords > "Add New", as its script
    does it: POST /wp-json/wp/v2/users/me/application-passwords with the
    admin's cookie and the REST nonce."""
    ua = SITE.admin_agent()
    nonce = ua.get("/wp-admin/admin-ajax.php?action=rest-nonce").text.strip()
    if not re.fullmatch(r"[0-9a-f]+", nonce):
        raise AssertionError("no REST nonce: %r" % nonce)
    r = ua.post("/wp-json/wp/v2/users/me/application-passwords", [("name", "thresh history")],
                headers={"X-WP-Nonce": nonce})
    if r.status != 201:
        raise AssertionError("creating an application password: %r %s" % (r, r.text[:500]))
    return r.json()["password"]


def truth():
    """(ham, spam, others): what the site holds, from MariaDB itself, of the
    comments the REST API lists (type comment)."""
    rows = SITE.sql("SELECT comment_approved, COUNT(*) FROM wp_comments "
                    "WHERE comment_type IN ('', 'comment') GROUP BY comment_approved")
    n = {status: int(count) for status, count in rows}
    return n.pop("1", 0), n.pop("spam", 0), n


def readme_block(start, end):
    """The lines of README.md's history section from the one that starts
    with `start` to the one that starts with `end`, as written."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    section = text[text.index("### Learning the site's history"):]
    lines = section.splitlines()
    i = next(k for k, l in enumerate(lines) if l.startswith(start))
    j = next(k for k in range(i, len(lines)) if lines[k].startswith(end))
    return "\n".join(lines[i:j + 1]) + "\n"


def sh(script, cwd, env=None):
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, capture_output=True,
                       text=True, timeout=120, env=env)
    if r.returncode:
        raise AssertionError("the script failed (%d):\n%s\n%s%s" % (r.returncode, script, r.stdout,
                                                                     r.stderr))
    return r.stdout


def thresh(*args, check=True):
    env = dict(os.environ, THRESH_MODEL=stack.THRESH_MODEL)
    env.pop(stack.INSIDE_ENV, None)
    r = subprocess.run([stack.THRESH] + list(args), capture_output=True, text=True, timeout=120,
                       env=env)
    if check and r.returncode:
        raise AssertionError("thresh %s: %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r


def learned(db):
    st = json.loads(thresh("--db", db, "stats", "--json").stdout)
    return st["ham_messages"], st["spam_messages"]


def save(name, text):
    with open(os.path.join(ARTIFACTS, name), "w", encoding="utf-8") as f:
        f.write(text)


# ---------------------------------------------------------------------------
class StackTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.sizes = S.log_sizes()
        self.work = S.path("history-%s" % self._testMethodName)
        os.makedirs(self.work, exist_ok=True)

    def tearDown(self):
        res = getattr(getattr(self, "_outcome", None), "result", None)
        if res is not None and any(t is self for t, _ in res.failures + res.errors):
            print("\n===== %s failed: logs written during the test =====\n%s"
                  % (self.id(), S.logs(since=self.sizes)), file=sys.stderr)

    def fresh_db(self, name):
        db = os.path.join(self.work, name)
        thresh("--db", db, "init", "--empty")
        return db

    def fetch_rest(self, per_page=4):
        """README's curl loop, run as written but for the site, the
        password and 4 comments a page (so that there are several)."""
        loop = readme_block("site=", "done")
        self.assertIn("per_page=100", loop)
        loop = loop.replace("per_page=100", "per_page=%d" % per_page)
        first, rest = loop.split("\n", 1)
        self.assertRegex(first, r"^site=https://blog\.example auth='admin:[^']+'$")
        script = "site=%s auth=%s\n%s" % (SITE.base, stack.quote("admin:" + HIST["app_password"]), rest)
        sh(script, self.work)
        pages = sorted(glob.glob(os.path.join(self.work, "*.json")))
        for p in pages:
            shutil.copy(p, os.path.join(ARTIFACTS, os.path.basename(p)))
        return pages


class Test01Rest(StackTest):
    def test_rest_pages_learn_the_sites_decisions(self):
        ham, spam, others = truth()
        self.assertEqual((ham, spam), (7, 4), "6 approved and WordPress's own comment; 4 spam")
        self.assertEqual(others, {"0": 2, "trash": 1})
        pages = self.fetch_rest()
        names = sorted(os.path.basename(p) for p in pages)
        self.assertEqual(names, ["approve-1.json", "approve-2.json", "spam-1.json"], names)
        with open(pages[0], encoding="utf-8") as f:
            page = json.load(f)
        self.assertIn("raw", page[0]["content"], "context=edit gives the raw text")
        self.assertIn("author_email", page[0])
        db = self.fresh_db("rest")
        r = thresh("--db", db, "train", "--wp-json", *pages)
        save("train-wp-json.txt", r.stdout + r.stderr)
        self.assertEqual(r.stdout, "trained 11 comments: 11 learned, 0 duplicates, 0 moved; "
                                   "0 bad rows skipped; 0 skipped by status\n", r.stderr)
        self.assertEqual(learned(db), (ham, spam))
        # again: all counted once
        r = thresh("--db", db, "train", "--wp-json", *pages)
        self.assertIn("0 learned, 11 duplicates", r.stdout)
        self.assertEqual(learned(db), (ham, spam))

    def test_an_error_page_learns_nothing(self):
        """Without a password WordPress answers context=edit with an error:
        curl -f stops the loop; saved anyway, thresh refuses it."""
        r = subprocess.run(["curl", "-sS", "-o", os.path.join(self.work, "page.json"),
                            SITE.base + "/wp-json/wp/v2/comments?context=edit&status=approve"],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        db = self.fresh_db("error")
        r = thresh("--db", db, "train", "--wp-json", os.path.join(self.work, "page.json"),
                   check=False)
        self.assertEqual(r.returncode, 3, r)
        self.assertIn("WordPress answered with an error, not comments: rest_forbidden_context",
                      r.stderr)
        self.assertEqual(learned(db), (0, 0))


class Test02Mariadb(StackTest):
    def mariadb(self, command):
        """A mariadb command of README's, on the stack's server and the
        site's database (the README names it wordpress)."""
        self.assertTrue(command.startswith("mariadb --batch "), command)
        command = command.replace("mariadb --batch ", "%s --no-defaults -S %s -u root --batch "
                                  % (stack.MARIADB, S.socket), 1)
        self.assertIn(" wordpress > comments.tsv", command)
        command = command.replace(" wordpress > comments.tsv", " %s > comments.tsv" % SITE.db)
        sh(command, self.work)
        out = os.path.join(self.work, "comments.tsv")
        shutil.copy(out, os.path.join(ARTIFACTS, "comments.tsv"))
        return out

    def test_the_query_learns_the_sites_decisions(self):
        ham, spam, _ = truth()
        rows = self.mariadb(readme_block("mariadb --batch", "  ORDER BY"))
        with open(rows, encoding="utf-8") as f:
            text = f.read()
        self.assertTrue(text.startswith("comment_approved\tcomment_author\t"), text[:200])
        self.assertIn("\\n", text, "the query's escapes: a comment of several lines")
        db = self.fresh_db("mariadb")
        r = thresh("--db", db, "train", "--wp-mariadb", rows)
        save("train-wp-mariadb.txt", r.stdout + r.stderr)
        self.assertEqual(r.stdout, "trained 11 comments: 11 learned, 0 duplicates, 0 moved; "
                                   "0 bad rows skipped; 0 skipped by status\n", r.stderr)
        self.assertEqual(learned(db), (ham, spam))
        # The REST API's pages are the same comments: every one a duplicate.
        pages = self.fetch_rest(per_page=100)
        r = thresh("--db", db, "train", "--wp-json", *pages)
        self.assertIn("trained 11 comments: 0 learned, 11 duplicates, 0 moved", r.stdout)

    def test_every_status_is_counted(self):
        """SELECT * of every comment: the held and the trashed are skipped
        and counted by status."""
        sh("%s --no-defaults -S %s -u root --batch --default-character-set=utf8mb4 -e "
           "'SELECT * FROM wp_comments' %s > all.tsv" % (stack.MARIADB, S.socket, SITE.db), self.work)
        db = self.fresh_db("all")
        r = thresh("--db", db, "train", "--wp-mariadb", os.path.join(self.work, "all.tsv"))
        self.assertEqual(r.stdout, "trained 11 comments: 11 learned, 0 duplicates, 0 moved; "
                                   "0 bad rows skipped; 3 skipped by status: 2 hold, 1 trash\n",
                         r.stderr)


class Test03Bulk(StackTest):
    """The same rows as JSON lines to a threshd of their own (a fresh
    database), then the shared threshd: history, then moderation through
    WordPress's Akismet plugin."""

    def start_threshd(self):
        db = self.fresh_db("bulk")
        keys = os.path.join(self.work, "keys")
        with open(keys, "w") as f:
            f.write(stack.AKISMET_KEY + "\n")
        os.chmod(keys, 0o600)
        p = stack.Proc("threshd-bulk", [stack.THRESHD, "--db", db, "--keys", keys, "--address",
                                        "127.0.0.1", "--port", str(BULK_PORT)],
                       os.path.join(self.work, "threshd.err"))
        self.addCleanup(p.stop)
        stack.wait_for(lambda: p.check_alive() and stack.port_open("127.0.0.1", BULK_PORT), 30,
                       "the bulk test's threshd")
        return db

    def batches(self, pages):
        """JSON lines from the saved REST pages: threshd(8)'s jq line when jq
        is here (run as written), else the same mapping in Python."""
        jq = shutil.which("jq")
        if jq:
            with open(THRESHD_MAN, encoding="utf-8") as f:
                man = f.read()
            block = man[man.index("# a WordPress site's history"):]
            block = block[:block.index("\ndone\n") + 6]
            text = (block.replace("\\-", "-").replace("\\(aq", "'").replace("\\e", "\\"))
            jq_part = text[text.index("jq "):text.index("| split")]
            return subprocess.run(["bash", "-c", jq_part], cwd=self.work, capture_output=True,
                                  text=True, check=True, timeout=60).stdout
        out = []
        for p in pages:
            with open(p, encoding="utf-8") as f:
                page = json.load(f)
            for c in page:
                out.append(json.dumps({
                    "label": "spam" if c["status"] == "spam" else "ham",
                    "content": c["content"]["raw"], "author": c["author_name"],
                    "email": c["author_email"], "url": c["author_url"], "ip": c["author_ip"],
                    "user_agent": c["author_user_agent"], "type": c["type"]}))
        return "\n".join(out) + "\n"

    def bulk(self, body, port=BULK_PORT):
        r = subprocess.run(["curl", "-sS", "-H", "Authorization: Bearer " + stack.AKISMET_KEY,
                            "-H", "Content-Type: application/x-ndjson", "--data-binary", "@-",
                            "http://127.0.0.1:%d/v1/learn/bulk?form=wordpress" % port],
                           input=body, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_bulk_learns_the_sites_decisions(self):
        ham, spam, _ = truth()
        self.start_threshd()
        pages = self.fetch_rest(per_page=100)
        body = self.batches(pages)
        save("bulk.jsonl", body)
        j = self.bulk(body)
        save("bulk-answer.json", json.dumps(j))
        self.assertEqual(j, {"lines": 11, "learned": 11, "duplicates": 0, "moved": 0, "skipped": 0,
                             "errors": [], "errors_omitted": 0})
        r = subprocess.run(["curl", "-sS", "-H", "Authorization: Bearer " + stack.AKISMET_KEY,
                            "http://127.0.0.1:%d/v1/stats" % BULK_PORT],
                           capture_output=True, text=True, timeout=60)
        st = json.loads(r.stdout)
        self.assertEqual((st["ham_messages"], st["spam_messages"]), (ham, spam))

    def test_moderation_after_the_switch_counts_once(self):
        """The site switches to threshd through Akismet, learns its history
        (thresh train on threshd's database, as README says), and a moderator
        marks an approved history comment Spam and a spam one Not Spam:
        WordPress's Akismet plugin reports them, and threshd moves them."""
        SITE.activate_plugin("akismet")
        SITE.sql("DELETE FROM wp_options WHERE option_name = 'wordpress_api_key'; "
                 "INSERT INTO wp_options (option_name, option_value, autoload) "
                 "VALUES ('wordpress_api_key', %s, 'yes')" % stack.quote(stack.AKISMET_KEY))
        pages = self.fetch_rest(per_page=100)
        st0 = S.threshd_stats()
        r = thresh("--db", S.threshd_db, "train", "--wp-json", *pages)
        # WordPress's own first comment is the same on every site: the
        # shared threshd may know it already (test_akismet's Spam and Not Spam)
        m = re.match(r"trained 11 comments: (\d+) learned, (\d+) duplicates, (\d+) moved;", r.stdout)
        self.assertTrue(m, r.stdout)
        new, dup, moved = (int(x) for x in m.groups())
        self.assertLessEqual(dup + moved, 1, r.stdout)
        st1 = S.threshd_stats()
        self.assertEqual(st1["learned"] - st0["learned"], new)
        # known as ham: a duplicate; known as spam: moved to ham
        self.assertEqual((st1["ham_messages"] - st0["ham_messages"],
                          st1["spam_messages"] - st0["spam_messages"]), (7 - dup, 4 - moved))
        # the bulk endpoint with the same rows: all duplicates
        j = self.bulk(self.batches(pages), port=80)
        self.assertEqual((j["learned"], j["duplicates"]), (0, 11), j)
        # the moderator: Spam on the comment with "&", "<3" and quotes, Not
        # Spam on the one with "&amp;" typed
        amp = HIST["by_status"]["1"][0]
        pills = HIST["by_status"]["spam"][0]
        self.assertIn("&amp;", SITE.comment(amp)[2], "WordPress stored the text kses-filtered")
        counts = lambda st: (st["ham_messages"], st["spam_messages"], st["learned"])

        def reported(path, since):
            stack.wait_for(lambda: any(re.search(r"POST %s 200 " % re.escape(path), line)
                                       for line in S.threshd_requests()[since:]),
                           10, "threshd's log to show %s" % path)

        n = len(S.threshd_requests())
        SITE.click(amp, "spamcomment")
        self.assertEqual(SITE.status(amp), "spam")
        reported("/1.1/submit-spam", n)
        st2 = S.threshd_stats()
        self.assertEqual(counts(st2), (st1["ham_messages"] - 1, st1["spam_messages"] + 1,
                                       st1["learned"]), "Spam moved the history's ham")
        n = len(S.threshd_requests())
        SITE.click(pills, "unspamcomment", view="spam")
        self.assertIn(SITE.status(pills), ("0", "1"))
        reported("/1.1/submit-ham", n)
        self.assertEqual(counts(S.threshd_stats()), (
            st2["ham_messages"] + 1, st2["spam_messages"] - 1, st2["learned"]),
            "Not Spam moved the history's spam")


if __name__ == "__main__":
    stack.enter_namespaces()
    unittest.main(verbosity=2)
