"""thresh - check comments for spam in-process, over libthresh's plugin table.

    import thresh

    with thresh.Database("/var/lib/thresh") as db:
        r = db.check(content=text, author=name, email=email, url=url,
                     ip=remote_addr, user_agent=ua, permalink=page_url)
        if r.verdict == "reject":
            ...                     # spam: drop it, or keep it in a spam folder
        elif r.verdict == "hold":
            ...                     # the moderation queue
        # later, from the moderator's decision:
        db.learn("spam", content=text, author=name, email=email, url=url)

A single module over the standard library (ctypes). It loads libthresh from the
path given to load() or Database(library=...), else $THRESH_LIB, else what
ctypes.util.find_library("thresh") finds, else "libthresh.so.0", and obtains
the library's versioned function table (include/thresh/plugin.h) with
thresh_plugin_get(ABI 1, sizeof table): a library that does not provide ABI 1
is refused with thresh.Error(EABI) instead of crashing later.

Fields are the names of thresh or of Akismet (content or comment_content,
author or comment_author, email or comment_author_email, url or
comment_author_url, ip or user_ip, user_agent, referrer or referer, permalink,
type or comment_type, lang or blog_lang, honeypot, form_age). Values are str
(sent as UTF-8), bytes (sent as they are; the library checks the UTF-8), or
int/float (form_age); a None value leaves the field out. An unknown name is
thresh.Error(EFIELD), a str that cannot be UTF-8 (a lone surrogate) is
thresh.Error(EUTF8), a NUL character thresh.Error(ENUL).

Threads and processes: one Database may be shared by every thread of a
process; the library's handle is thread-safe and the calls release the GIL,
so checks run in parallel. Do not close() it while another thread still uses
it. A Database must not cross a fork(): open it in each worker process (after
the fork, e.g. in a post-fork hook of a pre-forking server); a Database used
in a child of the process that opened it raises RuntimeError. Many processes
may open the same folder at once.
"""

import ctypes
import ctypes.util
import dataclasses
import os
import threading

__all__ = ["Database", "Result", "Error", "load", "is_field", "library_version",
           "ABI", "ACCEPT", "HOLD", "REJECT", "VERDICTS"]

# --- the C side: include/thresh/plugin.h, error.h ---------------------------

ABI = 1                     # THRESH_PLUGIN_ABI
_SPARE = 16                 # the slots after reload, as in 0.1 (0.3's learn_batch, the first,
                            # is not used here; THRESH_PLUGIN_SPARE counts the 15 after it)
_CREATE = 0x1               # THRESH_PLUGIN_CREATE
_RDONLY = 0x2               # THRESH_PLUGIN_RDONLY
_LABELS = {"ham": 0, "spam": 1}   # THRESH_HAM, THRESH_SPAM

ACCEPT, HOLD, REJECT = "accept", "hold", "reject"
VERDICTS = (ACCEPT, HOLD, REJECT)  # indexed by THRESH_ACCEPT 0, HOLD 1, REJECT 2

# The THRESH_E* codes (append-only in the library, so safe to mirror).
_CODES = {
    "EINVAL": -1, "ENOMEM": -2, "EIO": -3, "EUTF8": -4, "ETOOBIG": -5, "ENUL": -6,
    "EFIELD": -7, "ENOENT": -8, "EVERSION": -9, "ECORRUPT": -10, "EFULL": -11,
    "EACCES": -12, "ECONFIG": -13, "EFORMAT": -14, "EEXIST": -15, "EREADONLY": -16,
    "EABI": -17, "EBUSY": -18, "ENOMODEL": -19, "ENOTFOUND": -20, "EPARAM": -21,
    "EUNAVAIL": -22, "ENOTSUP": -23, "EREFUSED": -24,
}
_NAMES = {v: "THRESH_" + k for k, v in _CODES.items()}
globals().update(_CODES)
__all__ += list(_CODES)

