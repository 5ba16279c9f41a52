#!/usr/bin/env python3
"""`meson install` gives a user what they need: headers, shared and static
library with a versioned soname, a pkg-config file that builds a program,
the command, its man page and the default model.

Runs `meson install --no-rebuild --destdir TMP` on the build tree, then
compiles and runs a small program against the installed files only.
env: MESON_BUILD_ROOT (set by meson test), THRESH_PREFIX (the configured prefix).
"""
import glob
import os
import shutil
import subprocess
import tempfile
import unittest

BUILD = os.environ["MESON_BUILD_ROOT"]
PREFIX = os.environ.get("THRESH_PREFIX", "/usr/local")

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <thresh/thresh.h>
int main(int argc, char **argv)
{
	thresh_db *db;
	thresh_db_options o;
	thresh_comment *c;
	thresh_result *r;
	char err[256];
	thresh_db_options_init(&o);
	o.flags = THRESH_DB_CREATE;
	o.model = argv[2];
	o.errbuf = err;
	o.errbuf_size = sizeof err;
	int rc = thresh_db_open(argv[1], &o, &db);
	if (rc) { fprintf(stderr, "open: %s\n", err); return 3; }
	thresh_comment_new(&c);
	thresh_comment_set(c, "content", argv[3], (size_t)-1);
	if ((rc = thresh_check(db, c, THRESH_CHECK_READONLY, &r))) return 4;
	printf("%s %s\n", thresh_version(), thresh_verdict_name(thresh_result_verdict(r)));
	thresh_result_free(r);
	thresh_comment_free(c);
	thresh_db_close(db);
	return argc > 4;
}
"""


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="thresh-install-")
        cls.dest = os.path.join(cls.tmp, "dest")
        subprocess.run(["meson", "install", "--no-rebuild", "--quiet", "--destdir", cls.dest],
                       cwd=BUILD, check=True, stdout=subprocess.DEVNULL)
        cls.root = cls.dest + PREFIX

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def find(self, pattern):
        return sorted(glob.glob(os.path.join(self.root, pattern), recursive=True))

    def test_files_in_place(self):
        for h in ("thresh.h", "db.h", "check.h", "learn.h", "comment.h", "error.h", "version.h"):
            self.assertTrue(self.find("include/thresh/" + h), h)
        self.assertFalse(self.find("include/thresh/store.h"), "private headers stay private")
        self.assertTrue(self.find("bin/thresh"))
        self.assertTrue(self.find("share/thresh/default.dump"))
        self.assertTrue(self.find("share/man/man1/thresh.1*"))
        libs = self.find("lib*/**/libthresh.so.0")
        self.assertTrue(libs, "versioned soname")
        self.assertTrue(self.find("lib*/**/libthresh.a"), "static library")
        soname = subprocess.run(["objdump", "-p", libs[0]], stdout=subprocess.PIPE,
                                text=True, check=True).stdout
        self.assertIn("SONAME               libthresh.so.0", soname)

    def build_and_run(self, static):
        pcdir = os.path.dirname(self.find("lib*/**/pkgconfig/thresh.pc")[0])
        env = dict(os.environ, PKG_CONFIG_PATH=pcdir, PKG_CONFIG_SYSROOT_DIR=self.dest)
        args = ["pkg-config", "--cflags", "--libs"] + (["--static"] if static else []) + ["thresh"]
        flags = subprocess.run(args, env=env, stdout=subprocess.PIPE, text=True,
                               check=True).stdout.split()
        src = os.path.join(self.tmp, "prog.c")
        with open(src, "w") as f:
            f.write(PROGRAM)
        exe = os.path.join(self.tmp, "prog-static" if static else "prog")
        if static:
            # Both libthresh.so and libthresh.a are installed: ask the linker for the archive.
            i = flags.index("-lthresh")
            flags[i:i + 1] = ["-Wl,-Bstatic", "-lthresh", "-Wl,-Bdynamic"]
        cmd = ["cc", "-std=c11", "-Wall", "-Werror", src, "-o", exe] + flags
        subprocess.run(cmd, check=True)
        libdir = os.path.dirname(self.find("lib*/**/libthresh.so.0")[0])
        model = self.find("share/thresh/default.dump")[0]
        db = os.path.join(self.tmp, "db-static" if static else "db")
        out = subprocess.run([exe, db, model, "Check out my channel, free giveaway!!"],
                             env=dict(os.environ, LD_LIBRARY_PATH=libdir),
                             stdout=subprocess.PIPE, text=True)
        self.assertEqual(out.returncode, 0, out.stdout)
        if static:
            ldd = subprocess.run(["ldd", exe], stdout=subprocess.PIPE, text=True).stdout
            self.assertNotIn("libthresh", ldd, "linked statically")
        version, verdict = out.stdout.split()
        self.assertRegex(version, r"^\d+\.\d+\.\d+$")
        self.assertIn(verdict, ("hold", "reject"), "the default model knows this spam")

    def test_pkg_config_builds_a_program(self):
        self.build_and_run(static=False)

    def test_static_library_links(self):
        self.build_and_run(static=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
