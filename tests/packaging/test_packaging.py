#!/usr/bin/env python3
"""The Debian packages (debian/): built, complete, clean, and working.

Builds the packages the way the README says (`dpkg-buildpackage -us -uc -b`)
from a copy of the source tree in a temporary folder, so the tree and the
developer's build/ are left alone, with DEB_BUILD_OPTIONS=nocheck (the suites
run in this suite already). Then:

- every package is there and holds what the issue lists (libthresh.so.0,
  thresh.pc, the headers, the man pages, the units, mod_thresh.so with its
  load file, the default model), and every file `meson install` put in the
  package build's DESTDIR (debian/tmp) is shipped at the same path;
- lintian reports no error (when lintian is installed);
- the unpacked thresh and threshd run against the unpacked library and the
  packaged default model: threshd answers /healthz and checks a comment;
- in a throwaway root (an overlay of this machine's own root, in a mount and
  network namespace of its own, so nothing of the host changes and nothing
  is downloaded): install, run the service's own command line as _thresh
  with the key file made at install, `systemd-analyze verify` the units,
  upgrade to a rebuilt 0.2.0-2 (an edited conffile and the key kept),
  remove (configuration kept) and purge (configuration and threshd's
  database gone).

Skipped, with the reason, when dpkg-buildpackage or dh is missing; the
throwaway root is skipped when not root or without overlayfs or unshare.
env: THRESH_SOURCE_ROOT (set by meson test).
"""
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

SRC = os.environ.get("THRESH_SOURCE_ROOT") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VERSION = "0.2.0-1"
PACKAGES = ["libthresh0", "libthresh-dev", "thresh", "threshd", "libapache2-mod-thresh",
            "python3-thresh", "php-thresh"]
TMP = None
DEBS = {}
ROOT = None
MULTIARCH = None
SPAM = "Check out my channel, free giveaway!! http://bit.ly/free-subs"


def run(cmd, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.STDOUT)
    kw.setdefault("text", True)
    return subprocess.run(cmd, **kw)


def copy_tree(dest):
    """The source tree as git sees it (tracked and untracked files, ignored
    ones left out, so build folders and node_modules stay behind); without
    git, everything but build folders."""
    out = run(["git", "-C", SRC, "ls-files", "-z", "--cached", "--others",
               "--exclude-standard"], stderr=subprocess.DEVNULL)
    if out.returncode == 0 and out.stdout:
        for rel in out.stdout.split("\0"):
            if not rel or not os.path.lexists(os.path.join(SRC, rel)):
                continue
            os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
            shutil.copy2(os.path.join(SRC, rel), os.path.join(dest, rel), follow_symlinks=False)
    else:
        shutil.copytree(SRC, dest, symlinks=True, ignore=shutil.ignore_patterns(
            ".git", "build", "build-*", "obj-*", "node_modules", "try-db"))


def setUpModule():
    global TMP, ROOT, MULTIARCH
    for tool, pkg in (("dpkg-buildpackage", "dpkg-dev"), ("dh", "debhelper"),
                      ("fakeroot", "fakeroot")):
        if not shutil.which(tool):
            raise unittest.SkipTest("%s is not installed (Debian: %s): the Debian packages "
                                    "are not built or tested" % (tool, pkg))
    TMP = tempfile.mkdtemp(prefix="thresh-packaging-")
    src = os.path.join(TMP, "thresh")
    copy_tree(src)
    deps = run(["dpkg-checkbuilddeps", "-B"], cwd=src)
    if deps.returncode != 0:
        raise RuntimeError("build dependencies missing (scripts/deps.sh installs them):\n"
                           + deps.stdout)
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=%d" % (os.cpu_count() or 1))
    t0 = time.time()
    log = os.path.join(TMP, "build.log")
    with open(log, "w") as f:
        rc = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, env=env,
                            stdout=f, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        with open(log) as f:
            tail = f.read()[-6000:]
        raise RuntimeError("dpkg-buildpackage failed (%d):\n%s" % (rc, tail))
    print("dpkg-buildpackage: %.0f s" % (time.time() - t0), flush=True)
    for p in PACKAGES:
        found = glob.glob(os.path.join(TMP, "%s_%s_*.deb" % (p, VERSION)))
        if found:
            DEBS[p] = found[0]
    ROOT = os.path.join(TMP, "root")
    for deb in DEBS.values():
        subprocess.run(["dpkg-deb", "-x", deb, ROOT], check=True)
    MULTIARCH = run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"]).stdout.strip()


