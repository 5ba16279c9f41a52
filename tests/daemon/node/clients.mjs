// clients.mjs - drive threshd with a real Akismet client library from npm.
//
//   node clients.mjs cedx|akismet-api PORT KEY < plan.json > results.json
//
// The plan is a JSON array of operations, run in order:
//   {"op": "verify"}
//   {"op": "check" | "submitSpam" | "submitHam", "comment": {
//       "content": ..., "author": ..., "email": ..., "ip": ..., "userAgent": ...,
//       "honeypot": ...}}
// and the output is one JSON array with, for each operation, {"ok": true,
// "result": ...} or {"ok": false, "error": "..."}. For check, result is
// "ham", "spam" or "discard" (cedx tells pervasive spam apart) for cedx, and
// true or false for akismet-api.
//
// @cedx/akismet takes a base URL (http://127.0.0.1:PORT/) and sends the key
// in the body. akismet-api puts the key in the host name
// (http://KEY.localhost:PORT/1.1/comment-check); the machine's resolver does
// not know *.localhost, so this process's dns.lookup maps every *.localhost
// name to 127.0.0.1 instead of anyone editing /etc/hosts. Nothing here talks
// to anything but 127.0.0.1.
import dns from "node:dns";
import { createRequire } from "node:module";
import process from "node:process";

const origLookup = dns.lookup;
dns.lookup = function lookup(hostname, options, callback) {
	if (typeof options === "function") {
		callback = options;
		options = {};
	} else if (typeof options === "number") {
		options = { family: options };
	}
	options = options || {};
	const name = String(hostname).toLowerCase();
	if (name === "localhost" || name.endsWith(".localhost")) {
		if (options.all)
			process.nextTick(callback, null, [{ address: "127.0.0.1", family: 4 }]);
		else
			process.nextTick(callback, null, "127.0.0.1", 4);
		return {};
	}
	return origLookup.call(this, hostname, options, callback);
};

const [lib, port, key] = process.argv.slice(2);
if (!lib || !port || key === undefined) {
	console.error("usage: node clients.mjs cedx|akismet-api PORT KEY < plan.json");
	process.exit(2);
}

async function readStdin() {
	let text = "";
	for await (const chunk of process.stdin)
		text += chunk;
	return JSON.parse(text);
}

const BLOG = "https://blog.example/";

async function cedxRunner() {
	const { Author, Blog, CheckResult, Client, Comment } = await import("@cedx/akismet");
	const client = new Client(key, new Blog({ url: BLOG, languages: ["en"] }), {
		baseUrl: `http://127.0.0.1:${port}/`,
	});
	const toComment = c => new Comment({
		author: new Author({
			ipAddress: c.ip ?? "192.0.2.10",
			name: c.author ?? "",
			email: c.email ?? "",
			userAgent: c.userAgent ?? "Mozilla/5.0 (X11; Linux x86_64)",
		}),
		content: c.content ?? "",
		type: "comment",
	});
	return {
		verify: () => client.verifyKey(),
		check: async c => {
			const r = await client.checkComment(toComment(c));
			return r === CheckResult.ham ? "ham" : r === CheckResult.pervasiveSpam ? "discard" : "spam";
		},
		submitSpam: async c => { await client.submitSpam(toComment(c)); return "submitted"; },
		submitHam: async c => { await client.submitHam(toComment(c)); return "submitted"; },
	};
}

async function akismetApiRunner() {
	const require = createRequire(import.meta.url);
	const { AkismetClient } = require("akismet-api");
	const client = new AkismetClient({
		key, blog: BLOG, lang: "en", host: `localhost:${port}`, protocol: "http",
	});
	const toComment = c => {
		const out = {
			ip: c.ip ?? "192.0.2.20",
			useragent: c.userAgent ?? "Mozilla/5.0 (X11; Linux x86_64)",
			content: c.content ?? "",
			type: "comment",
		};
		if (c.author) out.name = c.author;
		if (c.email) out.email = c.email;
		if (c.honeypot !== undefined) out.honeypot = c.honeypot;
		return out;
	};
	return {
		verify: () => client.verifyKey(),
		check: c => client.checkSpam(toComment(c)),
		submitSpam: async c => {
			const res = await client.submitSpam(toComment(c));
			return res.text;
		},
		submitHam: async c => {
			const res = await client.submitHam(toComment(c));
			return res.text;
		},
	};
}

const plan = await readStdin();
const runner = lib === "cedx" ? await cedxRunner() : lib === "akismet-api" ? await akismetApiRunner() : null;
if (!runner) {
	console.error(`unknown client library ${lib}`);
	process.exit(2);
}
const results = [];
for (const step of plan) {
	try {
		const result = await runner[step.op](step.comment ?? {});
		results.push({ ok: true, result });
	} catch (err) {
		results.push({ ok: false, error: String(err && err.message ? err.message : err) });
	}
}
process.stdout.write(JSON.stringify(results) + "\n");
