#!/usr/bin/env python3
"""A cluster on this machine: one real redis-server and four real threshd
nodes, each on its own copy of one seeded database, as a site behind a load
balancer would run them (README, "Running on several machines").

    THRESH_BIN=build/src/cli/thresh THRESHD_BIN=build/src/daemon/threshd \\
        THRESH_LIB=build/src/lib/libthresh.so python3 tests/cluster/test_cluster.py [-v]

Every test starts its own redis-server (a unix socket in a temporary folder,
append-only on, no port) and its own nodes on free loopback ports (--port 0),
and ends them. Redis is killed with SIGKILL and restarted on the same folder
or an empty one; nodes are killed with SIGKILL mid-training; a fake "Redis"
that accepts connections and never answers stands in for a hung one. Nothing
talks to anything but this machine. Python's standard library only, and
Debian's redis-server and redis-cli.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from fixtures import comments  # noqa: E402  (tests/fixtures.py)

THRESH = os.environ.get("THRESH_BIN", "")
THRESHD = os.environ.get("THRESHD_BIN", "")
LIB = os.environ.get("THRESH_LIB", "")
SCAN = os.environ.get("THRESH_SCAN", "")
PLUGIN = os.path.join(HERE, "..", "..", "plugin", "python")
REDIS = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")

KEY = "clusterkey-0123456789"
TIMEOUT_MS = 50          # [cluster] timeout: a check waits for Redis at most this long
RATE, PERIOD, BURST = 5, 60, 3
IP_RATE, IP_PERIOD, IP_BURST = 20, 60, 7
LISTEN_RE = re.compile(r"listening on 127\.0\.0\.1:(\d+)")
SPAM_WORDS = ["cheap", "pills", "casino", "viagra", "lottery", "winner", "prize", "bitcoin",
              "jackpot", "discount"]
HAM_WORDS = ["lovely", "article", "thanks", "recipe", "garden", "kitten", "weather", "poetry",
             "museum", "violin"]

TEMPLATE = None


def setUpModule():
    global TEMPLATE
    if not (THRESH and THRESHD):
        raise unittest.SkipTest("set THRESH_BIN and THRESHD_BIN")
    if not REDIS:
        raise unittest.SkipTest("redis-server is not installed (scripts/deps.sh installs it)")
    TEMPLATE = tempfile.mkdtemp(prefix="cluster-template-")
    tsv = os.path.join(TEMPLATE, "train.tsv")
    with open(tsv, "w") as f:
        for t in comments(SPAM_WORDS, 40, 1):
            f.write("spam\t" + t + "\n")
        for t in comments(HAM_WORDS, 40, 2):
            f.write("ham\t" + t + "\n")
    db = os.path.join(TEMPLATE, "db")
    env = dict(os.environ, THRESH_MODEL=os.path.join(TEMPLATE, "none.dump"))
    for args in (["init", "--empty"], ["train", "--tsv", tsv]):
        subprocess.run([THRESH, "--db", db] + args, check=True, env=env, timeout=60,
                       stdout=subprocess.DEVNULL)
    with open(os.path.join(TEMPLATE, "keys"), "w") as f:
        f.write(KEY + "\n")
    os.chmod(os.path.join(TEMPLATE, "keys"), 0o600)


def tearDownModule():
    if TEMPLATE:
        shutil.rmtree(TEMPLATE, ignore_errors=True)


def wait_for(pred, timeout, what, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))


def p99(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.99 * (len(xs) - 1))))] if xs else 0.0


class Redis:
    """One redis-server on a unix socket in its own folder, append-only on."""

    def __init__(self, folder):
        self.dir = folder
        os.makedirs(folder, exist_ok=True)
        self.sock = os.path.join(folder, "redis.sock")
        self.proc = None

    @property
    def addr(self):
        return "unix:" + self.sock

    def start(self):
        log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = subprocess.Popen(
            [REDIS, "--port", "0", "--unixsocket", self.sock, "--unixsocketperm", "700",
             "--dir", self.dir, "--appendonly", "yes", "--save", "", "--daemonize", "no"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        wait_for(lambda: self.ping(), 10, "redis-server to answer")
        return self

    def ping(self):
        try:
            return self.cli("PING").strip() == "PONG"
        except Exception:  # noqa: BLE001 - not up yet
            return False

    def cli(self, *args):
        if not REDIS_CLI:
            raise unittest.SkipTest("redis-cli is not installed")
        return subprocess.run([REDIS_CLI, "-s", self.sock] + list(args), capture_output=True,
                              text=True, timeout=10, check=True).stdout

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def wipe(self):
        """Its files gone: it comes back empty."""
        for name in os.listdir(self.dir):
            if name != "redis.log":
                p = os.path.join(self.dir, name)
                shutil.rmtree(p) if os.path.isdir(p) else os.unlink(p)

    def command(self, *args):
        """One command over RESP, its reply as bytes, ints and lists (binary-safe,
        which redis-cli's output is not)."""
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(self.sock)
            s.sendall(b"*%d\r\n" % len(args) + b"".join(
                b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() if isinstance(x, str) else x
                                                             for x in args)))
            f = s.makefile("rb")

            def read():
                line = f.readline()
                kind, rest = line[:1], line[1:-2]
                if kind == b"$":
                    return None if int(rest) < 0 else f.read(int(rest) + 2)[:-2]
                if kind == b"*":
                    return None if int(rest) < 0 else [read() for _ in range(int(rest))]
                if kind == b":":
                    return int(rest)
                if kind == b"-":
                    raise AssertionError(rest.decode())
                return rest
            return read()

    def aof_bytes(self):
        out = b""
        for root, _, files in os.walk(self.dir):
            for name in files:
                if name != "redis.log" and not name.endswith(".sock"):
                    with open(os.path.join(root, name), "rb") as f:
                        out += f.read()
        return out


