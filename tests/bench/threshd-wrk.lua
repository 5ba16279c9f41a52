-- threshd-wrk.lua - wrk drives POST /1.1/comment-check with real comments.
--
--   wrk -t2 -c64 -d20s --latency -s threshd-wrk.lua http://127.0.0.1:PORT \
--       -- COMMENTS.tsv KEY
--
-- COMMENTS.tsv holds "label<TAB>text" lines (threshd-wrk.sh takes them from
-- the YouTube Spam Collection); each becomes an Akismet form body, encoded
-- here, with its own client address. Requests rotate through the bodies,
-- each wrk thread starting at a different one. done() prints one summary
-- line that threshd-wrk.sh shows after wrk's own report.

local bodies = {}
local next_body = 1

local function urlencode(s)
	s = s:gsub("([^%w%-%._~ ])", function(c) return string.format("%%%02X", string.byte(c)) end)
	return (s:gsub(" ", "+"))
end

local thread_no = 0
function setup(thread)
	thread:set("thread_no", thread_no)
	thread_no = thread_no + 1
end

function init(args)
	local path, key = args[1], args[2]
	local n = 0
	for line in io.lines(path) do
		local text = line:match("^[^\t]*\t(.*)$") or line
		if #text > 0 then
			n = n + 1
			local body = "blog=" .. urlencode("https://blog.example/")
				.. "&user_ip=" .. string.format("198.51.100.%d", n % 250 + 1)
				.. "&user_agent=" .. urlencode("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
				.. "&comment_type=comment"
				.. "&permalink=" .. urlencode("https://blog.example/2024/05/a-post/")
				.. "&comment_content=" .. urlencode(text)
			if key and #key > 0 then
				body = body .. "&api_key=" .. urlencode(key)
			end
			bodies[#bodies + 1] = body
		end
	end
	if #bodies == 0 then
		error("no comments in " .. tostring(path))
	end
	next_body = ((thread_no or 0) * 97) % #bodies + 1
end

local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

function request()
	local body = bodies[next_body]
	next_body = next_body % #bodies + 1
	return wrk.format("POST", "/1.1/comment-check", headers, body)
end

function done(summary, latency, requests)
	local secs = summary.duration / 1e6
	local errors = summary.errors.connect + summary.errors.read + summary.errors.write
		+ summary.errors.timeout
	io.write(string.format(
		"SUMMARY requests/s %.0f  latency ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f"
		.. "  (%d requests in %.1fs, %d non-2xx, %d socket errors)\n",
		summary.requests / secs,
		latency:percentile(50) / 1000, latency:percentile(90) / 1000,
		latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000,
		summary.requests, secs, summary.errors.status, errors))
end
