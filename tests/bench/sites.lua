-- sites.lua - wrk drives POST /v1/check of threshd --sites, one site or many.
--
--   wrk -t2 -c64 -d5s -s sites.lua http://127.0.0.1:PORT -- KEYS COMMENTS.tsv MODE
--
-- KEYS holds "KEY SITE" lines (threshd's key file); COMMENTS.tsv holds
-- "label<TAB>text" lines. MODE is "one" (every request sends the first
-- key, so one site answers all) or "spread" (each request sends a key
-- picked at random, uniformly, from all of them: every site gets about the
-- same share). Each comment becomes a JSON body with its own author, e-mail
-- and client address; requests rotate through the bodies. The key goes in
-- "Authorization: Bearer KEY". done() prints one line, "SITES rps=...",
-- that sites.sh reads.

local bodies = {}
local headers = {}
local next_body = 1

local function json_string(s)
	s = s:gsub('[%c"\\]', function(c)
		if c == '"' then return '\\"' end
		if c == "\\" then return "\\\\" end
		return string.format("\\u%04x", string.byte(c))
	end)
	return '"' .. s .. '"'
end

local thread_no = 0
function setup(thread)
	thread:set("thread_no", thread_no)
	thread_no = thread_no + 1
end

function init(args)
	local keys_path, comments_path, mode = args[1], args[2], args[3]
	if mode ~= "one" and mode ~= "spread" then
		error("MODE must be one or spread, not " .. tostring(mode))
	end
	for line in io.lines(keys_path) do
		local key = line:match("^%s*([%w_-]+)%s+%S+")
		if key then
			headers[#headers + 1] = {
				["Authorization"] = "Bearer " .. key,
				["Content-Type"] = "application/json",
			}
			if mode == "one" then
				break
			end
		end
	end
	if #headers == 0 then
		error("no key in " .. tostring(keys_path))
	end
	local n = 0
	for line in io.lines(comments_path) do
		local text = line:match("^[^\t]*\t(.*)$") or line
		if #text > 0 then
			n = n + 1
			bodies[#bodies + 1] = "{\"content\":" .. json_string(text)
				.. string.format(",\"author\":\"reader%d\",\"email\":\"reader%d@mail.example\"", n % 250, n % 250)
				.. string.format(",\"ip\":\"198.51.100.%d\"", n % 250 + 1)
				.. ",\"user_agent\":\"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\""
				.. ",\"permalink\":\"https://blog.example/2024/05/a-post/\",\"type\":\"comment\"}"
		end
	end
	if #bodies == 0 then
		error("no comments in " .. tostring(comments_path))
	end
	next_body = ((thread_no or 0) * 97) % #bodies + 1
	math.randomseed(1000 + (thread_no or 0) * 7919)
end

function request()
	local body = bodies[next_body]
	next_body = next_body % #bodies + 1
	local h = headers[1]
	if #headers > 1 then
		h = headers[math.random(#headers)]
	end
	return wrk.format("POST", "/v1/check", h, body)
end

function done(summary, latency, requests)
	local secs = summary.duration / 1e6
	local errors = summary.errors.connect + summary.errors.read + summary.errors.write
		+ summary.errors.timeout
	io.write(string.format(
		"SITES rps=%.0f p50=%.3f p90=%.3f p99=%.3f max=%.3f requests=%d secs=%.2f non2xx=%d errors=%d\n",
		summary.requests / secs,
		latency:percentile(50) / 1000, latency:percentile(90) / 1000,
		latency:percentile(99) / 1000, latency.max / 1000,
		summary.requests, secs, summary.errors.status, errors))
end