def tearDownModule():
    if TMP and not os.environ.get("THRESH_KEEP_PACKAGING"):
        shutil.rmtree(TMP, ignore_errors=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Packages(unittest.TestCase):
    def path(self, rel):
        return os.path.join(ROOT, rel.format(ma=MULTIARCH))

    def test_all_built(self):
        self.assertEqual(sorted(DEBS), sorted(PACKAGES))

    def test_contents(self):
        for rel in ("usr/lib/{ma}/libthresh.so.0", "usr/lib/{ma}/libthresh.so",
                    "usr/lib/{ma}/libthresh.a", "usr/lib/{ma}/pkgconfig/thresh.pc",
                    "usr/include/thresh/thresh.h", "usr/include/thresh/version.h",
                    "usr/include/thresh/db.h", "usr/include/thresh/plugin.h",
                    "usr/bin/thresh", "usr/sbin/threshd", "usr/share/thresh/default.dump",
                    "usr/share/man/man1/thresh.1.gz", "usr/share/man/man5/thresh.conf.5.gz",
                    "usr/share/man/man8/threshd.8.gz",
                    "lib/systemd/system/threshd.service", "lib/systemd/system/threshd.socket",
                    "lib/systemd/system/threshd-https.socket", "etc/thresh/thresh.conf",
                    "usr/lib/apache2/modules/mod_thresh.so",
                    "etc/apache2/mods-available/thresh.load",
                    "etc/apache2/mods-available/thresh.conf",
                    "usr/lib/python3/dist-packages/thresh.py", "usr/share/php/Thresh.php"):
            self.assertTrue(os.path.lexists(self.path(rel)), rel)
        self.assertFalse(glob.glob(self.path("usr/include/thresh/store.h")))
        with open(self.path("etc/apache2/mods-available/thresh.load")) as f:
            m = re.search(r"^LoadModule thresh_module (\S+)", f.read(), re.M)
        self.assertTrue(m and os.path.exists(ROOT + m.group(1)), "LoadModule names the module")
        soname = run(["objdump", "-p", self.path("usr/lib/{ma}/libthresh.so.0")]).stdout
        self.assertIn("SONAME               libthresh.so.0", soname)
        with open(self.path("lib/systemd/system/threshd.service")) as f:
            unit = f.read()
        for line in ("User=_thresh", "StateDirectory=thresh", "ProtectSystem=strict",
                     "NoNewPrivileges=yes",
                     "ExecStart=/usr/sbin/threshd --db /var/lib/thresh/db --create "
                     "--keys /etc/thresh/keys --config /etc/thresh/thresh.conf"):
            self.assertIn(line + "\n", unit)

    def test_conffiles_and_symbols(self):
        info = run(["dpkg-deb", "-I", DEBS["threshd"], "conffiles"]).stdout.split()
        self.assertIn("/etc/thresh/thresh.conf", info)
        self.assertNotIn("/etc/thresh/keys", info, "the key file is made at install")
        symbols = run(["dpkg-deb", "-I", DEBS["libthresh0"], "symbols"]).stdout
        self.assertIn("libthresh.so.0 libthresh0 #MINVER#", symbols)
        self.assertIn(" thresh_check@THRESH_0.1 ", symbols)
        depends = run(["dpkg-deb", "-f", DEBS["threshd"], "Depends"]).stdout
        self.assertIn("libthresh0 (>= 0.2.0)", depends)

    def test_layout_is_meson_installs(self):
        """Every file `meson install` made in the package build is shipped, at its path."""
        dest = os.path.join(TMP, "thresh", "debian", "tmp")
        files = [os.path.relpath(os.path.join(d, f), dest)
                 for d, _, fs in os.walk(dest) for f in fs]
        self.assertGreater(len(files), 15)
        for rel in files:
            shipped = self.path(rel)
            if rel.startswith("usr/share/man/"):
                shipped += ".gz"
            self.assertTrue(os.path.lexists(shipped), rel)

    def test_lintian(self):
        if not shutil.which("lintian"):
            self.skipTest("lintian is not installed (apt-get install lintian)")
        changes = glob.glob(os.path.join(TMP, "thresh_%s_*.changes" % VERSION))[0]
        out = run(["lintian", "--fail-on", "error", changes])
        print(out.stdout, end="", flush=True)
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertFalse([l for l in out.stdout.splitlines() if l.startswith("E:")])


class Unpacked(unittest.TestCase):
    """The unpacked command and daemon against the unpacked library and model."""

    @classmethod
    def setUpClass(cls):
        cls.env = dict(os.environ,
                       LD_LIBRARY_PATH=os.path.join(ROOT, "usr", "lib", MULTIARCH),
                       THRESH_MODEL=os.path.join(ROOT, "usr/share/thresh/default.dump"))
        cls.env.pop("THRESH_DB", None)
        cls.thresh = os.path.join(ROOT, "usr/bin/thresh")
        cls.threshd = os.path.join(ROOT, "usr/sbin/threshd")

    def test_uses_the_packaged_library(self):
        ldd = run(["ldd", self.threshd], env=self.env).stdout
        self.assertIn(os.path.join(ROOT, "usr/lib", MULTIARCH, "libthresh.so.0"), ldd)

    def test_thresh_checks(self):
        db = os.path.join(TMP, "cli-db")
        out = run([self.thresh, "--db", db, "init"], env=self.env)
        self.assertEqual(out.returncode, 0, out.stdout)
        out = run([self.thresh, "--db", db, "check"], input=SPAM, env=self.env)
        self.assertIn(out.returncode, (1, 2), out.stdout)
        self.assertRegex(out.stdout, r"^(hold|reject) ")
        out = run([self.thresh, "--db", db, "stats"], env=self.env)
        self.assertEqual(out.returncode, 0, out.stdout)

    def test_threshd_answers(self):
        db = os.path.join(TMP, "daemon-db")
        keys = os.path.join(TMP, "keys")
        with open(keys, "w") as f:
            f.write("packagingtestkey0001\n")
        os.chmod(keys, 0o600)
        port = free_port()
        p = subprocess.Popen([self.threshd, "--db", db, "--create", "--keys", keys,
                              "--port", str(port)], env=self.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            base = "http://127.0.0.1:%d" % port
            for _ in range(100):
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                        self.assertEqual(r.status, 200)
                        break
                except OSError:
                    if p.poll() is not None:
                        self.fail("threshd exited: " + p.stderr.read())
                    time.sleep(0.1)
            else:
                self.fail("no /healthz")
            req = urllib.request.Request(
                base + "/v1/check", data=json.dumps({"content": SPAM}).encode(),
                headers={"Content-Type": "application/json",
                         "Authorization": "Bearer packagingtestkey0001"})
            with urllib.request.urlopen(req, timeout=10) as r:
                body = json.load(r)
            self.assertIn(body["verdict"], ("hold", "reject"), body)
        finally:
            p.terminate()
            p.wait(timeout=20)
            p.stderr.close()


# Run inside the throwaway root (chroot) by Throwaway. $1: the folder of the
# .deb files; $2: the packages to install. Prints "STEP name" lines.
STEPS = r"""
set -eu
debs=$1; shift
pkgs="$*"
export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d
# man-db's trigger re-indexes every manual page of the machine after each
# dpkg run (seconds each time); the index is nothing this test checks
rm -f /var/lib/man-db/auto-update
ip link set lo up
files() { for p in $pkgs; do ls "$debs"/${p}_"$1"_*.deb; done; }

echo "STEP install"
dpkg -i $(files 0.2.0-1) >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; exit 1; }
getent passwd _thresh | cut -d: -f1,6,7
stat -c 'keys %U:%G %a' /etc/thresh/keys
stat -c 'state %U:%G %a' /var/lib/thresh
grep -v '^#' /etc/thresh/keys | head -n 1 | sed 's/^/key /'
if [ -e /etc/apache2/mods-available/thresh.load ]; then
  ls /etc/apache2/mods-enabled/thresh.load >/dev/null && echo "apache enabled"
  # the module loads into Apache as a2enmod left it
  ( set +u; . /etc/apache2/envvars
    mkdir -p /run/lock "$APACHE_RUN_DIR" "$APACHE_LOCK_DIR" "$APACHE_LOG_DIR"
    apache2 -t -D DUMP_MODULES 2>&1 ) | grep -E 'thresh_module' || true
fi

echo "STEP verify"
systemd-analyze verify threshd.service threshd.socket threshd-https.socket && echo "verify ok"

echo "STEP run"
cmd=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/threshd.service)
setpriv --reuid=_thresh --regid=_thresh --init-groups $cmd 2>/tmp/threshd.err &
pid=$!
key=$(grep -v '^#' /etc/thresh/keys | head -n 1)
i=0
until curl -fsS http://127.0.0.1:8707/healthz >/dev/null 2>&1; do
  i=$((i + 1)); [ $i -lt 100 ] || { cat /tmp/threshd.err; exit 1; }; sleep 0.1
done
echo "healthz ok"
curl -fsS -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"content": "Check out my channel, free giveaway!! http://bit.ly/free-subs"}' \
  http://127.0.0.1:8707/v1/check | sed 's/^/check /'; echo
kill $pid; wait $pid || true
stat -c 'db %U:%G' /var/lib/thresh/db
grep -i warn /tmp/threshd.err || true

echo "STEP upgrade"
echo "rate_limit = 7" >> /etc/thresh/thresh.conf
before=$(md5sum < /etc/thresh/keys)
dpkg -i $(files 0.2.0-2) >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; exit 1; }
dpkg-query -W -f '${Version}\n' threshd | sed 's/^/version /'
grep -q '^rate_limit = 7$' /etc/thresh/thresh.conf && echo "conffile kept"
[ "$(md5sum < /etc/thresh/keys)" = "$before" ] && echo "keys kept"
[ -d /var/lib/thresh/db ] && echo "db kept"

echo "STEP remove"
dpkg -r $pkgs >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; exit 1; }
[ -e /usr/sbin/threshd ] || echo "threshd gone"
[ -e /etc/thresh/keys ] && [ -e /etc/thresh/thresh.conf ] && echo "configuration kept"

echo "STEP purge"
dpkg -P $pkgs >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; exit 1; }
[ -e /etc/thresh ] || echo "etc gone"
[ -e /var/lib/thresh/db ] || echo "db gone"
[ -e /etc/apache2/mods-available/thresh.load ] || echo "apache files gone"
left=$(dpkg-query -W -f '${Package} ${Status}\n' $pkgs 2>/dev/null | grep -v 'not-installed' || true)
[ -z "$left" ] && echo "none left"
echo "STEP end"
"""


class Throwaway(unittest.TestCase):
    """install, upgrade, remove and purge, in an overlay of this machine's root.

    Chosen over debootstrap: no download and seconds instead of minutes, and
    the dependencies are the ones the build used. It proves the maintainer
    scripts (the _thresh user, the key file, apache2-maintscript-helper,
    conffile handling, purge) with the real dpkg and adduser, and the
    service's command line under its user; not systemd itself (no PID 1 in
    the namespace: the unit is checked by systemd-analyze verify)."""

    def test_install_upgrade_purge(self):
        if os.geteuid() != 0:
            self.skipTest("not root: no throwaway root (overlay) for dpkg -i")
        with open("/proc/filesystems") as f:
            overlay = "overlay" in f.read()
        if not shutil.which("unshare") or not overlay:
            self.skipTest("no unshare or overlayfs: no throwaway root")
        # what this machine can satisfy: the Apache and PHP packages need them
        pkgs = ["libthresh0", "libthresh-dev", "thresh", "threshd", "python3-thresh"]
        for pkg, needs in (("libapache2-mod-thresh", "apache2-bin"), ("php-thresh", "php8.2-common")):
            st = run(["dpkg-query", "-W", "-f", "${Status}", needs]).stdout
            if "install ok installed" in st:
                pkgs.append(pkg)
        work = os.path.join(TMP, "throwaway")
        debs = os.path.join(work, "debs")
        os.makedirs(debs)
        for p in pkgs:
            shutil.copy(DEBS[p], debs)
            self.rebuild(DEBS[p], debs, "0.2.0-2")
        for d in ("upper", "work", "merged"):
            os.makedirs(os.path.join(work, d))
        with open(os.path.join(work, "steps.sh"), "w") as f:
            f.write(STEPS)
        m = os.path.join(work, "merged")
        outer = " && ".join([
            "mount -t overlay overlay -o lowerdir=/,upperdir={w}/upper,workdir={w}/work {m}",
            "mount -t proc proc {m}/proc", "mount --rbind /dev {m}/dev",
            "mount --rbind /sys {m}/sys", "mount -t tmpfs tmpfs {m}/run",
            "mount -t tmpfs tmpfs {m}/tmp", "mkdir -p {m}/tmp/debs",
            "mount --bind {w}/debs {m}/tmp/debs", "cp {w}/steps.sh {m}/tmp/steps.sh",
            "chroot {m} /bin/bash /tmp/steps.sh /tmp/debs " + " ".join(pkgs),
        ]).format(w=work, m=m)
        t0 = time.time()
        out = run(["unshare", "--mount", "--net", "--propagation", "private", "sh", "-c", outer])
        print(out.stdout, end="", flush=True)
        print("throwaway root: %.0f s" % (time.time() - t0), flush=True)
        self.assertEqual(out.returncode, 0, out.stdout)
        o = out.stdout
        self.assertIn("_thresh:/var/lib/thresh:/usr/sbin/nologin", o)
        self.assertIn("keys root:_thresh 640", o)
        self.assertIn("state _thresh:_thresh 750", o)
        self.assertRegex(o, r"\nkey [0-9a-f]{32}\n")
        if "libapache2-mod-thresh" in pkgs:
            self.assertIn("apache enabled", o)
            self.assertIn("thresh_module (shared)", o)
        self.assertIn("verify ok", o)
        self.assertIn("healthz ok", o)
        self.assertRegex(o, r'check \{.*"verdict": ?"(hold|reject)"')
        self.assertIn("db _thresh:_thresh", o)
        for line in ("version 0.2.0-2", "conffile kept", "keys kept", "db kept",
                     "threshd gone", "configuration kept", "etc gone", "db gone",
                     "none left", "STEP end"):
            self.assertIn(line + "\n", o)
        if "libapache2-mod-thresh" in pkgs:
            self.assertIn("apache files gone\n", o)

    @staticmethod
    def rebuild(deb, into, version):
        """deb as it would be built at another version: the upgrade's package."""
        tree = tempfile.mkdtemp(dir=TMP)
        subprocess.run(["dpkg-deb", "-R", deb, tree], check=True)
        control = os.path.join(tree, "DEBIAN", "control")
        with open(control) as f:
            text = f.read()
        with open(control, "w") as f:
            f.write(text.replace(VERSION, version))
        subprocess.run(["dpkg-deb", "--root-owner-group", "-b", tree, into], check=True,
                       stdout=subprocess.DEVNULL)
        shutil.rmtree(tree)


if __name__ == "__main__":
    unittest.main(verbosity=2)
