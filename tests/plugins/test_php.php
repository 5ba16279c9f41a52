<?php
/*
 * Tests of the PHP class plugin/php/Thresh.php with php-cli against a real
 * libthresh and real database folders (made with `thresh init --empty` and
 * trained with `thresh train --tsv` on a fixture this file writes).
 *
 *     THRESH_LIB=build/src/lib/libthresh.so THRESH_BIN=build/src/cli/thresh \
 *         [THRESH_MODEL=build/models/default.dump] php tests/plugins/test_php.php
 *
 * Prints "N passed, N failed"; exit status 0 when none failed, 77 (skipped)
 * without THRESH_LIB/THRESH_BIN or FFI. The last tests start PHP's built-in
 * web server (SAPI cli-server, where ffi.enable=preload restricts FFI as it
 * does under php-fpm) to check the two deployments README.md describes.
 */
declare(strict_types=1);

require __DIR__ . '/lib.php';
require __DIR__ . '/../../plugin/php/Thresh.php';

use Thresh\Database;
use Thresh\Exception as TE;
use Thresh\Library;
use Thresh\Result;

need_env();
$LIB = getenv('THRESH_LIB');

test('library and table', function () use ($LIB) {
	$lib = Library::load();
	eq($lib->path, $LIB, 'THRESH_LIB is the default');
	ok(Library::load() === $lib, 'loaded once');
	ok((bool)preg_match('/^\d+\.\d+\.\d+/', Database::libraryVersion()), 'version');
	// abi, size, 10 function pointers (learn_batch in the first of 0.1's 16
	// spare slots), 15 spare slots: the size of 0.1's table
	eq(\FFI::sizeof($lib->ffi->type('thresh_plugin')), 8 + 25 * PHP_INT_SIZE, 'table size');
	ok($lib->table->learn_batch !== null, 'learn_batch is in the table');
	eq(\FFI::sizeof($lib->ffi->type('thresh_plugin_result')), 288, 'result size');
	eq($lib->table->abi, 1, 'abi');
});

test('wrong ABI refused', function () {
	$lib = Library::load();
	$e = throws(fn() => Library::table($lib->ffi, $lib->path, 99), TE::class, TE::EABI, 'ABI 99');
	ok($e && str_contains($e->getMessage(), 'ABI 99'), 'message names the ABI');
	eq($e?->getCode(), -17, 'EABI is -17');
	eq($e?->getName(), 'THRESH_EABI', 'name');
	throws(fn() => Library::table($lib->ffi, $lib->path, 0), TE::class, TE::EABI, 'ABI 0');
	$big = \FFI::sizeof($lib->ffi->type('thresh_plugin')) + 8;
	throws(fn() => Library::table($lib->ffi, $lib->path, 1, $big), TE::class, TE::EABI, 'larger table');
	// an older ABI 1 integration without the spare slots is a prefix: accepted
	$t = Library::table($lib->ffi, $lib->path, 1, 8 + 9 * PHP_INT_SIZE);
	eq($t->abi, 1, 'smaller ABI 1 table accepted');
});

test('library missing or not libthresh', function () {
	$e = throws(fn() => new Database('/tmp', ['library' => '/nonexistent/libthresh.so.0']),
	            TE::class, 0, 'missing library');
	eq($e?->getName(), 'THRESH_ELOAD', 'load failure name');
	throws(fn() => new Database('/tmp', ['library' => 'libc.so.6']), TE::class, TE::EABI, 'libc is not libthresh');
});

test('isField', function () {
	foreach (['content', 'comment_content', 'comment_author', 'comment_author_email', 'comment_author_url',
	          'user_ip', 'ip', 'user_agent', 'referrer', 'referer', 'permalink', 'comment_type',
	          'blog_lang', 'honeypot', 'form_age'] as $f)
		ok(Database::isField($f), "$f is a field");
	foreach (['', 'submit', '_wpnonce', "content\0x", 'Content'] as $f)
		ok(!Database::isField($f), var_export($f, true) . ' is not a field');
	$form = ['comment_content' => 'hi', 'submit' => 'Post', 'user_ip' => '192.0.2.1'];
	eq(array_keys(array_filter($form, [Database::class, 'isField'], ARRAY_FILTER_USE_KEY)),
	   ['comment_content', 'user_ip'], 'filtering a form');
});