_ERRBUF = 512
_c_fields = ctypes.POINTER(ctypes.c_char_p)


class _Result(ctypes.Structure):
    """thresh_plugin_result."""
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("verdict", ctypes.c_int),
        ("score", ctypes.c_double),
        ("blatant", ctypes.c_int),
        ("retry_after", ctypes.c_double),
        ("reasons", ctypes.c_char * 256),
    ]


# CFUNCTYPE: the GIL is released for the duration of every call.
_F = ctypes.CFUNCTYPE


class _Plugin(ctypes.Structure):
    """thresh_plugin, ABI 1: abi, size, the functions, then the spare slots."""
    _fields_ = [
        ("abi", ctypes.c_uint32),
        ("size", ctypes.c_uint32),
        ("version", _F(ctypes.c_char_p)),
        ("strerror", _F(ctypes.c_char_p, ctypes.c_int)),
        ("open", _F(ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint,
                    ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p, ctypes.c_size_t)),
        ("close", _F(None, ctypes.c_void_p)),
        ("is_field", _F(ctypes.c_int, ctypes.c_char_p)),
        ("check", _F(ctypes.c_int, ctypes.c_void_p, _c_fields, _c_fields, ctypes.c_size_t,
                     ctypes.POINTER(_Result))),
        ("learn", _F(ctypes.c_int, ctypes.c_void_p, _c_fields, _c_fields, ctypes.c_size_t,
                     ctypes.c_int)),
        ("unlearn", _F(ctypes.c_int, ctypes.c_void_p, _c_fields, _c_fields, ctypes.c_size_t,
                       ctypes.c_int)),
        ("reload", _F(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t)),
        ("spare", ctypes.c_void_p * _SPARE),
    ]


# --- errors ------------------------------------------------------------------

class Error(Exception):
    """A thresh failure: .code is the THRESH_E* code (a negative int, also
    available as thresh.EUTF8, thresh.ENOENT, ...), .name its symbolic name
    ("THRESH_ENOENT") and .message the library's text, with the reason the
    library gave when it gave one ("no such database: /x")."""

    def __init__(self, code, message):
        self.code = code
        self.name = _NAMES.get(code, "THRESH_UNKNOWN")
        self.message = message
        super().__init__(f"{message} ({self.name})")


# --- loading the library -----------------------------------------------------

class _Library:
    """A loaded libthresh and its function table."""

    def __init__(self, path):
        self.path = path
        self.cdll = ctypes.CDLL(path)
        self.table = _get_table(self.cdll)

    def strerror(self, code):
        s = self.table.strerror(code)
        return s.decode("utf-8", "replace") if s else "unknown error"

    def error(self, code, detail=b""):
        msg = self.strerror(code)
        detail = detail.decode("utf-8", "replace").strip() if detail else ""
        return Error(code, f"{msg}: {detail}" if detail and detail != msg else msg)


def _get_table(cdll, abi=ABI, size=ctypes.sizeof(_Plugin)):
    """The function table of cdll, checked: thresh_plugin_get(abi, size).
    Raises Error(EABI) when the library does not provide that ABI or a table
    that large (the parameters exist so that tests can ask for a wrong one)."""
    try:
        get = cdll.thresh_plugin_get
    except AttributeError:
        raise Error(_CODES["EABI"], f"{cdll._name}: no thresh_plugin_get (not libthresh?)")
    get.argtypes = [ctypes.c_uint32, ctypes.c_size_t, ctypes.POINTER(ctypes.POINTER(_Plugin))]
    get.restype = ctypes.c_int
    out = ctypes.POINTER(_Plugin)()
    rc = get(abi, size, ctypes.byref(out))
    if rc == _CODES["EABI"]:
        raise Error(rc, f"{cdll._name} does not provide the plugin ABI {abi} "
                        f"with a table of {size} bytes; this module needs ABI {ABI}")
    if rc != 0 or not out:
        raise Error(rc or _CODES["EINVAL"], f"thresh_plugin_get failed ({rc})")
    t = out.contents
    if t.abi != abi or t.size < ctypes.sizeof(_Plugin):
        raise Error(_CODES["EABI"], f"{cdll._name} returned a table of ABI {t.abi}, "
                                    f"{t.size} bytes; this module needs ABI {ABI}")
    return t


