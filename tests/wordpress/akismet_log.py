"""Reading Akismet 5.0.2's own debug log.

With WP_DEBUG, WP_DEBUG_LOG and AKISMET_DEBUG (the test sites define all
three), Akismet::log() writes print_r() of what Akismet::http_post() sent and
got back to WordPress's debug log, one entry per HTTP attempt:

    [akismet_debug] => Array
        (
            [akismet_url] => http://rest.akismet.com/1.1/comment-check   (or [http_akismet_url] on the HTTP retry)
            [http_args] => Array ( [body] => comment_post_ID=1&...&api_key=KEY ... )
            [response] => Array ( [headers] => ... [x-thresh-verdict] => hold ...
                                  [body] => false
                                  [response] => Array ( [code] => 200 ... ) ... )
                       or WP_Error Object ( ... [0] => stream_socket_client(): Unable to connect ... )
        )

and Akismet_Admin::check_server_connectivity() logs its GET of /1.1/test
under [Test Connection]. calls() turns the log into a list of dicts: url, path,
fields (the request's form, decoded), status (None on a connection error),
error, headers (the x-* response headers), body.
"""
import re
import urllib.parse

_ENTRY = re.compile(r"\[akismet_debug\] => ")


def _fields(body):
    try:
        return urllib.parse.parse_qs(body, keep_blank_values=True, encoding="utf-8",
                                     errors="surrogateescape")
    except ValueError:
        return {}


def calls(text):
    out = []
    for block in _ENTRY.split(text)[1:]:
        block = re.split(r"\n\[\d\d-\w{3}-\d{4} ", block)[0]  # up to the next log entry
        m = re.search(r"\[(http_akismet_url|akismet_url)\] => (\S+)", block)
        if m:
            url = m.group(2)
            call = {"url": url, "path": urllib.parse.urlsplit(url).path, "retry": m.group(1).startswith("http_")}
            b = re.search(r"\[http_args\] => Array\s*\(\s*\[body\] => (.*)", block)
            call["body"] = b.group(1) if b else ""
            call["fields"] = _fields(call["body"])
            resp = block.split("[response] => ", 1)[1] if "[response] => " in block else ""
        else:
            t = re.search(r"\[Test Connection\] => ", block)
            if not t:
                continue
            call = {"url": "rest.akismet.com/1.1/test", "path": "/1.1/test", "retry": False,
                    "body": "", "fields": {}}
            resp = block[t.end():]
        if resp.startswith("WP_Error Object"):
            e = re.search(r"\[0\] => (.*)", resp)
            call.update(status=None, error=e.group(1) if e else "WP_Error", headers={}, response="")
        else:
            code = re.search(r"\[response\] => Array\s*\(\s*\[code\] => (\d+)", resp)
            call["status"] = int(code.group(1)) if code else None
            call["error"] = None
            call["headers"] = {}
            # the first listing of the headers (later ones, inside the
            # Requests objects, print their values as Array)
            for k, v in re.findall(r"\[(x-[\w-]+|content-type|retry-after)\] => (.*)", resp):
                call["headers"].setdefault(k.lower(), v.strip())
            body = re.search(r"\[body\] => (.*?)\n\s*\[response\] => Array", resp, re.S)
            call["response"] = body.group(1).strip() if body else ""
        out.append(call)
    return out


def first(fields, name, default=None):
    v = fields.get(name)
    return v[0] if v else default


def describe(call):
    """One line: what was sent where and what came back."""
    if call["status"] is None:
        return "%s -> connection error: %s" % (call["url"], call["error"])
    extra = ", ".join("%s: %s" % (k, v) for k, v in sorted(call["headers"].items())
                      if k.startswith("x-"))
    return "%s -> %s %r%s" % (call["url"], call["status"], call["response"][:160],
                              " (" + extra + ")" if extra else "")