test('open errors', function () {
	$d = tmpdir();
	$e = throws(fn() => new Database("$d/none"), TE::class, TE::ENOENT, 'missing db');
	eq($e?->getCode(), -8, 'ENOENT is -8');
	ok($e && str_contains($e->getMessage(), "$d/none"), 'message names the folder: ' . $e?->getMessage());
	throws(fn() => new Database("$d/none", ['creat' => true]), \InvalidArgumentException::class, null,
	       'unknown option');
	$db = make_db();
	file_put_contents("$d/bad.conf", "no_such_key = 1\n");
	$e = throws(fn() => new Database($db, ['config' => "$d/bad.conf"]), TE::class, TE::ECONFIG, 'bad config');
	ok($e && str_contains($e->getMessage(), 'no_such_key'), 'message names the key');
});

test('spam is rejected, ham accepted', function () {
	$db = new Database(make_db());
	$r = $db->check(['content' => SPAM_TEXT, 'author' => 'Spammer', 'email' => email()]);
	ok($r instanceof Result, 'a Result');
	eq($r->verdict, 'reject', 'spam verdict');
	ok($r->isSpam(), 'isSpam');
	ok($r->score > 0.5, "spam score {$r->score}");
	ok(in_array('bayes', $r->reasons, true), 'bayes reason');
	eq($r->retryAfter, 0.0, 'no retry_after');

	$r = $db->check(['comment_content' => HAM_TEXT, 'comment_author' => 'Reader',
	                 'comment_author_email' => email(), 'comment_author_url' => 'https://reader.example.org/',
	                 'user_ip' => '192.0.2.7', 'user_agent' => 'Mozilla/5.0',
	                 'referrer' => 'https://blog.example.org/post', 'permalink' => 'https://blog.example.org/post',
	                 'comment_type' => 'comment', 'blog_lang' => 'en']);
	eq($r->verdict, 'accept', 'ham verdict (' . implode(' ', $r->reasons) . " {$r->score})");
	ok($r->score < 0.5, "ham score {$r->score}");
	eq($r->reasons, [], 'no reasons');
	eq($r->blatant, false, 'not blatant');
	$db->close();
});

test('names, nulls and numbers', function () {
	$db = new Database(make_db());
	$a = $db->check(['content' => SPAM_TEXT, 'email' => email()]);
	$b = $db->check(['comment_content' => SPAM_TEXT, 'comment_author_email' => email(), 'url' => null]);
	ok(abs($a->score - $b->score) < 1e-12, 'Akismet names score the same; null skipped');
	$r = $db->check(['content' => HAM_TEXT, 'email' => email(), 'form_age' => 1]);
	eq($r->verdict, 'hold', 'form_age 1 (int) holds');
	ok(in_array('too_fast', $r->reasons, true), 'too_fast');
	$r = $db->check(['content' => HAM_TEXT, 'email' => email(), 'form_age' => 30.5]);
	eq($r->verdict, 'accept', 'form_age 30.5 (float) accepts');
});

test('honeypot rejects', function () {
	$db = new Database(make_db());
	$r = $db->check(['content' => HAM_TEXT, 'email' => email(), 'honeypot' => 'http://bot.example']);
	eq($r->verdict, 'reject', 'verdict');
	ok(in_array('honeypot', $r->reasons, true), 'honeypot reason');
	ok($r->blatant, 'blatant');
});

test('rate limit from one e-mail', function () {
	$db = new Database(make_db());
	$email = email();
	$rs = [];
	for ($i = 0; $i < 4; $i++)
		$rs[] = $db->check(['content' => HAM_TEXT . " $i", 'email' => $email]);
	for ($i = 0; $i < 3; $i++)
		ok(!in_array('rate_limited', $rs[$i]->reasons, true), "check $i not limited");
	ok(in_array('rate_limited', $rs[3]->reasons, true), '4th check limited: ' . implode(' ', $rs[3]->reasons));
	eq($rs[3]->verdict, 'reject', '4th verdict');
	ok($rs[3]->retryAfter > 0 && $rs[3]->retryAfter <= 60, "retry_after {$rs[3]->retryAfter}");
	$r = $db->check(['content' => HAM_TEXT, 'email' => email()]);
	ok(!in_array('rate_limited', $r->reasons, true), 'another author not limited');
});

