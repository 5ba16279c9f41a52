<?php
/*
 * lib.php - what the PHP tests of the plugins share: plain assertions that
 * count, a fixture database made with the thresh command, temporary folders.
 *
 * Environment: THRESH_LIB (the libthresh to load), THRESH_BIN (the thresh
 * command that makes the databases), optionally THRESH_MODEL.
 */
declare(strict_types=1);

const SKIP = 77; /* meson's "skipped" exit status */

$GLOBALS['passed'] = 0;
$GLOBALS['failed'] = 0;
$GLOBALS['current'] = '';
$GLOBALS['tmpdirs'] = [];

function ok(bool $cond, string $what): void
{
	if ($cond) {
		$GLOBALS['passed']++;
	} else {
		$GLOBALS['failed']++;
		$bt = debug_backtrace(DEBUG_BACKTRACE_IGNORE_ARGS, 2);
		$line = $bt[0]['line'] ?? 0;
		fwrite(STDERR, "FAIL [{$GLOBALS['current']}] line $line: $what\n");
	}
}

function eq(mixed $got, mixed $want, string $what): void
{
	ok($got === $want, "$what: got " . var_export($got, true) . ', want ' . var_export($want, true));
}

/* $fn must throw $class, with getCode() $code when given; returns the throwable. */
function throws(callable $fn, string $class, ?int $code, string $what): ?\Throwable
{
	try {
		$fn();
	} catch (\Throwable $e) {
		$good = $e instanceof $class && ($code === null || $e->getCode() === $code);
		ok($good, "$what: got " . get_class($e) . ' code ' . $e->getCode() . ' "' . $e->getMessage() . '"');
		return $e;
	}
	ok(false, "$what: nothing thrown");
	return null;
}

/* Run one named test; an unexpected exception fails it and the run goes on. */
function test(string $name, callable $fn): void
{
	$GLOBALS['current'] = $name;
	try {
		$fn();
	} catch (\Throwable $e) {
		$GLOBALS['failed']++;
		fwrite(STDERR, "FAIL [$name] unexpected " . get_class($e) . ': ' . $e->getMessage() . "\n"
		               . $e->getTraceAsString() . "\n");
	}
}

function finish(): never
{
	foreach ($GLOBALS['tmpdirs'] as $d)
		rmtree($d);
	echo "{$GLOBALS['passed']} passed, {$GLOBALS['failed']} failed\n";
	exit($GLOBALS['failed'] ? 1 : 0);
}

function need_env(): void
{
	foreach (['THRESH_LIB', 'THRESH_BIN'] as $v) {
		if (!getenv($v)) {
			echo "skipped: $v is not set\n";
			exit(SKIP);
		}
	}
	if (!extension_loaded('ffi')) {
		echo "skipped: PHP has no FFI\n";
		exit(SKIP);
	}
}

function tmpdir(): string
{
	$d = sys_get_temp_dir() . '/thresh-php-' . bin2hex(random_bytes(6));
	mkdir($d, 0700);
	$GLOBALS['tmpdirs'][] = $d;
	return $d;
}

function rmtree(string $d): void
{
	if (!is_dir($d) || is_link($d)) {
		@unlink($d);
		return;
	}
	foreach (scandir($d) as $f)
		if ($f !== '.' && $f !== '..')
			rmtree("$d/$f");
	@rmdir($d);
}

/* n distinct comments of 4 words from $words, in a fixed order. */
function comments(array $words, int $n): array
{
	$out = [];
	$k = count($words);
	for ($a = 0; $a < $k; $a++)
		for ($b = $a + 1; $b < $k; $b++)
			for ($c = $b + 1; $c < $k; $c++)
				for ($d = $c + 1; $d < $k; $d++)
					$out[] = "{$words[$a]} {$words[$d]} {$words[$b]} {$words[$c]}";
	$picked = [];
	for ($i = 0; count($picked) < $n; $i += 5)
		$picked[] = $out[$i % count($out)];
	return $picked;
}

const SPAM_WORDS = ['cheap', 'pills', 'casino', 'viagra', 'lottery', 'winner', 'prize', 'bitcoin',
                    'jackpot', 'discount'];
const HAM_WORDS = ['lovely', 'article', 'thanks', 'recipe', 'garden', 'kitten', 'weather', 'poetry',
                   'museum', 'violin'];
const SPAM_TEXT = 'cheap viagra pills casino jackpot winner';
const HAM_TEXT = 'thanks for the lovely recipe from the garden';

function run(array $argv): string
{
	$cmd = implode(' ', array_map('escapeshellarg', $argv)) . ' 2>&1';
	exec($cmd, $out, $rc);
	if ($rc !== 0)
		throw new \RuntimeException("$cmd: exit $rc: " . implode("\n", $out));
	return implode("\n", $out);
}

/* A database in a new temporary folder: empty, trained on the fixture. */
function make_db(): string
{
	$dir = tmpdir();
	$db = "$dir/db";
	$tsv = "$dir/fixture.tsv";
	$lines = '';
	foreach (comments(SPAM_WORDS, 40) as $t)
		$lines .= "spam\t$t\n";
	foreach (comments(HAM_WORDS, 40) as $t)
		$lines .= "ham\t$t\n";
	file_put_contents($tsv, $lines);
	run([getenv('THRESH_BIN'), '--db', $db, 'init', '--empty']);
	run([getenv('THRESH_BIN'), '--db', $db, 'train', '--tsv', $tsv]);
	return $db;
}

$GLOBALS['author'] = 0;
/* A new author each time, so no rate limit or author record interferes. */
function email(): string
{
	return 'author' . (++$GLOBALS['author']) . '@example.org';
}