_libs = {}
_libs_lock = threading.Lock()


def load(path=None):
    """Load libthresh (once per path) and check its plugin ABI.
    path: the shared library; None means $THRESH_LIB, else
    ctypes.util.find_library("thresh"), else "libthresh.so.0".
    Raises OSError when it cannot be loaded, Error(EABI) on a wrong ABI."""
    if path is None:
        path = (os.environ.get("THRESH_LIB") or ctypes.util.find_library("thresh")
                or "libthresh.so.0")
    path = os.fspath(path)
    with _libs_lock:
        lib = _libs.get(path)
        if lib is None:
            lib = _libs[path] = _Library(path)
        return lib


def library_version(library=None):
    """The version string of the loaded libthresh ("0.1.0")."""
    return load(library).table.version().decode()


def is_field(name, library=None):
    """True when name is a comment field thresh reads (ours or Akismet's),
    so a whole form can be passed after filtering: {k: v for k, v in
    form.items() if thresh.is_field(k)}."""
    return bool(load(library).table.is_field(_encode("name", name)))


# --- values ------------------------------------------------------------------

def _encode(name, value):
    """A field value as bytes for C: UTF-8, no NUL."""
    if isinstance(value, bytes):
        b = value
    elif isinstance(value, str):
        try:
            b = value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise Error(_CODES["EUTF8"], f"field {name!r}: not valid UTF-8 "
                                         f"({e.reason} at index {e.start})") from None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        b = repr(value).encode()
    else:
        raise TypeError(f"field {name!r}: expected str, bytes or a number, "
                        f"not {type(value).__name__}")
    if b"\0" in b:
        raise Error(_CODES["ENUL"], f"field {name!r} holds a NUL character")
    return b


def _pairs(fields, kw):
    """The (names, values, n) C arrays of a mapping and keywords; None skipped."""
    items = dict(fields or {})
    items.update(kw)
    items = [(k, v) for k, v in items.items() if v is not None]
    n = len(items)
    names = (ctypes.c_char_p * max(n, 1))()
    values = (ctypes.c_char_p * max(n, 1))()
    for i, (k, v) in enumerate(items):
        if not isinstance(k, str):
            raise TypeError(f"field names are str, not {type(k).__name__}")
        names[i] = _encode("name", k)
        values[i] = _encode(k, v)
    return names, values, n


def _label(label):
    try:
        return _LABELS[label]
    except (KeyError, TypeError):
        raise ValueError(f"label must be 'spam' or 'ham', not {label!r}") from None


# --- the API -----------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Result:
    """What thresh decided about a comment.
    verdict      'accept' (publish), 'hold' (moderation queue) or 'reject' (spam)
    score        the classifier's spam probability, 0..1
    blatant      spam a site may drop unseen (Akismet's "discard")
    retry_after  seconds the author must wait when rate-limited, else 0.0
    reasons      the reasons that fired: 'bayes', 'rate_limited', 'honeypot', ..."""
    verdict: str
    score: float
    blatant: bool
    retry_after: float
    reasons: list

    @property
    def is_spam(self):
        return self.verdict == REJECT