class Node:
    """One threshd on a copy of the template, a node of the cluster."""

    def __init__(self, tmp, name, redis_addr, conf_extra="", db=None, args=(),
                 timeout_ms=TIMEOUT_MS):
        self.name = name
        self.db = db or os.path.join(tmp, "node-" + name)
        if not db:
            shutil.copytree(os.path.join(TEMPLATE, "db"), self.db)
        with open(os.path.join(self.db, "thresh.conf"), "w") as f:
            f.write("rate_limit = %d\nrate_period = %d\nrate_burst = %d\n"
                    "ip_rate_limit = %d\nip_rate_period = %d\nip_rate_burst = %d\n"
                    "first_comment = off\n"
                    "\n[cluster]\nredis = %s\nnamespace = t\nnodes = 4\ntimeout = %d\n%s"
                    % (RATE, PERIOD, BURST, IP_RATE, IP_PERIOD, IP_BURST, redis_addr, timeout_ms,
                       conf_extra))
        self.err = os.path.join(tmp, "threshd-%s.err" % name)
        self.args = list(args)
        self.proc = None
        self.port = None

    def start(self):
        with open(self.err, "ab") as err:
            self.proc = subprocess.Popen(
                [THRESHD, "--db", self.db, "--port", "0", "--threads", "2", "--keys",
                 os.path.join(TEMPLATE, "keys"), "--node", self.name] + self.args,
                stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
        self.port = int(wait_for(lambda: self._port(), 20, "threshd %s to listen" % self.name))
        return self

    def _port(self):
        if self.proc.poll() is not None:
            raise AssertionError("threshd %s exited: %s" % (self.name, self.stderr()))
        m = list(LISTEN_RE.finditer(self.stderr()))
        return m[-1].group(1) if m and len(m) > self.starts() else None

    def starts(self):
        return getattr(self, "_starts", 0)

    def stderr(self):
        with open(self.err, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def kill(self):
        self._starts = len(LISTEN_RE.findall(self.stderr()))
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise AssertionError("threshd %s did not stop" % self.name)

    def request(self, method, path, body=None, timeout=10):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            hdr = {"Authorization": "Bearer " + KEY}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                hdr["Content-Type"] = "application/json"
            c.request(method, path, data, hdr)
            r = c.getresponse()
            out = r.read()
            return r.status, (json.loads(out) if out[:1] in (b"{", b"[") else out.decode())
        finally:
            c.close()

    def check(self, **fields):
        status, body = self.request("POST", "/v1/check", fields)
        assert status == 200, (status, body)
        return body

    def learn(self, label, **fields):
        status, body = self.request("POST", "/v1/learn", dict(fields, label=label))
        assert status == 200, (status, body)
        return body

    def stats(self):
        status, body = self.request("GET", "/v1/stats")
        assert status == 200, (status, body)
        return body

    def metrics(self):
        status, body = self.request("GET", "/metrics")
        assert status == 200, status
        return body


def export(db, path):
    subprocess.run([THRESH, "--db", db, "export", path], check=True, timeout=60,
                   stdout=subprocess.DEVNULL)
    with open(path, "rb") as f:
        return f.read()


class ClusterTest(unittest.TestCase):
    NODES = ("a", "b", "c", "d")
    CONF_EXTRA = ""
    REDIS_TIMEOUT_MS = TIMEOUT_MS

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cluster-test-")
        self.redis = Redis(os.path.join(self.tmp, "redis")).start()
        self.nodes = [Node(self.tmp, n, self.redis.addr, self.CONF_EXTRA,
                           timeout_ms=self.REDIS_TIMEOUT_MS) for n in self.NODES]
        for n in self.nodes:
            n.start()

    def tearDown(self):
        problems = []
        for n in self.nodes:
            try:
                n.stop()
            except AssertionError as e:
                problems.append(str(e))
            if "runtime error:" in n.stderr() or "Sanitizer" in n.stderr():
                problems.append(n.stderr())
        self.redis.kill()
        if problems:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.fail("\n".join(problems))
        shutil.rmtree(self.tmp, ignore_errors=True)

    def converge(self, timeout=30):
        """Every node's outbox empty and the same sequence, the log's head."""
        def done():
            st = [n.stats().get("cluster") for n in self.nodes]
            if not all(s and s["redis_up"] for s in st):
                return False
            seqs = {s["seq"] for s in st}
            return (all(s["outbox"] == 0 and s["lag_events"] == 0 for s in st)
                    and len(seqs) == 1) and st
        return wait_for(done, timeout, "the nodes to converge", step=0.1)

    def exports(self):
        return [export(n.db, os.path.join(self.tmp, "%s.dump" % n.name)) for n in self.nodes]

    def assert_identical(self):
        ex = self.exports()
        for n, e in zip(self.nodes[1:], ex[1:]):
            self.assertEqual(e, ex[0], "node %s's export differs from node %s's"
                             % (n.name, self.nodes[0].name))
        return ex[0]

    def messages(self):
        st = self.nodes[0].stats()
        return st["spam_messages"], st["ham_messages"]


class RateLimitTest(ClusterTest):
    # These tests count what the shared limit lets through, not how long a
    # check waits: a Redis call slower than 50 ms on a loaded machine made a
    # node judge alone (rate_local) and let one or two more through. The
    # timeout's own bound is HungRedisTest's and FaultTest's.
    REDIS_TIMEOUT_MS = 1000

    def warm(self):
        """Every node past the cluster's start (the new epoch, its snapshot)
        and once connected to Redis, so that a flood measures the shared
        rate, not a node's first moments: under a sanitizer on a loaded
        machine those took longer than the 50 ms timeout now and then, and
        the node then judged alone (rate_local) while it backed off."""
        self.converge()
        for n in self.nodes:
            n.check(content="warm up", email="warm-%s@example.org" % n.name)

    def test_one_author_over_four_nodes_gets_the_burst_once(self):
        """40 comments of one author, round-robin over the four nodes at one
        instant (concurrently): exactly `burst` pass."""
        self.warm()
        results = [None] * 40

        def post(i):
            results[i] = self.nodes[i % 4].check(content="hello there number %d" % i,
                                                 email="flood@example.org")
        threads = [threading.Thread(target=post, args=(i,)) for i in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        passed = [r for r in results if "rate_limited" not in r["reasons"]]
        self.assertEqual(len(passed), BURST, results)
        self.assertFalse(any("rate_local" in r["reasons"] for r in results), results)
        limited = [r for r in results if "rate_limited" in r["reasons"]]
        self.assertTrue(all(r["retry_after"] > 0 for r in limited))

    def test_rotating_e_mails_from_one_ip_over_four_nodes_get_the_ip_burst_once(self):
        """40 comments from one IP, each with an e-mail of its own (issue 18:
        with an e-mail the IP never counted), round-robin over the four nodes
        at one instant: exactly the address's burst pass, and the others say
        why (rate_ip) and how long to wait. A NAT's few authors under the
        address's budget all pass, from any node."""
        self.warm()
        results = [None] * 40

        def post(i):
            results[i] = self.nodes[i % 4].check(content="hello there number %d" % i,
                                                 email="flood%d@example.org" % i,
                                                 ip="198.51.100.7")
        threads = [threading.Thread(target=post, args=(i,)) for i in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        passed = [r for r in results if "rate_limited" not in r["reasons"]]
        self.assertEqual(len(passed), IP_BURST, results)
        self.assertFalse(any("rate_local" in r["reasons"] for r in results), results)
        limited = [r for r in results if "rate_limited" in r["reasons"]]
        self.assertTrue(all("rate_ip" in r["reasons"] and r["retry_after"] > 0 for r in limited),
                        limited)
        # behind another address: 3 people, 2 comments each, over the nodes
        for i in range(6):
            r = self.nodes[i % 4].check(content="a reply %d" % i,
                                        email="person%d@example.org" % (i % 3),
                                        ip="2001:db8:7:7::%x" % (i + 1))
            self.assertNotIn("rate_limited", r["reasons"], (i, r))

    def test_six_library_processes_get_the_burst_once(self):
        """The same with 6 processes loading libthresh directly (the Python
        plugin), two of them on each of three node folders: exactly `burst`."""
        if not LIB:
            self.skipTest("THRESH_LIB is not set")
        if os.environ.get("THRESH_SANITIZE"):
            # an instrumented library cannot load into an uninstrumented
            # python3 (tests/robust/sanitize.sh); the normal run covers it
            self.skipTest("a sanitizer build")
        script = (
            "import sys, time; sys.path.insert(0, %r)\n"
            "import thresh\n"
            "db = thresh.Database(sys.argv[1], library=%r)\n"
            "db.check(content='warm up', email='w%%s@example.org' %% sys.argv[2])\n"
            "while time.time() < float(sys.argv[3]): time.sleep(0.001)\n"
            "n = 0\n"
            "for i in range(10):\n"
            "    r = db.check(content='p%%s c%%d' %% (sys.argv[2], i), email='six@example.org')\n"
            "    n += 'rate_limited' not in r.reasons\n"
            "    assert 'rate_local' not in r.reasons, r.reasons\n"
            "print(n)\n" % (os.path.abspath(PLUGIN), LIB))
        go = time.time() + 1.5
        procs = [subprocess.Popen([sys.executable, "-c", script, self.nodes[i % 3].db, str(i),
                                   str(go)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for i in range(6)]
        total = 0
        for p in procs:
            out, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, err)
            total += int(out.strip())
        self.assertEqual(total, BURST)

    # A comment's own time as the clock is tested in tests/unit/test_cluster.c
    # (the command's checks are read-only, the JSON API takes no time).


class LogTest(ClusterTest):
    def test_a_learn_reaches_every_node(self):
        """Learn on node A: B, C and D score it as learned within 2 s; the
        lag's p99 over 20 learns is printed."""
        lags = []
        for i in range(20):
            text = "unheard words %d zorp quib flarn %d" % (i, i * 13)
            t0 = time.monotonic()
            self.nodes[i % 4].learn("spam", content=text, email="m%d@example.org" % i)
            for n in self.nodes:
                wait_for(lambda: "learned_spam" in n.check(content=text,
                                                           email="m%d@example.org" % i,
                                                           dry_run=True)["reasons"],
                         2, "node %s to have learned %r" % (n.name, text), step=0.005)
            lags.append(time.monotonic() - t0)
        print("\nlearn -> every node: p50 %.3f s, p99 %.3f s" % (sorted(lags)[len(lags) // 2],
                                                               p99(lags)), file=sys.stderr)
        self.assertLess(p99(lags), 2.0)
        self.converge()
        self.assert_identical()
        m = self.nodes[2].metrics()
        self.assertRegex(m, r"threshd_cluster_redis_up 1")
        self.assertRegex(m, r"threshd_cluster_outbox 0")
        self.assertRegex(m, r"threshd_cluster_lag_events 0")

    def test_the_same_comments_spam_on_a_ham_on_b(self):
        """100 comments learned as spam on A and as ham on B at the same time:
        all four exports identical afterwards, and each comment counted once."""
        texts = comments(SPAM_WORDS + HAM_WORDS, 100, 7)
        before = self.messages()

        def teach(node, label):
            for t in texts:
                node.learn(label, content=t, email="same@example.org")
        ts = [threading.Thread(target=teach, args=(self.nodes[0], "spam")),
              threading.Thread(target=teach, args=(self.nodes[1], "ham"))]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        self.converge()
        self.assert_identical()
        spam, ham = self.messages()
        self.assertEqual(spam + ham, before[0] + before[1] + 100)

    def test_replicate_command_for_library_hosts(self):
        """A node without threshd: the command learns into its folder and
        `thresh replicate` publishes it; the threshd nodes apply it."""
        lib = Node(self.tmp, "e", self.redis.addr)
        text = "sidecar learned words blorp snee"
        subprocess.run([THRESH, "--db", lib.db, "train", "spam"], input=text.encode(),
                       check=True, timeout=60, stdout=subprocess.DEVNULL)
        p = subprocess.Popen([THRESH, "--db", lib.db, "replicate", "--node", "e"],
                             stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: "learned_spam" in self.nodes[3].check(content=text, dry_run=True)
                     ["reasons"], 10, "node d to apply e's learn")
        finally:
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=20)
        self.assertEqual(p.returncode, 0, err)
        r = subprocess.run([THRESH, "--db", lib.db, "replicate", "--drain"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.converge()
        ex = self.assert_identical()
        self.assertEqual(export(lib.db, os.path.join(self.tmp, "e.dump")), ex)


class FaultTest(ClusterTest):
    def load(self, stop, lat, local):
        i = 0
        while not stop.is_set():
            n = self.nodes[i % 4]
            t0 = time.monotonic()
            r = n.check(content="load %d" % i, email="load%d@example.org" % (i % 50))
            lat.append((time.monotonic() - t0, time.monotonic()))
            local.append("rate_local" in r["reasons"])
            i += 1
            time.sleep(0.005)

    def train(self, texts, label="spam"):
        for i, t in enumerate(texts):
            self.nodes[i % 4].learn(label, content=t, email="t%d@example.org" % (i % 7))

    def outage(self, wipe):
        stop, lat, local = threading.Event(), [], []
        th = threading.Thread(target=self.load, args=(stop, lat, local))
        th.start()
        try:
            before = sum(self.messages())
            self.train(comments(SPAM_WORDS, 30, 11 + wipe))
            self.redis.kill()
            t_kill = time.monotonic()
            self.train(comments(HAM_WORDS + SPAM_WORDS, 30, 21 + wipe), "ham")
            time.sleep(0.5)
            t_back = time.monotonic()
            if wipe:
                self.redis.wipe()
            self.redis.start()
            self.train(comments(HAM_WORDS, 20, 31 + wipe), "ham")
        finally:
            stop.set()
            th.join(30)
        during = [d for d, t in lat if t_kill + 0.05 < t < t_back]
        self.assertTrue(during, "no check ran during the outage")
        print("\nchecks during the outage: %d, p99 %.1f ms, max %.1f ms"
              % (len(during), 1000 * p99(during), 1000 * max(during)), file=sys.stderr)
        # the check waits TIMEOUT_MS at most; the rest is HTTP on a busy machine
        self.assertLess(p99(during), TIMEOUT_MS / 1000 + 0.15)
        self.assertTrue(any(local), "no check said rate_local during the outage")
        self.converge(60)
        self.assert_identical()
        self.assertEqual(sum(self.messages()), before + 80)

    def test_redis_killed_and_restarted_on_its_folder(self):
        self.outage(wipe=False)

    def test_redis_restarted_empty(self):
        self.outage(wipe=True)

    def test_redis_back_with_less_of_the_log_than_nodes_applied(self):
        """Redis restarted from an older append-only file: its sequence is
        behind what the nodes applied. They start a new epoch instead of
        taking new events for ones they applied; nothing lost or doubled."""
        before = sum(self.messages())
        self.train(comments(SPAM_WORDS, 20, 61))
        self.converge()
        head = int(self.redis.cli("GET", "t:seq"))
        epoch = self.redis.cli("GET", "t:epoch").strip()
        self.redis.cli("SET", "t:seq", str(head - 5))  # as if the last 5 were lost
        wait_for(lambda: self.redis.cli("GET", "t:epoch").strip() not in ("", epoch), 20,
                 "a new epoch")
        self.train(comments(HAM_WORDS, 20, 62), "ham")
        self.converge(60)
        self.assert_identical()
        self.assertEqual(sum(self.messages()), before + 40)
        self.assertTrue(any("Redis lost data" in n.stderr() for n in self.nodes))

    def test_a_node_killed_mid_training_catches_up(self):
        b = self.nodes[1]
        before = sum(self.messages())
        texts = comments(SPAM_WORDS + HAM_WORDS, 120, 41)
        t = threading.Thread(target=lambda: [self.nodes[0].learn("spam", content=x)
                                             for x in texts])
        t.start()
        time.sleep(0.3)
        b.kill()
        t.join(120)
        b.start()
        self.converge(60)
        self.assert_identical()
        self.assertEqual(sum(self.messages()), before + 120)


class TrimmedLogTest(ClusterTest):
    CONF_EXTRA = "stream_max = 100\nsnapshot_every = 20\nbatch = 50\n"

    def test_a_node_away_while_the_log_was_trimmed_resyncs(self):
        b = self.nodes[1]
        b.kill()
        before = sum(self.messages())
        texts = comments(SPAM_WORDS + HAM_WORDS, 400, 51)
        for i, x in enumerate(texts):
            self.nodes[0 if i % 2 else 2].learn("spam" if i % 3 else "ham", content=x)
        wait_for(lambda: int(self.redis.cli("XLEN", "t:log")) < 300, 20, "the log to be trimmed")
        b.start()
        wait_for(lambda: re.search(r"resynced from the snapshot at sequence [1-9]", b.stderr()), 30,
                 "node b to resync from a snapshot past the start")
        self.converge(60)
        self.assert_identical()
        self.assertEqual(sum(self.messages()), before + 400)


class HungRedisTest(unittest.TestCase):
    """A Redis address that accepts connections and never answers."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cluster-hung-")
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(64)
        self.accepted = []
        self.stop = threading.Event()
        threading.Thread(target=self.accept, daemon=True).start()
        self.node = Node(self.tmp, "h", "127.0.0.1:%d" % self.srv.getsockname()[1]).start()

    def accept(self):
        self.srv.settimeout(0.1)
        while not self.stop.is_set():
            try:
                c, _ = self.srv.accept()
                self.accepted.append(c)  # kept open, never answered
            except OSError:
                pass

    def tearDown(self):
        self.node.stop()
        self.stop.set()
        for c in self.accepted:
            c.close()
        self.srv.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_every_check_returns_within_the_timeout(self):
        lat = []
        end = time.monotonic() + 3
        i = 0
        while time.monotonic() < end:
            t0 = time.monotonic()
            r = self.node.check(content="hung %d" % i, email="h%d@example.org" % (i % 5))
            lat.append(time.monotonic() - t0)
            self.assertIn("rate_local", r["reasons"])
            i += 1
            time.sleep(0.01)
        print("\nchecks against a hung Redis: %d, p99 %.1f ms, max %.1f ms, %d connections"
              % (len(lat), 1000 * p99(lat), 1000 * max(lat), len(self.accepted)), file=sys.stderr)
        self.assertGreaterEqual(len(self.accepted), 3, "it should have reconnected")
        self.assertLess(p99(lat), TIMEOUT_MS / 1000 + 0.15)


class JoinTest(unittest.TestCase):
    def test_another_model_refuses_to_join(self):
        tmp = tempfile.mkdtemp(prefix="cluster-join-")
        try:
            redis = Redis(os.path.join(tmp, "redis")).start()
            a = Node(tmp, "a", redis.addr).start()
            other = os.path.join(tmp, "other")
            subprocess.run([THRESH, "--db", other, "init", "--empty"], check=True, timeout=60,
                           stdout=subprocess.DEVNULL,
                           env=dict(os.environ, THRESH_MODEL=os.path.join(tmp, "none")))
            x = Node(tmp, "x", redis.addr, db=other).start()
            try:
                wait_for(lambda: "refusing to join" in x.stderr(), 10, "x to refuse")
                self.assertIn("model key or identity secret differs", x.stderr())
                r = x.check(content="hello", email="j@example.org")
                self.assertIn("rate_local", r["reasons"])
                r = a.check(content="hello", email="j@example.org")
                self.assertNotIn("rate_local", r["reasons"])
            finally:
                a.stop()
                x.stop()
                redis.kill()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def default_model_db(tmp):
    """A database made from the default model (a snapshot of about 3.4 MB:
    four chunks to upload), or None when this build has no default model."""
    db = os.path.join(tmp, "default-db")
    env = dict(os.environ)
    env.pop("THRESH_MODEL", None)
    r = subprocess.run([THRESH, "--db", db, "init"], env=env, timeout=60, capture_output=True)
    return db if r.returncode == 0 else None


class StallingProxy:
    """A unix socket in front of Redis's that forwards each connection until
    it has passed `limit` bytes towards Redis, then forwards nothing more
    that way: a node caught mid-upload (the command cut in two never runs),
    as a node killed or frozen halfway through would leave it."""

    def __init__(self, folder, target, limit):
        self.sock = os.path.join(folder, "proxy.sock")
        self.target, self.limit = target, limit
        self.srv = socket.socket(socket.AF_UNIX)
        self.srv.bind(self.sock)
        self.srv.listen(16)
        self.conns = []
        self.stalled, self.closed = threading.Event(), threading.Event()
        threading.Thread(target=self.accept, daemon=True).start()

    @property
    def addr(self):
        return "unix:" + self.sock

    def accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            up = socket.socket(socket.AF_UNIX)
            up.connect(self.target)
            self.conns += [c, up]
            threading.Thread(target=self.pump, args=(c, up, self.limit), daemon=True).start()
            threading.Thread(target=self.pump, args=(up, c, None), daemon=True).start()

    def pump(self, src, dst, limit):
        sent = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if limit is not None and sent + len(data) > limit:
                    dst.sendall(data[:limit - sent])
                    self.stalled.set()
                    self.closed.wait()  # the rest never reaches Redis
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.closed.set()
        self.srv.close()
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()


class StartTest(unittest.TestCase):
    """Nodes meeting an empty Redis: exactly one makes the epoch and uploads
    its snapshot; the temporary key of an upload lives only while uploading
    (issue 18: the node that lost the race took the lock right after the
    winner committed, uploaded a second snapshot it never committed, and left
    NS:snap:tmp:NODE, 3.4 MB without an expiry, in Redis for good)."""

    UPLOAD_TIMEOUT_MS = 1500

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cluster-start-")
        self.seed = default_model_db(self.tmp)
        if not self.seed:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.skipTest("this build has no default model (-Ddefault_model=false)")
        self.nodes, self.redis = [], None

    def tearDown(self):
        for n in self.nodes:
            if n.proc and n.proc.poll() is None:
                n.proc.kill()
                n.proc.wait(10)
        if self.redis:
            self.redis.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def node(self, name, addr, conf_extra=""):
        db = os.path.join(self.tmp, "%s-%d" % (name, len(self.nodes)))
        shutil.copytree(self.seed, db)
        n = Node(self.tmp, name, addr, conf_extra, db=db)
        n.err = os.path.join(self.tmp, "threshd-%s-%d.err" % (name, len(self.nodes)))
        self.nodes.append(n)
        return n

    def temp_keys(self):
        return self.redis.cli("--scan", "--pattern", "t:snap:tmp:*").split()

    def test_three_nodes_started_at_once_make_one_epoch(self):
        for attempt in range(4):
            self.redis = Redis(os.path.join(self.tmp, "redis-%d" % attempt)).start()
            nodes = [self.node(x, self.redis.addr) for x in "abc"]
            for n in nodes:  # all at once: each one's start is not waited for
                with open(n.err, "ab") as err:
                    n.proc = subprocess.Popen(
                        [THRESHD, "--db", n.db, "--port", "0", "--threads", "2", "--keys",
                         os.path.join(TEMPLATE, "keys"), "--node", n.name],
                        stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
            for n in nodes:
                n.port = int(wait_for(n._port, 20, "threshd %s to listen" % n.name))
            epoch = wait_for(lambda: self.redis.cli("GET", "t:epoch").strip(), 20, "an epoch")
            for n in nodes:
                wait_for(lambda: (n.stats().get("cluster") or {}).get("seq") == 0 and
                         re.search(r"began epoch|resynced from the snapshot", n.stderr()),
                         30, "node %s to follow the epoch" % n.name)
            # what a loser would do comes right after the winner's commit:
            # give it the time of a whole upload and more
            time.sleep(1.5)
            began = [n.name for n in nodes if "began epoch" in n.stderr()]
            self.assertEqual(len(began), 1, "attempt %d: %s began an epoch" % (attempt, began))
            self.assertEqual(self.redis.cli("GET", "t:epoch").strip(), epoch)
            self.assertEqual(self.temp_keys(), [], "attempt %d: a temporary key stayed" % attempt)
            self.assertEqual(self.redis.cli("EXISTS", "t:lock").strip(), "0")
            # one snapshot's bytes reached Redis, not two
            snap = int(self.redis.cli("STRLEN", "t:snap"))
            info = self.redis.cli("INFO", "stats")
            got = int(re.search(r"total_net_input_bytes:(\d+)", info).group(1))
            print("\nstart %d: %d bytes sent to Redis for a snapshot of %d"
                  % (attempt, got, snap), file=sys.stderr)
            self.assertGreater(snap, 3 << 20)
            self.assertLess(got, snap * 1.5, "attempt %d: %d bytes sent to Redis for a snapshot "
                            "of %d" % (attempt, got, snap))
            for n in nodes:
                r = n.check(content="hello there", email="start-%s@example.org" % n.name)
                self.assertNotIn("rate_local", r["reasons"], (n.name, r))
                n.stop()
            self.redis.kill()

    def test_a_node_killed_mid_upload_leaves_no_temporary_key(self):
        """A node that dies halfway through its upload (held there by a proxy
        that forwards 1.5 MiB, then nothing): its temporary key expires within
        upload_timeout."""
        self.redis = Redis(os.path.join(self.tmp, "redis")).start()
        proxy = StallingProxy(self.tmp, self.redis.sock, 3 << 19)
        try:
            a = self.node("a", proxy.addr, "upload_timeout = %d\n" % self.UPLOAD_TIMEOUT_MS)
            a.start()
            self.assertTrue(proxy.stalled.wait(20), "the upload never passed 1.5 MiB")
            wait_for(lambda: self.temp_keys(), 5, "the first chunk in Redis")
            a.kill()
        finally:
            proxy.close()
        ttl = int(self.redis.cli("PTTL", "t:snap:tmp:a"))
        self.assertTrue(0 < ttl <= self.UPLOAD_TIMEOUT_MS, "the temporary key's PTTL is %d" % ttl)
        wait_for(lambda: not self.temp_keys(), self.UPLOAD_TIMEOUT_MS / 1000 + 2,
                 "the temporary key to expire")
        self.assertEqual(self.redis.cli("EXISTS", "t:epoch").strip(), "0")
        # a node that comes next makes the epoch
        b = self.node("b", self.redis.addr).start()
        wait_for(lambda: "began epoch" in b.stderr(), 20, "b to begin an epoch")
        self.assertEqual(self.temp_keys(), [])
        b.stop()

    def test_a_refused_upload_is_cleaned_up(self):
        """Redis refuses the upload halfway (out of memory): the node deletes
        its temporary key and releases the lock, says why, and begins the
        epoch once Redis has room."""
        self.redis = Redis(os.path.join(self.tmp, "redis")).start()
        used = int(re.search(r"used_memory:(\d+)", self.redis.cli("INFO", "memory")).group(1))
        self.redis.cli("CONFIG", "SET", "maxmemory", str(used + (3 << 20)))
        a = self.node("a", self.redis.addr).start()
        wait_for(lambda: re.search(r"uploading a snapshot|did not answer", a.stderr()), 20,
                 "the upload to be refused")
        a.stop()  # after the round in progress, whose failure cleans up
        # refused halfway: a first chunk went in, a later one was refused
        self.assertRegex(self.redis.cli("INFO", "commandstats"),
                         r"cmdstat_append:.*rejected_calls=[1-9]")
        self.assertEqual(self.temp_keys(), [])
        self.assertEqual(self.redis.cli("EXISTS", "t:lock").strip(), "0")
        self.assertRegex(a.stderr(), r"uploading a snapshot: .*OOM")
        self.redis.cli("CONFIG", "SET", "maxmemory", "0")
        a.start()
        wait_for(lambda: "began epoch" in a.stderr(), 20, "a to begin the epoch")
        self.assertEqual(self.temp_keys(), [])
        self.assertEqual(int(self.redis.cli("PTTL", "t:snap")), -1, "the snapshot must not expire")
        a.stop()


def event_ids(e):
    """The token ids of an event (docs/cluster-format.md; version 1 or 2)."""
    assert e[:2] == b"TE", e[:3]
    version, flags, pos = e[2], e[5], 6 + 4 + 4 + 8
    pos += 16 * ((version == 1) + (version > 1 and bool(flags & 2)) +
                 (version > 1 and bool(flags & 4)) + bool(flags & 1))
    n = struct.unpack_from("<I", e, pos)[0]
    return list(struct.unpack_from("<%dQ" % n, e, pos + 4))


def snapshot_ids(b):
    """The token ids of a snapshot (version 1: 28 bytes a token, 2: 29;
    version 3: eight losses and the ring of decisions, docs/cluster-format.md)."""
    assert b[:2] == b"TS", b[:3]
    size = 28 if b[2] == 1 else 29
    losses, ring = (8, 12 + 1024 * (1 + 8 + 4 * 8)) if b[2] >= 3 else (7, 0)
    pos = 4 + b[3] + 8 + 8 + 8 + 4 + 64 + 8 * losses + ring
    nv = struct.unpack_from("<I", b, pos)[0]
    pos += 4
    for _ in range(nv):
        pos += 1 + b[pos] + 8
    ntok = struct.unpack_from("<Q", b, pos)[0]
    return [struct.unpack_from("<Q", b, pos + 8 + size * i)[0] for i in range(ntok)]


class PrivacyTest(ClusterTest):
    NODES = ("a", "b")
    CONF_EXTRA = "snapshot_every = 10\n"

    @unittest.skipUnless(SCAN, "set THRESH_SCAN (tests/robust/thresh-scan)")
    def test_the_log_confirms_no_identity_under_the_model_key(self):
        # issue 18: whoever reads the log of a cluster made from the default
        # model (whose key ships with thresh) could try every /24 against
        # each event's ids and confirm guessed names, sites and domains.
        people = [("Jane Q. Doe", "Jane.Doe@Example.org", "https://jane.example.net/blog",
                   "203.0.113.7"),
                  ("Rolf Ostrander", "rolf@ostrander.example", "http://www.ostrander.example/",
                   "2001:db8:77:1::5")]
        for i in range(12):
            name, email, url, ip = people[i % 2]
            self.nodes[i % 2].learn("spam" if i % 3 else "ham", author=name, email=email, url=url,
                                    ip=ip, content="quixotic marmalade number %d, write me at "
                                    "jane.private@mailbox.example" % i)
        self.converge()
        wait_for(lambda: self.redis.command("GET", "t:snap"), 20, "a snapshot")
        ids = set()
        for _, fields in self.redis.command("XRANGE", "t:log", "-", "+"):
            ids.update(event_ids(dict(zip(fields[::2], fields[1::2]))[b"e"]))
        events = len(ids)
        ids.update(snapshot_ids(self.redis.command("GET", "t:snap")))
        self.assertGreater(events, 100)
        self.assertGreater(len(ids), events)
        key = re.search(rb"^key ([0-9a-f]{32})$", export(self.nodes[0].db, os.path.join(
            self.tmp, "a.dump")), re.M).group(1).decode()
        guesses = ["author:jane q. doe", "author-word:jane", "author-word:ostrander",
                   "email-domain:example.org", "email-domain:ostrander.example",
                   "url-host:jane.example.net", "url-domain:example.net",
                   "url-host:www.ostrander.example", "ip48:2001:db8:77",
                   "email:jane.private@mailbox.example", "quixotic"]
        out = subprocess.run([SCAN, key] + guesses, input="".join("%016x\n" % i for i in ids),
                             capture_output=True, text=True, timeout=300, check=True).stdout
        # the text's own words are the model's, as any word: found; nothing else
        self.assertEqual(out.split("\n"), ["quixotic", ""], out)

    def test_no_raw_identity_or_text_reaches_redis(self):
        people = [("Ann Example", "ann.private@example.org", "203.0.113.77"),
                  ("Bob Sample", "bob+tag@mail.example.net", "2001:db8:77::5")]
        texts = ["my secret phrase quixotic marmalade", "another private sentence zanzibar"]
        for (name, email, ip), text in zip(people, texts):
            for n in self.nodes:
                n.check(content=text, author=name, email=email, ip=ip)
            self.nodes[0].learn("spam", content=text, author=name, email=email, ip=ip)
            self.nodes[1].learn("ham", content=text + " x", author=name, ip=ip)
        self.converge()
        self.redis.cli("BGREWRITEAOF")
        time.sleep(0.5)
        data = self.redis.aof_bytes()
        self.assertGreater(len(data), 1000)
        needles = []
        for name, email, ip in people:
            needles += [name, email, email.split("@")[0], ip]
        for t in texts:
            # whole texts and their longer words (a short one occurs in any
            # binary by chance)
            needles += [t] + [w for w in t.split() if len(w) >= 6]
        for s in needles:
            for v in {s, s.lower(), s.upper()}:
                self.assertNotIn(v.encode(), data, "%r reached Redis" % v)
                self.assertNotIn(v.encode("utf-16-le"), data, "%r reached Redis" % v)
        self.assertNotIn(socket.inet_aton("203.0.113.77"), data)
        self.assertNotIn(socket.inet_pton(socket.AF_INET6, "2001:db8:77::5")[:8], data)


# ---------------------------------------------------------------------------
SITES_MODEL = os.environ.get("THRESH_SITES_MODEL", "")
SITE_SPAM = ("quorvex zantrium pellicode tablets shipped overnight from quorvex pharmacy "
             "zantrium discount code pellicode %d visit quorvex-zantrium.example")
SITE_PROBE = ("quorvex zantrium pellicode tablets from quorvex pharmacy zantrium "
              "pellicode offer visit quorvex-zantrium.example")


class SitesNode:
    """threshd --sites DIR, a node of a cluster: every site in its own
    namespace of the one Redis."""

    def __init__(self, tmp, name, redis_addr):
        self.name = name
        self.tmp = tmp
        self.dir = os.path.join(tmp, "sites-" + name)
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        self.keys = os.path.join(tmp, "site-keys")
        with open(os.path.join(self.dir, "thresh.conf"), "w") as f:
            f.write("rate_limit = 1\nrate_period = 3600\nrate_burst = 1\nfirst_comment = off\n"
                    "\n[cluster]\nredis = %s\nnamespace = t\nnodes = 2\ntimeout = 200\n"
                    % redis_addr)
        self.err = os.path.join(tmp, "sites-%s.err" % name)
        self.proc = None
        self.port = None

    def start(self):
        self.starts = len(LISTEN_RE.findall(self.stderr())) if os.path.exists(self.err) else 0
        with open(self.err, "ab") as err:
            self.proc = subprocess.Popen(
                [THRESHD, "--sites", self.dir, "--port", "0", "--threads", "2", "--keys",
                 self.keys, "--node", self.name],
                stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL,
                env=dict(os.environ, THRESH_MODEL=SITES_MODEL))
        self.port = int(wait_for(lambda: self._port(), 20, "threshd %s to listen" % self.name))
        return self

    def _port(self):
        if self.proc.poll() is not None:
            raise AssertionError("threshd %s exited: %s" % (self.name, self.stderr()))
        m = LISTEN_RE.findall(self.stderr())
        return m[-1] if len(m) > self.starts else None

    def stderr(self):
        with open(self.err, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)

    def request(self, site, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            hdr = {"Authorization": "Bearer key-%s-0123456789" % site}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                hdr["Content-Type"] = "application/json"
            c.request(method, path, data, hdr)
            r = c.getresponse()
            out = r.read()
            assert r.status == 200, (r.status, out)
            return json.loads(out) if out[:1] == b"{" else out.decode()
        finally:
            c.close()


class SitesClusterTest(unittest.TestCase):
    """Two nodes of threshd --sites on copies of one DIR/.prior: a site made
    on each node alike (its secret derived from .prior's and its name), the
    sites in namespaces of their own, learning replicated site by site."""

    def setUp(self):
        if not SITES_MODEL or not os.path.exists(SITES_MODEL):
            self.skipTest("set THRESH_SITES_MODEL to the default model's dump")
        self.tmp = tempfile.mkdtemp(prefix="cluster-sites-")
        self.redis = Redis(os.path.join(self.tmp, "redis")).start()
        with open(os.path.join(self.tmp, "site-keys"), "w") as f:
            f.write("key-alpha-0123456789 alpha\nkey-beta-0123456789 beta\n")
        os.chmod(os.path.join(self.tmp, "site-keys"), 0o600)
        self.a = SitesNode(self.tmp, "a", self.redis.addr)
        self.b = SitesNode(self.tmp, "b", self.redis.addr)
        self.nodes = [self.a, self.b]
        # node a makes DIR/.prior; node b gets a copy of it, as README says
        self.a.start().stop()
        shutil.copytree(os.path.join(self.a.dir, ".prior"), os.path.join(self.b.dir, ".prior"))
        self.a.start()
        self.b.start()

    def tearDown(self):
        problems = []
        for n in self.nodes:
            try:
                n.stop()
            except subprocess.TimeoutExpired:
                problems.append("threshd %s did not stop" % n.name)
            if "runtime error:" in n.stderr() or "Sanitizer" in n.stderr():
                problems.append(n.stderr())
        self.redis.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if problems:
            self.fail("\n".join(problems))

    def test_each_site_replicates_in_its_own_namespace(self):
        before = self.b.request("alpha", "POST", "/v1/check", {"content": SITE_PROBE})
        self.b.request("beta", "POST", "/v1/check", {"content": "hello there"})
        for i in range(20):
            got = self.a.request("alpha", "POST", "/v1/learn",
                                 {"content": SITE_SPAM % i, "label": "spam"})
            self.assertEqual(got["learned"], 1, got)

        def replicated():
            st = self.b.request("alpha", "GET", "/v1/stats")
            return st["spam_messages"] == 20 and st
        st = wait_for(replicated, 30, "node b's alpha to apply node a's learns", step=0.1)
        self.assertEqual(st["site"], "alpha")
        self.assertEqual(self.b.request("beta", "GET", "/v1/stats")["spam_messages"], 0,
                         "another site's log is its own")
        after = self.b.request("alpha", "POST", "/v1/check", {"content": SITE_PROBE})
        self.assertEqual(after["verdict"], "reject", after)
        self.assertGreater(after["score"], before["score"])
        self.assertNotIn("refuse", self.a.stderr() + self.b.stderr(),
                         "a site made on each node alike joins: " + self.b.stderr())
        keys = self.redis.cli("--scan").split()
        self.assertTrue(any(k.startswith("t.alpha:") for k in keys), keys)
        self.assertTrue(any(k.startswith("t.beta:") for k in keys), keys)
        self.assertFalse(any(k.startswith("t:") for k in keys), "no site in the bare namespace")

    def test_an_authors_rate_is_counted_per_site_across_nodes(self):
        who = {"author": "Pat", "email": "pat@example.net", "ip": "198.51.100.7"}
        first = self.a.request("alpha", "POST", "/v1/check", dict(who, content="a kind word"))
        second = self.b.request("alpha", "POST", "/v1/check", dict(who, content="more words"))
        other = self.b.request("beta", "POST", "/v1/check", dict(who, content="a kind word"))
        self.assertNotIn("rate_limited", first["reasons"], first)
        self.assertIn("rate_limited", second["reasons"],
                      "one site, two nodes: one rate in Redis (%r)" % second)
        self.assertNotIn("rate_limited", other["reasons"], "another site: a rate of its own")


if __name__ == "__main__":
    unittest.main()