test('readonly', function () {
	$db = new Database(make_db(), ['readonly' => true]);
	$email = email();
	for ($i = 0; $i < 6; $i++)
		ok(!in_array('rate_limited', $db->check(['content' => HAM_TEXT, 'email' => $email])->reasons, true),
		   "readonly check $i keeps no rate state");
	throws(fn() => $db->learn('ham', ['content' => HAM_TEXT]), TE::class, TE::EREADONLY, 'learn read-only');
});

test('learn changes later verdicts, unlearn takes it back', function () {
	$db = new Database(make_db());
	$new = 'zorblax frobnicate quuxly wibblefest';
	$before = $db->check(['content' => $new, 'email' => email()]);
	ok($before->verdict !== 'reject', "unknown words not rejected ({$before->verdict})");
	for ($i = 0; $i < 6; $i++)
		$db->learn('spam', ['content' => "$new offer$i"]);
	$after = $db->check(['content' => $new, 'email' => email()]);
	eq($after->verdict, 'reject', 'rejected after learning spam');
	ok($after->score > $before->score, 'score rose');
	for ($i = 0; $i < 6; $i++)
		$db->unlearn('spam', ['content' => "$new offer$i"]);
	$again = $db->check(['content' => $new, 'email' => email()]);
	ok(abs($again->score - $before->score) < 1e-9, "unlearn restores the score ({$again->score} vs {$before->score})");
});

test('learning ham moves a spam learn', function () {
	$db = new Database(make_db());
	$new = 'zorblax frobnicate quuxly wibblefest';
	$before = $db->check(['content' => $new, 'email' => email()]);
	for ($i = 0; $i < 6; $i++) {
		$db->learn('spam', ['comment_content' => "$new note$i"]);
		$db->learn('spam', ['comment_content' => "$new note$i"]); // a duplicate counts once
	}
	$spammy = $db->check(['content' => $new, 'email' => email()]);
	for ($i = 0; $i < 6; $i++)
		$db->learn('ham', ['comment_content' => "$new note$i"]);
	$hammy = $db->check(['content' => $new, 'email' => email()]);
	ok($spammy->score > $before->score, 'spam learn raised the score');
	ok($hammy->score < $before->score, 'ham learn moved it below the start');
	ok($hammy->verdict !== 'reject', 'no longer rejected');
	throws(fn() => $db->learn('Spam', ['content' => 'x']), \InvalidArgumentException::class, null, 'bad label');
	$b = $db->check(['content' => HAM_TEXT, 'email' => email()]);
	$db->unlearn('spam', ['content' => 'never learned this one']);
	$a = $db->check(['content' => HAM_TEXT, 'email' => email()]);
	ok(abs($a->score - $b->score) < 1e-12, 'unlearning what was not learned changes nothing');
});

test('errors carry the THRESH_E* code', function () {
	$db = new Database(make_db());
	throws(fn() => $db->check(['content' => "caf\xe9"]), TE::class, TE::EUTF8, 'invalid UTF-8 (Latin-1)');
	throws(fn() => $db->check(['content' => "\xed\xa0\x80"]), TE::class, TE::EUTF8, 'surrogate (CESU-8)');
	throws(fn() => $db->check(['content' => "a\0b"]), TE::class, TE::ENUL, 'NUL byte');
	$e = throws(fn() => $db->check(['content' => 'hi', 'submit' => 'Post']), TE::class, TE::EFIELD, 'unknown field');
	ok($e && str_contains($e->getMessage(), 'submit'), 'message names the field: ' . $e?->getMessage());
	eq($e?->getName(), 'THRESH_EFIELD', 'name');
	throws(fn() => $db->check(['content' => str_repeat('a', 65537)]), TE::class, TE::ETOOBIG, 'content too big');
	throws(fn() => $db->check(['content' => 'hi', 'author' => str_repeat('a', 4097)]), TE::class, TE::ETOOBIG,
	       'field too big');
	throws(fn() => $db->check(['content' => 'hi', 'form_age' => 'soon']), TE::class, TE::EINVAL, 'bad form_age');
	throws(fn() => $db->check(['content' => ['a']]), \InvalidArgumentException::class, null, 'array value');
	throws(fn() => $db->learn('spam', ['content' => 'x', 'author' => "\xff"]), TE::class, TE::EUTF8,
	       'learn with invalid UTF-8');
	ok($e instanceof \RuntimeException, 'Thresh\Exception is a RuntimeException');
	$db->close();
	$db->close();
	throws(fn() => $db->check(['content' => 'x']), \LogicException::class, null, 'closed');
});

