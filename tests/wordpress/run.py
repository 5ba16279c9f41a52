#!/usr/bin/env python3
"""Every WordPress test on one real stack (tests/wordpress/stack.py): the
stack starts once, with threshd, every module's sites (its SITES) are added
with one start of Apache, and the modules' TestCases run in one unittest run:

  test_akismet.py        blog.test, latin1.test: WordPress's Akismet against threshd
  test_thresh_plugin.py  thresh.test: thresh's own plugin over PHP FFI
  test_thresh_history.py history.thresh.test: the plugin learning the site's history
  test_multisite.py      net.test (a multisite network, on 127.0.0.2:80): Akismet's
                         network key against a second threshd, in --sites mode; thresh's
                         plugin with a setting per sub-site
  test_history.py        history.test: a site's history into thresh (CLI, threshd's
                         bulk endpoint), then Akismet's reports of it (runs last:
                         it learns into the shared threshd's database)

    THRESHD_BIN=build/src/daemon/threshd THRESH_BIN=build/src/cli/thresh \\
    THRESH_LIB=build/src/lib/libthresh.so THRESH_MODEL=build/models/default.dump \\
        python3 tests/wordpress/run.py [-f] [-k WORD] [test_thresh_plugin.Test05FailOpen ...]

or `meson test -C build --suite wordpress` (the test 'wordpress'). Without
names it runs every module; with names, those (module, module.Class or
module.Class.test). Each module still runs by itself on a stack of its own:
`python3 tests/wordpress/test_akismet.py`.

A module's set-up (installing and configuring its site) failing is reported
as that module's setUpModule error, with the logs; the other modules' tests
still run. A missing prerequisite skips (exit 77), or fails with CI=true.
"""
import argparse
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import stack  # noqa: E402

MODULES = ["test_akismet", "test_thresh_plugin", "test_thresh_history", "test_multisite", "test_history"]


class TimedResult(unittest.TextTestResult):
    """unittest's result, keeping each test's time, and each module's (its
    set-up included), for the summary at the end."""

    times = []
    modules = {}
    last = None

    def startTest(self, test):
        self._t0 = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        now = time.monotonic()
        TimedResult.times.append((now - self._t0, test.id()))
        module = test.id().split(".")[0]
        since = TimedResult.last if TimedResult.last is not None else self._t0
        TimedResult.modules[module] = TimedResult.modules.get(module, 0) + now - since
        TimedResult.last = now
        super().stopTest(test)


def main():
    ap = argparse.ArgumentParser(description="Every WordPress test on one stack.")
    ap.add_argument("-v", "--verbose", action="store_true", help="(always verbose)")
    ap.add_argument("-f", "--failfast", action="store_true", help="stop at the first failure")
    ap.add_argument("-k", action="append", help="only tests whose name contains this")
    ap.add_argument("names", nargs="*", help="module, module.Class or module.Class.test")
    args = ap.parse_args()
    lib = os.environ.get("THRESH_LIB", "")
    if not lib or not os.path.exists(lib):
        stack.give_up("THRESH_LIB is not set to the built libthresh (%r); run through meson" % lib)
    stack.enter_namespaces()
    t0 = time.monotonic()
    modules = [__import__(m) for m in MODULES]
    shared = stack.Stack().start(threshd=True)
    stack.SHARED = shared
    try:
        sites = [site for m in modules for site in m.SITES]
        try:
            shared.add_sites(sites)
        except BaseException:
            print("adding the sites %s failed; the logs:\n%s" % (
                ", ".join(h for h, _ in sites), shared.logs()), file=sys.stderr)
            raise
        print("the stack (MariaDB, Apache, threshd) and its sites %s are up in %.1f s"
              % (", ".join(h for h, _ in sites), time.monotonic() - t0), file=sys.stderr)
        loader = unittest.TestLoader()
        if args.k:
            loader.testNamePatterns = ["*%s*" % k for k in args.k]
        suite = loader.loadTestsFromNames(args.names or MODULES)
        TimedResult.last = time.monotonic()
        result = unittest.TextTestRunner(resultclass=TimedResult, verbosity=2,
                                         failfast=args.failfast).run(suite)
        slow = sorted(TimedResult.times, reverse=True)[:8]
        print("\nthe whole run: %.1f s (%s); the slowest tests:\n%s" % (
            time.monotonic() - t0, ", ".join("%s %.1f s" % m for m in TimedResult.modules.items()),
            "\n".join("  %5.1f s  %s" % t for t in slow)), file=sys.stderr)
        ok = result.wasSuccessful()
    finally:
        problems = shared.stop()
        if problems:
            print("stopping the stack: %s" % problems, file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
