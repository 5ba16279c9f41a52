#!/usr/bin/env python3
"""cluster.py - what running several nodes through Redis costs, on this
machine (README, "Running on several machines"; tests/bench/README.md).

    tests/bench/cluster.sh BUILD_DIR [--quick] [--out FILE]

Everything runs here, on loopback and unix sockets: one redis-server
(append-only on) and threshd nodes, each on its own copy of one database
made from the default model, with the library's default rules (5 comments a
minute per author, a burst of 3) and a [cluster] section. It measures, with
each figure's peer measured in the same run, interleaved:

 1. the cost of the shared rate limit to a check, in-process:
    thresh-clusterbench (thresh_check, rate limit on, 1000 authors) on a
    copy without [cluster] and on a node, 1 and 2 threads;
 2. checks/s over HTTP (wrk, when installed): one threshd without Redis,
    four without Redis together, and the four nodes together (one wrk per
    threshd at once);
 3. the replication lag: a learn on one node (/v1/learn) until every other
    node scores it as learned (/v1/check, polled every 2 ms), p50 and p99;
 4. training events through the log: `thresh train` of N comments into one
    node's folder while the four replicate, until every node has applied
    them all (outboxes empty, one sequence): events per second, against the
    same training on a copy without [cluster]; then a fifth node applying
    the same log alone (`thresh replicate --drain`);
 5. checks while Redis is down (killed) and while it hangs (a socket that
    accepts and never answers): latency p50, p99, max, against the
    configured timeout (50 ms).
Prints a Markdown report (also to --out). Python's standard library only.
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

KEY = "bench-cluster-key-0123"


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def wait_for(pred, timeout, what, step=0.01):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise SystemExit("cluster.py: timed out waiting for " + what)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


class Bench:
    def __init__(self, build, quick):
        self.build = os.path.abspath(build)
        self.quick = quick
        self.thresh = os.path.join(self.build, "src/cli/thresh")
        self.threshd = os.path.join(self.build, "src/daemon/threshd")
        self.cb = os.path.join(self.build, "tests/bench/thresh-clusterbench")
        self.model = os.environ.get("THRESH_MODEL") or os.path.join(self.build,
                                                                   "models/default.dump")
        self.root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
        self.tmp = tempfile.mkdtemp(prefix="thresh-bench-cluster-")
        self.procs = []
        self.rows = []

    # ---- processes ----
    def redis_start(self, wipe=False):
        d = os.path.join(self.tmp, "redis")
        if wipe:
            shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d, exist_ok=True)
        self.sock = os.path.join(d, "redis.sock")
        self.redis = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", self.sock, "--unixsocketperm", "700",
             "--dir", d, "--appendonly", "yes", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(self.redis)
        wait_for(lambda: os.path.exists(self.sock), 10, "redis-server")
        time.sleep(0.1)

    def copy(self, name, cluster=True, node=None, redis=None):
        d = os.path.join(self.tmp, name)
        shutil.copytree(os.path.join(self.tmp, "template"), d)
        with open(os.path.join(d, "thresh.conf"), "w") as f:
            if cluster:
                f.write("[cluster]\nredis = %s\nnode = %s\nnodes = 4\n"
                        % (redis or "unix:" + self.sock, node or name))
        return d

    def start_threshd(self, db, threads=2):
        err = os.path.join(db, "threshd.err")
        p = subprocess.Popen([self.threshd, "--db", db, "--port", "0", "--threads", str(threads),
                              "--keys", os.path.join(self.tmp, "keys")],
                             stdout=subprocess.DEVNULL, stderr=open(err, "wb"))
        self.procs.append(p)

        def port():
            with open(err) as f:
                for line in f:
                    if "listening on 127.0.0.1:" in line:
                        return int(line.split("127.0.0.1:")[1].split()[0])
            if p.poll() is not None:
                raise SystemExit("threshd exited: " + open(err).read())
        return p, wait_for(port, 20, "threshd")

    def stop(self, p):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- HTTP ----
    def req(self, port, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        h = {"Authorization": "Bearer " + KEY}
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body).encode()
        c.request(method, path, body, h)
        r = c.getresponse()
        out = json.loads(r.read() or b"null")
        c.close()
        return out

    # ---- the parts ----
    def setup(self):
        env = dict(os.environ, THRESH_MODEL=self.model)
        run([self.thresh, "--db", os.path.join(self.tmp, "template"), "init"], env=env)
        with open(os.path.join(self.tmp, "keys"), "w") as f:
            f.write(KEY + "\n")
        os.chmod(os.path.join(self.tmp, "keys"), 0o600)
        corpus = os.path.join(self.root, "models/youtube/youtube-spam-collection.tsv")
        with open(corpus, encoding="utf-8") as f:
            self.corpus = [l.rstrip("\n").split("\t", 1)[-1] for l in f if "\t" in l]
        self.comments = os.path.join(self.tmp, "comments.tsv")
        with open(self.comments, "w", encoding="utf-8") as f:
            for t in self.corpus:
                f.write("x\t" + t + "\n")
        self.redis_start()

    def clusterbench(self, db, seconds, threads):
        r = run([self.cb, db, self.comments, str(seconds), str(threads)])
        return json.loads(r.stdout)

    def part_library(self):
        plain = self.copy("lib-plain", cluster=False)
        node = self.copy("lib-node", node="lib")
        secs = 1 if self.quick else 3
        res = {}
        for threads in (1, 2):
            a, b = [], []
            for _ in range(1 if self.quick else 3):
                a.append(self.clusterbench(plain, secs, threads))
                b.append(self.clusterbench(node, secs, threads))
            pa = statistics.median(x["per_second"] for x in a)
            pb = statistics.median(x["per_second"] for x in b)
            res[threads] = (pa, pb, b[-1])
            self.rows.append(("checks/s in-process, %d thread%s, without Redis" % (
                threads, "" if threads == 1 else "s"), "%.0f" % pa, ""))
            self.rows.append(("checks/s in-process, %d thread%s, a node (rate limit in Redis)" % (
                threads, "" if threads == 1 else "s"), "%.0f" % pb,
                "%.2fx the time per check; p99 %.3f ms" % (pa / pb, b[-1]["p99_ms"])))
        return res

    def start_nodes(self):
        self.nodes = []
        for n in "abcd":
            db = self.copy("node-" + n, node=n)
            p, port = self.start_threshd(db)
            self.nodes.append((n, db, p, port))
        for n in self.nodes:
            wait_for(lambda: (self.req(n[3], "GET", "/v1/stats").get("cluster") or {})
                     .get("redis_up"), 20, "node %s to join" % n[0], step=0.05)
        # every node in the epoch (each resyncs once when it joins)
        wait_for(lambda: len({self.req(n[3], "GET", "/v1/stats")["cluster"]["seq"]
                              for n in self.nodes}) == 1, 20, "the nodes to join", step=0.05)

    def part_http(self):
        if not shutil.which("wrk"):
            self.rows.append(("checks/s over HTTP", "skipped", "wrk is not installed"))
            return
        lua = os.path.join(self.root, "tests/bench/threshd-wrk.lua")
        tsv = os.path.join(self.tmp, "wrk.tsv")
        with open(tsv, "w", encoding="utf-8") as f:
            step = max(1, len(self.corpus) // 200)
            for t in self.corpus[::step][:200]:
                f.write("x\t" + t + "\n")
        secs = "3s" if self.quick else "10s"

        def wrk(port, threads, conns):
            out = run(["wrk", "-t%d" % threads, "-c%d" % conns, "-d" + secs, "-s", lua,
                       "http://127.0.0.1:%d" % port, "--", tsv, KEY]).stdout
            for line in out.splitlines():
                if line.startswith("Requests/sec:"):
                    return float(line.split()[1])
            raise SystemExit("wrk: " + out)
        def together(ports):
            got = [None] * len(ports)

            def one(i):
                got[i] = wrk(ports[i], 1, 8)
            ts = [threading.Thread(target=one, args=(i,)) for i in range(len(ports))]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            return sum(got)
        plain = [self.start_threshd(self.copy("http-plain-%d" % i, cluster=False))
                 for i in range(4)]
        for _, port in plain:
            run(["wrk", "-t1", "-c8", "-d2s", "-s", lua, "http://127.0.0.1:%d" % port, "--", tsv,
                 KEY])
        ones, plains, fours = [], [], []
        for _ in range(1 if self.quick else 2):
            ones.append(wrk(plain[0][1], 2, 32))
            plains.append(together([p[1] for p in plain]))
            fours.append(together([n[3] for n in self.nodes]))
        for p, _ in plain:
            self.stop(p)
        a, b, c = statistics.median(ones), statistics.median(plains), statistics.median(fours)
        self.rows.append(("comment-checks/s over HTTP, one threshd without Redis", "%.0f" % a,
                          "wrk -t2 -c32"))
        self.rows.append(("... four threshd without Redis, together", "%.0f" % b,
                          "four wrk -t1 -c8 at once"))
        self.rows.append(("... the four nodes with Redis, together", "%.0f" % c,
                          "%.2fx the time per check of one node, %.2fx of four without Redis"
                          % (a / c, b / c)))

    def part_lag(self):
        lags = []
        n = 40 if self.quick else 200
        for i in range(n):
            src = self.nodes[i % 4]
            text = "lag probe %d wibble%d frotz%d" % (i, i, i * 7)
            t0 = time.monotonic()
            self.req(src[3], "POST", "/v1/learn", {"label": "spam", "content": text})
            for dst in self.nodes:
                if dst is src:
                    continue
                wait_for(lambda: "learned_spam" in self.req(dst[3], "POST", "/v1/check",
                         {"content": text, "dry_run": True})["reasons"], 10, "the learn",
                         step=0.002)
            lags.append(time.monotonic() - t0)
        self.rows.append(("replication lag, a learn until the 3 other nodes have it (%d learns)"
                          % n, "p50 %.0f ms, p99 %.0f ms" % (1000 * pct(lags, .5),
                                                            1000 * pct(lags, .99)),
                          "aim: p99 < 1 s"))

    def converged(self):
        st = [self.req(n[3], "GET", "/v1/stats")["cluster"] for n in self.nodes]
        return (all(s["outbox"] == 0 and s["lag_events"] == 0 for s in st)
                and len({s["seq"] for s in st}) == 1)

    def part_throughput(self):
        n = 4000 if self.quick else 20000
        tsv = os.path.join(self.tmp, "train.tsv")
        with open(tsv, "w", encoding="utf-8") as f:
            for i in range(n):
                t = self.corpus[i % len(self.corpus)]
                f.write("%s\t%s #%d\n" % ("spam" if i % 3 else "ham", t, i))
        plain = self.copy("train-plain", cluster=False)
        t0 = time.monotonic()
        run([self.thresh, "--db", plain, "train", "--tsv", tsv, "--batch", "1000"])
        local = time.monotonic() - t0
        lone = self.copy("node-e", node="e")  # a node without threshd, replicated later
        run([self.thresh, "--db", lone, "replicate", "--once"])
        a = self.nodes[0][1]
        t0 = time.monotonic()
        run([self.thresh, "--db", a, "train", "--tsv", tsv, "--batch", "1000"])
        trained = time.monotonic() - t0
        wait_for(self.converged, 300, "the nodes to apply the log", step=0.05)
        total = time.monotonic() - t0
        self.rows.append(("training, %d comments into one folder without [cluster]" % n,
                          "%.0f/s" % (n / local), ""))
        self.rows.append(("... into a node's folder (outbox written too)" , "%.0f/s" % (n / trained),
                          "%.2fx the time" % (trained / local)))
        self.rows.append(("... until all four nodes applied them through the log",
                          "%.0f events/s" % (n / total), "aim: >= 10,000/s"))
        t0 = time.monotonic()
        run([self.thresh, "--db", lone, "replicate", "--drain"])
        alone = time.monotonic() - t0
        self.rows.append(("... applied by one more node from the log, the others idle",
                          "%.0f events/s" % (n / alone), "%.2fx the time of training them"
                          % (alone / local)))

    def part_outage(self, lib):
        node = os.path.join(self.tmp, "lib-node")
        secs = 1 if self.quick else 3
        self.redis.send_signal(signal.SIGKILL)
        self.redis.wait()
        down = self.clusterbench(node, secs, 1)
        self.rows.append(("checks in-process while Redis is killed",
                          "p50 %.3f ms, p99 %.3f ms, max %.3f ms" % (
                              down["p50_ms"], down["p99_ms"], down["max_ms"]),
                          "%d checks, %d rate_local; timeout 50 ms" % (down["checks"],
                                                                       down["rate_local"])))
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(64)
        held, stop = [], threading.Event()

        def accept():
            srv.settimeout(0.1)
            while not stop.is_set():
                try:
                    held.append(srv.accept()[0])
                except OSError:
                    pass
        th = threading.Thread(target=accept, daemon=True)
        th.start()
        hung = self.copy("lib-hung", node="hung", redis="127.0.0.1:%d" % srv.getsockname()[1])
        r = self.clusterbench(hung, secs, 1)
        stop.set()
        th.join()
        for c in held:
            c.close()
        srv.close()
        self.rows.append(("checks in-process against a Redis that never answers",
                          "p50 %.3f ms, p99 %.3f ms, max %.3f ms" % (
                              r["p50_ms"], r["p99_ms"], r["max_ms"]),
                          "%d checks, %d connections tried; timeout 50 ms" % (r["checks"],
                                                                              len(held))))

    def report(self):
        out = ["| what | figure | against its peer |", "|---|---:|---|"]
        out += ["| %s | %s | %s |" % r for r in self.rows]
        return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out")
    a = ap.parse_args()
    if not shutil.which("redis-server"):
        raise SystemExit("cluster.py: redis-server is not installed (scripts/deps.sh)")
    b = Bench(a.build, a.quick)
    try:
        b.setup()
        print("machine: %d CPUs, load average %s" % (os.cpu_count(),
              open("/proc/loadavg").read().split()[:3]), file=sys.stderr)
        lib = b.part_library()
        b.start_nodes()
        b.part_http()
        b.part_lag()
        b.part_throughput()
        for n in b.nodes:
            b.stop(n[2])
        b.part_outage(lib)
    finally:
        b.close()
    text = b.report()
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