test('a failed learn stores nothing', function () {
	$db = new Database(make_db());
	$new = 'zorblax frobnicate quuxly wibblefest';
	$before = $db->check(['content' => $new, 'email' => email()]);
	for ($i = 0; $i < 5; $i++) {
		try {
			$db->learn('spam', ['content' => $new, 'author' => "\xff"]);
		} catch (TE $e) {
		}
	}
	$after = $db->check(['content' => $new, 'email' => email()]);
	ok(abs($after->score - $before->score) < 1e-12, 'score unchanged');
});

/* thresh stats --json of a database folder. */
function stats(string $path): array
{
	return json_decode(run([getenv('THRESH_BIN'), '--db', $path, 'stats', '--json']), true);
}

test('learnBatch learns many comments at once, each once', function () {
	$path = make_db();
	$s0 = stats($path);
	$db = new Database($path);
	$new = 'zorblax frobnicate quuxly wibblefest';
	$before = $db->check(['content' => $new, 'email' => email()]);
	$batch = [];
	for ($i = 0; $i < 6; $i++)
		$batch[100 + $i] = ['spam', ['comment_content' => "$new offer$i", 'comment_author' => "Bot $i",
		                             'comment_author_email' => "bot$i@example.org", 'user_ip' => '192.0.2.9']];
	$batch['h'] = ['ham', ['content' => HAM_TEXT . ' once more', 'form_age' => 30]];
	$n = $db->learnBatch($batch);
	eq($n, ['learned' => 7, 'duplicates' => 0, 'moved' => 0, 'refused' => []], 'counts');
	eq($db->check(['content' => $new, 'email' => email()])->verdict, 'reject', 'rejected after the batch');
	$s1 = stats($path);
	eq([$s1['spam_messages'] - $s0['spam_messages'], $s1['ham_messages'] - $s0['ham_messages']], [6, 1],
	   'thresh stats: 6 spam, 1 ham');
	// again: duplicates; learned one by one before: duplicates too
	$db->learn('ham', ['content' => 'a comment learned through learn()']);
	$batch['l'] = ['ham', ['content' => 'a comment learned through learn()']];
	eq($db->learnBatch($batch), ['learned' => 0, 'duplicates' => 8, 'moved' => 0, 'refused' => []], 'again');
	// the six as ham: moved
	$ham = array_map(fn($c) => ['ham', $c[1]], array_slice($batch, 0, 6, true));
	eq($db->learnBatch($ham), ['learned' => 0, 'duplicates' => 0, 'moved' => 6, 'refused' => []], 'moved');
	$s2 = stats($path);
	eq([$s2['spam_messages'], $s2['ham_messages']], [$s0['spam_messages'], $s0['ham_messages'] + 8], 'stats');
	ok($db->check(['content' => $new, 'email' => email()])->score < $before->score, 'ham now');
	eq($db->learnBatch([]), ['learned' => 0, 'duplicates' => 0, 'moved' => 0, 'refused' => []], 'empty');
});