class Database:
    """An open thresh database folder.

    Database(path, config=None, create=False, readonly=False, library=None)
      path      the database folder (made with `thresh init`)
      config    a thresh.conf to read instead of PATH/thresh.conf
      create    create a missing folder from the default model ($THRESH_MODEL,
                else the one installed with thresh)
      readonly  never write: no learning, and checks keep no rate-limit state
      library   the libthresh to load (see load())
    Raises Error (ENOENT for a missing folder, ECONFIG, EACCES, ...).

    A context manager; close() is idempotent. Thread-safe as the module's
    docstring says: share one per process, open one per forked worker."""

    def __init__(self, path, config=None, create=False, readonly=False, library=None):
        self._lib = load(library)
        self._handle = None
        self._pid = os.getpid()
        self.path = os.fspath(path)
        flags = (_CREATE if create else 0) | (_RDONLY if readonly else 0)
        handle = ctypes.c_void_p()
        err = ctypes.create_string_buffer(_ERRBUF)
        rc = self._lib.table.open(_fs(self.path), _fs(config) if config is not None else None,
                                  flags, ctypes.byref(handle), err, _ERRBUF)
        if rc:
            raise self._lib.error(rc, err.value)
        self._handle = handle

    def close(self):
        """Close the database. Accepts being called twice."""
        h, self._handle = self._handle, None
        if h is not None and os.getpid() == self._pid:
            self._lib.table.close(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self):
        state = "open" if self._handle is not None else "closed"
        return f"<thresh.Database {self.path!r} {state}>"

    def _h(self):
        if self._handle is None:
            raise ValueError("operation on a closed thresh.Database")
        if os.getpid() != self._pid:
            raise RuntimeError("a thresh.Database cannot cross fork(): open it again "
                               "in each worker process")
        return self._handle

    def check(self, fields=None, /, **kw):
        """Check a comment and return its Result. Fields as keywords
        (content=..., author=..., email=..., url=..., ip=..., user_agent=...,
        referrer=..., permalink=..., type=..., lang=..., honeypot=...,
        form_age=..., or the Akismet names), or a mapping as the first
        argument, or both. The check counts toward the author's rate limit
        unless the database is read-only. Raises Error."""
        names, values, n = _pairs(fields, kw)
        out = _Result()
        out.size = ctypes.sizeof(_Result)
        rc = self._lib.table.check(self._h(), names, values, n, ctypes.byref(out))
        if rc:
            raise self._error(rc, names, n)
        reasons = out.reasons.decode("ascii", "replace").split()
        verdict = VERDICTS[out.verdict] if 0 <= out.verdict < len(VERDICTS) else str(out.verdict)
        return Result(verdict, out.score, bool(out.blatant), out.retry_after, reasons)

    def learn(self, label, fields=None, /, **kw):
        """Learn a comment as 'spam' or 'ham' (fields as for check). Learning
        the same comment twice under one label counts once; learning it under
        the other label moves it. Raises Error (EREADONLY, ...)."""
        self._learn_op(self._lib.table.learn, label, fields, kw)

    def unlearn(self, label, fields=None, /, **kw):
        """Take back an earlier learn of the comment under label. Unlearning a
        comment that was not learned changes nothing. Raises Error."""
        self._learn_op(self._lib.table.unlearn, label, fields, kw)

    def _learn_op(self, fn, label, fields, kw):
        lab = _label(label)
        names, values, n = _pairs(fields, kw)
        rc = fn(self._h(), names, values, n, lab)
        if rc:
            raise self._error(rc, names, n)

    def _error(self, rc, names, n):
        """The Error of a failed check or learn, naming an unknown field."""
        if rc == _CODES["EFIELD"]:
            bad = [names[i].decode("utf-8", "replace") for i in range(n)
                   if not self._lib.table.is_field(names[i])]
            return self._lib.error(rc, ", ".join(bad).encode())
        return self._lib.error(rc)

    def reload(self):
        """Read thresh.conf (and the identity secret) again, as a daemon does
        on SIGHUP. On error the configuration in force is kept. Raises Error."""
        err = ctypes.create_string_buffer(_ERRBUF)
        rc = self._lib.table.reload(self._h(), err, _ERRBUF)
        if rc:
            raise self._lib.error(rc, err.value)


def _fs(path):
    """A path as bytes for C (the file-system encoding, as open() uses)."""
    b = os.fsencode(path)
    if b"\0" in b:
        raise ValueError("path holds a NUL character")
    return b