test('learnBatch leaves out what the library refuses, stores the rest', function () {
	$path = make_db();
	$s0 = stats($path);
	$db = new Database($path);
	$n = $db->learnBatch([
		'a' => ['spam', ['content' => 'first good one']],
		'latin1' => ['spam', ['content' => "caf\xe9"]],
		'nul' => ['ham', ['content' => "a\0b"]],
		'field' => ['ham', ['content' => 'hi', 'submit' => 'Post']],
		'array' => ['ham', ['content' => ['x']]],
		'big' => ['ham', ['content' => str_repeat('a', 65537)]],
		'b' => ['ham', ['content' => 'second good one']],
	]);
	eq([$n['learned'], $n['duplicates'], $n['moved']], [2, 0, 0], 'the two good ones');
	eq(array_keys($n['refused']), ['nul', 'array', 'latin1', 'field', 'big'], 'refused, by key');
	eq(array_map(fn($e) => $e->getCode(), $n['refused']),
	   ['nul' => TE::ENUL, 'array' => 0, 'latin1' => TE::EUTF8, 'field' => TE::EFIELD, 'big' => TE::ETOOBIG], 'codes');
	ok(str_contains($n['refused']['field']->getMessage(), 'submit'), 'names the field');
	$s1 = stats($path);
	eq([$s1['spam_messages'] - $s0['spam_messages'], $s1['ham_messages'] - $s0['ham_messages']], [1, 1], 'stored');
	throws(fn() => $db->learnBatch(['x' => ['Spam', ['content' => 'x']]]), \InvalidArgumentException::class, null,
	       'bad label');
	throws(fn() => $db->learnBatch([['content' => 'x']]), \InvalidArgumentException::class, null, 'not a pair');
	eq(stats($path)['spam_messages'], $s1['spam_messages'], 'a bad label stores nothing');
	$ro = new Database($path, ['readonly' => true]);
	throws(fn() => $ro->learnBatch([['ham', ['content' => 'x']]]), TE::class, TE::EREADONLY, 'read-only');
});

test('config option and reload', function () {
	$path = make_db();
	$d = tmpdir();
	file_put_contents("$d/other.conf", "disallowed_words = rhubarb\n");
	$db = new Database($path, ['config' => "$d/other.conf"]);
	$r = $db->check(['content' => 'thanks for the lovely rhubarb recipe', 'email' => email()]);
	eq($r->verdict, 'reject', 'config option: disallowed word');
	ok(in_array('disallowed_word', $r->reasons, true), 'disallowed_word reason');
	$db->close();

	// reload re-reads the configuration file the database was opened with
	file_put_contents("$path/thresh.conf", "hold_links = 2\n");
	$db = new Database($path);
	$text = 'thanks for the lovely rhubarb recipe';
	ok(!in_array('disallowed_word', $db->check(['content' => $text, 'email' => email()])->reasons, true),
	   'not disallowed yet');
	file_put_contents("$path/thresh.conf", "disallowed_words = rhubarb\n");
	$db->reload();
	ok(in_array('disallowed_word', $db->check(['content' => $text, 'email' => email()])->reasons, true),
	   'disallowed after reload');
	file_put_contents("$path/thresh.conf", "rate_limit = many\n");
	$e = throws(fn() => $db->reload(), TE::class, TE::ECONFIG, 'bad reload');
	ok($e && str_contains($e->getMessage(), 'thresh.conf'), 'message names the file');
	ok(in_array('disallowed_word', $db->check(['content' => $text, 'email' => email()])->reasons, true),
	   'old configuration kept');
});

test('create from the default model', function () {
	if (!getenv('THRESH_MODEL')) {
		ok(true, 'skipped without THRESH_MODEL');
		return;
	}
	$path = tmpdir() . '/new';
	$db = new Database($path, ['create' => true]);
	$r = $db->check(['content' => 'Check out my channel, subscribe and win a free iPhone '
	                             . 'http://free-prizes.example.com', 'email' => 'x@spam.example']);
	ok($r->score > 0.5, "default model scores spam high ({$r->score})");
	ok(is_dir($path), 'folder created');
});

/* ---- outside the CLI: PHP's built-in web server (SAPI cli-server) ---- */

/* Start `php -S` with $ini settings on a free port serving $docroot; returns
 * [process, port]. */
function serve(string $docroot, array $ini): array
{
	for ($try = 0; $try < 20; $try++) {
		$port = random_int(20000, 60000);
		$s = @stream_socket_server("tcp://127.0.0.1:$port");
		if ($s) {
			fclose($s);
			break;
		}
	}
	$cmd = [PHP_BINARY, '-n', '-dextension=ffi']; // -n: no php.ini, only what is given here
	foreach ($ini as $k => $v)
		$cmd[] = "-d$k=$v";
	array_push($cmd, '-S', "127.0.0.1:$port", '-t', $docroot);
	$env = ['THRESH_LIB' => getenv('THRESH_LIB'), 'PATH' => getenv('PATH')];
	$p = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', "$docroot/server.log", 'a'],
	                      2 => ['file', "$docroot/server.log", 'a']], $pipes, null, $env);
	for ($i = 0; $i < 100; $i++) {
		$c = @fsockopen('127.0.0.1', $port, $errno, $errstr, 0.1);
		if ($c) {
			fclose($c);
			break;
		}
		usleep(50000);
	}
	return [$p, $port];
}

function post(int $port, string $path, array $form): string
{
	$ctx = stream_context_create(['http' => ['method' => 'POST', 'ignore_errors' => true, 'timeout' => 20,
		'header' => "Content-Type: application/x-www-form-urlencoded\r\n",
		'content' => http_build_query($form)]]);
	return (string)@file_get_contents("http://127.0.0.1:$port$path", false, $ctx);
}

function stop($p): void
{
	proc_terminate($p);
	proc_close($p);
}

function extension_dir_has(string $ext): bool
{
	return is_file(ini_get('extension_dir') . "/$ext.so");
}

test('web SAPI: ffi.enable=preload refuses plain FFI, preloading Thresh.php allows it', function () {
	if (!extension_dir_has('ffi') || !extension_dir_has('opcache')) {
		ok(true, 'skipped: ffi.so or opcache.so not in extension_dir');
		return;
	}
	$db = make_db();
	$root = tmpdir();
	$class = realpath(__DIR__ . '/../../plugin/php/Thresh.php');
	file_put_contents("$root/comment.php", '<?php
require_once ' . var_export($class, true) . ';
try {
	$db = new Thresh\Database(' . var_export($db, true) . ');
	$r = $db->check(["comment_content" => $_POST["comment"], "comment_author_email" => $_POST["email"]]);
	echo "verdict=", $r->verdict, " reasons=", implode(",", $r->reasons), "\n";
} catch (Throwable $e) {
	echo "error=", get_class($e), ": ", $e->getMessage(), "\n";
}
');
	$failed = $GLOBALS['failed'];
	$common = ['zend_extension' => 'opcache', 'opcache.enable' => '1', 'opcache.enable_cli' => '1'];

	// 1. the default ffi.enable=preload without preloading: FFI is refused
	[$p, $port] = serve($root, $common + ['ffi.enable' => 'preload']);
	$out = post($port, '/comment.php', ['comment' => SPAM_TEXT, 'email' => email()]);
	stop($p);
	ok(str_contains($out, 'restricted by "ffi.enable"'), "preload without preloading refuses FFI: $out");

	// 2. ffi.enable=preload with Thresh.php in opcache.preload: works
	$pre = ['opcache.preload' => $class];
	if (function_exists('posix_geteuid') && posix_geteuid() === 0)
		$pre['opcache.preload_user'] = 'root';
	[$p, $port] = serve($root, $common + ['ffi.enable' => 'preload'] + $pre);
	$spam = post($port, '/comment.php', ['comment' => SPAM_TEXT, 'email' => email()]);
	$ham = post($port, '/comment.php', ['comment' => HAM_TEXT, 'email' => email()]);
	stop($p);
	ok(str_starts_with($spam, 'verdict=reject'), "preloaded: spam rejected: $spam");
	ok(str_starts_with($ham, 'verdict=accept'), "preloaded: ham accepted: $ham");

	// 3. ffi.enable=true: works without preloading
	[$p, $port] = serve($root, $common + ['ffi.enable' => 'true']);
	$spam = post($port, '/comment.php', ['comment' => SPAM_TEXT, 'email' => email()]);
	stop($p);
	ok(str_starts_with($spam, 'verdict=reject'), "ffi.enable=true: spam rejected: $spam");
	if ($GLOBALS['failed'] > $failed && is_file("$root/server.log"))
		fwrite(STDERR, file_get_contents("$root/server.log"));
});

finish();
