<?php
/*
 * Tests of the WordPress plugin plugin/wordpress/thresh/ inside a real
 * WordPress (Debian's `wordpress` package, 6.1), loaded by its own
 * wp-settings.php with the plugin active, and driven through WordPress's own
 * functions: comments are posted with wp_handle_comment_submission() (what
 * wp-comments-post.php calls), moderated with wp_spam_comment(),
 * wp_unspam_comment() and wp_set_comment_status() (what the Spam, Not Spam
 * and Approve links call).
 *
 * No MySQL: WordPress's database layer is replaced by the drop-in
 * tests/plugins/wp/db.php (an in-memory wpdb that understands the queries of
 * these paths). Everything above wpdb is WordPress's own code.
 *
 *     THRESH_LIB=... THRESH_BIN=... [THRESH_WP_DIR=/usr/share/wordpress] php tests/plugins/test_wordpress.php
 *
 * THRESH_WP_DIR is the WordPress folder (default /usr/share/wordpress, where
 * `apt-get install wordpress` puts it; or unpack the package anywhere with
 * `apt-get download wordpress && dpkg-deb -x wordpress_*.deb DIR` and use
 * DIR/usr/share/wordpress). Without it the test is skipped (exit 77).
 * Prints "N passed, N failed".
 */
declare(strict_types=1);

require __DIR__ . '/lib.php';
need_env();

$thresh_wp_dir = rtrim(getenv('THRESH_WP_DIR') ?: '/usr/share/wordpress', '/');
if (!is_file("$thresh_wp_dir/wp-settings.php")) {
	echo "skipped: no WordPress at $thresh_wp_dir (set THRESH_WP_DIR)\n";
	exit(SKIP);
}

/* ---- a site: a folder of links to WordPress's files, our own wp-content ---- */

$thresh_tmp = tmpdir();
$thresh_site = "$thresh_tmp/site";
mkdir($thresh_site);
foreach (scandir($thresh_wp_dir) as $f)
	if ($f[0] !== '.' && $f !== 'wp-content')
		symlink("$thresh_wp_dir/$f", "$thresh_site/$f");
mkdir("$thresh_site/wp-content/plugins", 0700, true);
copy(__DIR__ . '/wp/db.php', "$thresh_site/wp-content/db.php");
symlink(realpath(__DIR__ . '/../../plugin/wordpress/thresh'), "$thresh_site/wp-content/plugins/thresh");
$thresh_db = make_db();
$thresh_log = "$thresh_tmp/php-error.log";
ini_set('error_log', $thresh_log);
ini_set('log_errors', '1');

define('ABSPATH', "$thresh_site/");
define('DISABLE_WP_CRON', true);
define('WP_DEBUG', false);
$table_prefix = 'wp_';
$_SERVER += ['HTTP_HOST' => 'blog.example.org', 'SERVER_NAME' => 'blog.example.org', 'REQUEST_URI' => '/',
             'REQUEST_METHOD' => 'POST', 'SERVER_PROTOCOL' => 'HTTP/1.1', 'REMOTE_ADDR' => '192.0.2.1',
             'HTTP_USER_AGENT' => 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0'];

$thresh_test_seed = function (Thresh_Test_DB $db) use ($thresh_db) {
	$roles = [
		'administrator' => ['name' => 'Administrator', 'capabilities' => ['read' => true, 'moderate_comments' => true,
		                    'manage_options' => true, 'edit_posts' => true, 'edit_others_posts' => true]],
		'subscriber' => ['name' => 'Subscriber', 'capabilities' => ['read' => true]],
	];
	$options = [
		'siteurl' => 'http://blog.example.org', 'home' => 'http://blog.example.org', 'blogname' => 'Test blog',
		'active_plugins' => serialize(['thresh/thresh.php']), 'template' => '', 'stylesheet' => '',
		'db_version' => '53496', 'blog_charset' => 'UTF-8', 'timezone_string' => 'UTC', 'gmt_offset' => '0',
		'permalink_structure' => '', 'WPLANG' => '', 'wp_user_roles' => serialize($roles),
		'default_role' => 'subscriber',
		// Discussion settings: WordPress itself holds nothing, so thresh's verdicts show
		'comment_moderation' => '0', 'comment_previously_approved' => '0', 'comment_max_links' => '10',
		'moderation_keys' => '', 'disallowed_keys' => '', 'require_name_email' => '1',
		'comment_registration' => '0', 'close_comments_for_old_posts' => '0', 'thread_comments' => '1',
		'moderation_notify' => '0', 'comments_notify' => '0', 'show_comments_cookies_opt_in' => '0',
		// the plugin's settings
		'thresh_db_dir' => $thresh_db, 'thresh_lib_path' => getenv('THRESH_LIB'),
	];
	foreach ($options as $k => $v)
		$db->insert('options', ['option_name' => $k, 'option_value' => $v, 'autoload' => 'yes']);
	$db->insert('users', ['ID' => 1, 'user_login' => 'admin', 'user_pass' => '', 'user_nicename' => 'admin',
	                      'user_email' => 'admin@blog.example.org', 'user_url' => '', 'user_registered' => '2024-01-01 00:00:00',
	                      'user_activation_key' => '', 'user_status' => '0', 'display_name' => 'Admin']);
	$db->insert('usermeta', ['user_id' => 1, 'meta_key' => 'wp_capabilities', 'meta_value' => serialize(['administrator' => true])]);
	$db->insert('usermeta', ['user_id' => 1, 'meta_key' => 'wp_user_level', 'meta_value' => '10']);
	$db->insert('posts', ['ID' => 1, 'post_author' => 1, 'post_date' => '2024-01-01 00:00:00',
	                      'post_date_gmt' => '2024-01-01 00:00:00', 'post_content' => 'Hello', 'post_title' => 'Hello world',
	                      'post_excerpt' => '', 'post_status' => 'publish', 'comment_status' => 'open',
	                      'ping_status' => 'open', 'post_password' => '', 'post_name' => 'hello-world', 'to_ping' => '',
	                      'pinged' => '', 'post_modified' => '2024-01-01 00:00:00', 'post_modified_gmt' => '2024-01-01 00:00:00',
	                      'post_content_filtered' => '', 'post_parent' => 0, 'guid' => 'http://blog.example.org/?p=1',
	                      'menu_order' => 0, 'post_type' => 'post', 'post_mime_type' => '', 'comment_count' => 0]);
};

require ABSPATH . 'wp-settings.php';

/* ---- helpers ---- */

$GLOBALS['ip'] = 10;
/* Post a comment the way wp-comments-post.php does; returns the WP_Comment
 * or the WP_Error. Each comment comes from a new IP and e-mail address unless
 * given. */
function submit(string $text, array $more = []): WP_Comment|WP_Error
{
	$_SERVER['REMOTE_ADDR'] = $more['ip'] ?? '198.51.100.' . (++$GLOBALS['ip']);
	unset($more['ip']);
	$r = wp_handle_comment_submission($more + ['comment_post_ID' => 1, 'comment' => $text,
		'author' => 'Commenter ' . $GLOBALS['ip'], 'email' => email(), 'url' => '']);
	return $r;
}

function status(WP_Comment|WP_Error $c): string
{
	return $c instanceof WP_Error ? 'WP_Error:' . $c->get_error_code() : (string)get_comment($c->comment_ID)->comment_approved;
}

/* The score thresh gives $text now (through the plugin's own handle: LMDB
 * does not allow a second handle on the same folder in one process). */
function score(string $text): float
{
	return Thresh_WP::db()->check(['content' => $text, 'email' => email()])->score;
}

/* [spam, ham] comments learned, read by the thresh command (another
 * process, so LMDB's one-handle-per-process rule is kept). */
function learned(): array
{
	$j = json_decode(run([getenv('THRESH_BIN'), '--db', $GLOBALS['thresh_db'], 'stats', '--json']), true);
	return [(int)$j['spam_messages'], (int)$j['ham_messages']];
}

function log_text(): string
{
	global $thresh_log;
	return is_file($thresh_log) ? (string)file_get_contents($thresh_log) : '';
}

/* ---- tests ---- */

test('WordPress loaded with the plugin active', function () {
	global $wp_version;
	ok(version_compare($wp_version, '5.5', '>='), "WordPress $wp_version");
	ok(in_array('thresh/thresh.php', (array)get_option('active_plugins'), true), 'plugin active');
	ok(class_exists('Thresh_WP'), 'plugin loaded by WordPress');
	eq(has_filter('pre_comment_approved', [Thresh_WP::class, 'pre_comment_approved']), 20, 'filter priority');
	eq(has_action('transition_comment_status', [Thresh_WP::class, 'transition_comment_status']), 10, 'learning hook');
	ok(Thresh_WP::db() instanceof Thresh\Database, 'database opened from the options');
});

test('decisions: ham approved, spam to spam, hold held', function () {
	$c = submit(HAM_TEXT);
	eq(status($c), '1', 'ham approved');
	$meta = get_comment_meta($c->comment_ID, '_thresh_result', true);
	eq($meta['verdict'] ?? null, 'accept', 'verdict kept in comment meta');

	$c = submit(SPAM_TEXT);
	eq(status($c), 'spam', 'spam marked as spam');
	$meta = get_comment_meta($c->comment_ID, '_thresh_result', true);
	eq($meta['verdict'] ?? null, 'reject', 'reject in meta');
	ok(in_array('bayes', $meta['reasons'] ?? [], true), 'reasons in meta');

	// two links: thresh's hold_links rule holds it
	$c = submit(HAM_TEXT . ' <a href="http://a.example.org/">a</a> <a href="http://b.example.org/">b</a>');
	eq(status($c), '0', 'held for moderation');
	ok(in_array('too_many_links', get_comment_meta($c->comment_ID, '_thresh_result', true)['reasons'] ?? [], true),
	   'too_many_links in meta');
});

test('fields passed: content, author, e-mail, URL, IP, agent, type, permalink', function () {
	$seen = null;
	$spy = function ($fields) use (&$seen) {
		$seen = $fields;
		return $fields;
	};
	add_filter('thresh_fields', $spy);
	submit("It's \"quoted\" and back\\slashed", ['url' => 'https://reader.example.org/', 'ip' => '203.0.113.9']);
	remove_filter('thresh_fields', $spy);
	eq($seen['comment_content'] ?? null, "It's \"quoted\" and back\\slashed", 'content unslashed');
	ok(str_starts_with($seen['comment_author'] ?? '', 'Commenter '), 'author');
	ok(str_ends_with($seen['comment_author_email'] ?? '', '@example.org'), 'email');
	eq($seen['comment_author_url'] ?? null, 'https://reader.example.org/', 'url');
	eq($seen['user_ip'] ?? null, '203.0.113.9', 'ip');
	ok(str_contains($seen['user_agent'] ?? '', 'Firefox'), 'agent');
	eq($seen['comment_type'] ?? null, 'comment', 'type');
	eq($seen['permalink'] ?? null, get_permalink(1), 'permalink');
});

test('learning from Spam and Not Spam', function () {
	$new = 'zorblax frobnicate quuxly wibblefest';
	$before = score($new);
	$ids = $was = [];
	for ($i = 0; $i < 6; $i++) {
		$c = submit("$new offer$i");
		ok($c instanceof WP_Comment && status($c) !== 'spam', "unknown words not spam at first ($i)");
		$ids[] = (int)$c->comment_ID;
		$was[(int)$c->comment_ID] = status($c);
	}
	[$spam0, $ham0] = learned();
	foreach ($ids as $id)
		ok(wp_spam_comment($id), "wp_spam_comment($id)");
	eq(learned(), [$spam0 + 6, $ham0], 'Spam learned six spam');
	$spammy = score($new);
	ok($spammy > $before, "learned spam: score $before -> $spammy");
	eq(status(submit("$new offer99")), 'spam', 'a similar comment is now spam');

	foreach ($ids as $id)
		ok(wp_unspam_comment($id), "wp_unspam_comment($id)");
	eq(learned(), [$spam0, $ham0 + 6], 'Not Spam moved the six from spam to ham');
	foreach ($ids as $id)
		eq(status(get_comment($id)), $was[$id], "comment $id restored to its status before Spam");
	$hammy = score($new);
	ok($hammy < $before, "Not Spam learned ham and moved the spam learn: $spammy -> $hammy (start $before)");
	ok(status(submit("$new offer98")) !== 'spam', 'a similar comment is no longer spam');
});

test('approving a held comment learns ham; trash teaches nothing', function () {
	$new = 'glimmerwick thistledown saffronade';
	$c = submit("$new <a href=\"http://a.example.org/\">a</a> <a href=\"http://b.example.org/\">b</a>");
	eq(status($c), '0', 'held (two links)');
	[$spam0, $ham0] = learned();
	ok(wp_set_comment_status($c->comment_ID, 'approve'), 'approved by the moderator');
	eq(learned(), [$spam0, $ham0 + 1], 'learned one ham');
	ok(wp_trash_comment($c->comment_ID), 'trashed');
	eq(learned(), [$spam0, $ham0 + 1], 'trash learned nothing');
	ok(wp_untrash_comment($c->comment_ID), 'untrashed');
	eq(learned(), [$spam0, $ham0 + 1], 'untrash learned nothing');
	$f = fn() => false;
	add_filter('thresh_learn_approved', $f);
	$d = submit("$new again <a href=\"http://a.example.org/\">a</a> <a href=\"http://b.example.org/\">b</a>");
	wp_set_comment_status($d->comment_ID, 'approve');
	remove_filter('thresh_learn_approved', $f);
	eq(learned(), [$spam0, $ham0 + 1], 'thresh_learn_approved false: approving learns nothing');
	// a comment marked spam from the held queue, then deleted: spam learned once
	$e = submit("$new spammy <a href=\"http://a.example.org/\">a</a> <a href=\"http://b.example.org/\">b</a>");
	ok(wp_spam_comment($e->comment_ID), 'held comment marked spam');
	ok(wp_delete_comment($e->comment_ID, true), 'deleted for good');
	eq(learned(), [$spam0 + 1, $ham0 + 1], 'spam learned, delete learned nothing');
});

test('thresh never learns from its own verdicts', function () {
	$new = 'plumbago marmoset quillwort';
	$s0 = score($new);
	$l0 = learned();
	// a comment thresh itself marks as spam (honeypot via the thresh_fields filter)
	$hp = fn($f) => $f + ['honeypot' => 'http://bot.example'];
	add_filter('thresh_fields', $hp);
	$c = submit($new);
	remove_filter('thresh_fields', $hp);
	eq(status($c), 'spam', 'honeypot (through thresh_fields) is spam');
	ok(get_comment_meta($c->comment_ID, '_thresh_result', true)['blatant'] ?? false, 'blatant in meta');
	eq(learned(), $l0, 'not learned');
	ok(abs(score($new) - $s0) < 1e-12, 'score unchanged');
});

test('stricter wins: WordPress\'s own holds and spam are kept', function () {
	update_option('comment_moderation', '1'); // "Comment must be manually approved"
	eq(status(submit(HAM_TEXT . ' too')), '0', 'thresh accepts, WordPress holds: held');
	update_option('comment_moderation', '0');
	update_option('disallowed_keys', 'rhubarb');
	$c = submit(HAM_TEXT . ' with rhubarb');
	eq(status($c), EMPTY_TRASH_DAYS ? 'trash' : 'spam', 'WordPress\'s disallowed list kept');
	eq(get_comment_meta($c->comment_ID, '_thresh_result', true), '', 'thresh not asked');
	update_option('disallowed_keys', '');
});

test('comments of moderators are not checked', function () {
	wp_set_current_user(1);
	$c = wp_handle_comment_submission(['comment_post_ID' => 1, 'comment' => SPAM_TEXT . ' admin']);
	wp_set_current_user(0);
	eq(status($c), '1', 'the admin\'s comment stays approved');
	eq(get_comment_meta($c->comment_ID, '_thresh_result', true), '', 'thresh not asked');
});

test('rate limit from one e-mail', function () {
	// WordPress's own flood check (15 s per IP or e-mail) would answer first;
	// take it away to see thresh's limit (5 a minute, burst 3).
	remove_filter('wp_is_comment_flood', 'wp_check_comment_flood', 10);
	$email = email();
	$got = [];
	for ($i = 0; $i < 4; $i++)
		$got[] = submit(HAM_TEXT . " number $i", ['email' => $email]);
	add_filter('wp_is_comment_flood', 'wp_check_comment_flood', 10, 5);
	eq(array_map('status', array_slice($got, 0, 3)), ['1', '1', '1'], 'three approved');
	eq(status($got[3]), 'spam', 'the fourth is spam');
	ok(in_array('rate_limited', get_comment_meta($got[3]->comment_ID, '_thresh_result', true)['reasons'] ?? [], true),
	   'rate_limited in meta');
});

test('fail open: database missing', function () {
	$logged = strlen(log_text());
	update_option('thresh_db_dir', '/nonexistent/thresh');
	Thresh_WP::reset();
	eq(status(submit(SPAM_TEXT . ' one')), '1', 'WordPress\'s decision (approve) unchanged');
	update_option('comment_moderation', '1');
	eq(status(submit(SPAM_TEXT . ' two')), '0', 'WordPress\'s decision (hold) unchanged');
	update_option('comment_moderation', '0');
	$log = substr(log_text(), $logged);
	ok(str_contains($log, 'thresh:') && str_contains($log, '/nonexistent/thresh'), "logged: $log");
	eq(preg_match_all('/^\[[^]]*\] thresh: /m', $log), 1, 'logged once per request');
	$c = submit(HAM_TEXT . ' three');
	ok(wp_spam_comment($c->comment_ID), 'moderation still works without thresh');
	update_option('thresh_db_dir', $GLOBALS['thresh_db']);
	Thresh_WP::reset();
});

test('fail open: library missing', function () {
	$logged = strlen(log_text());
	update_option('thresh_lib_path', '/nonexistent/libthresh.so.0');
	Thresh_WP::reset();
	eq(status(submit(SPAM_TEXT . ' four')), '1', 'WordPress\'s decision unchanged');
	ok(str_contains(substr(log_text(), $logged), 'libthresh'), 'logged');
	update_option('thresh_lib_path', getenv('THRESH_LIB'));
	Thresh_WP::reset();
	eq(status(submit(SPAM_TEXT . ' five')), 'spam', 'back in use');
});

test('fail open: a check error', function () {
	$logged = strlen(log_text());
	$bad = fn($f) => $f + ['no_such_field' => 'x'];
	add_filter('thresh_fields', $bad);
	eq(status(submit(SPAM_TEXT . ' six')), '1', 'WordPress\'s decision unchanged');
	remove_filter('thresh_fields', $bad);
	ok(str_contains(substr(log_text(), $logged), 'no_such_field'), 'logged with the field');
});

test('settings page', function () {
	require_once ABSPATH . 'wp-admin/includes/template.php';
	require_once ABSPATH . 'wp-admin/includes/plugin.php';
	require_once ABSPATH . 'wp-admin/includes/misc.php';
	Thresh_WP::admin_init();
	$reg = get_registered_settings();
	ok(isset($reg['thresh_db_dir'], $reg['thresh_lib_path']), 'options registered');
	eq(Thresh_WP::sanitize_path("  /srv/thresh \n"), '/srv/thresh', 'sanitize trims');
	wp_set_current_user(1);
	ob_start();
	Thresh_WP::settings_page();
	$html = ob_get_clean();
	wp_set_current_user(0);
	ok(str_contains($html, 'comments are checked'), 'status: in use');
	ok(str_contains($html, 'name="thresh_db_dir"') && str_contains($html, 'name="thresh_lib_path"'), 'the two fields');
	ok(str_contains($html, 'action="options.php"'), 'posts to options.php');
	eq(Thresh_WP::db_dir(), $GLOBALS['thresh_db'], 'db_dir from the option');
	update_option('thresh_db_dir', '');
	eq(Thresh_WP::db_dir(), WP_CONTENT_DIR . '/thresh', 'default WP_CONTENT_DIR/thresh');
	update_option('thresh_db_dir', $GLOBALS['thresh_db']);
});

test('a database folder under the web root is protected', function () {
	$dir = WP_CONTENT_DIR . '/thresh';
	run([getenv('THRESH_BIN'), '--db', $dir, 'init', '--empty']);
	ok(!Thresh_WP::web_reachable($GLOBALS['thresh_db']), 'the fixture folder is outside');
	ok(Thresh_WP::web_reachable($dir), 'WP_CONTENT_DIR/thresh is under the web root');
	update_option('thresh_db_dir', '');        // the default: WP_CONTENT_DIR/thresh
	Thresh_WP::reset();
	ok(submit(HAM_TEXT . ' protected') instanceof WP_Comment, 'a comment checked');
	ok(Thresh_WP::db() instanceof Thresh\Database, 'the default folder is in use');
	ok(str_contains((string)@file_get_contents("$dir/.htaccess"), 'Require all denied'), 'deny-all .htaccess written');
	ok(!file_exists($GLOBALS['thresh_db'] . '/.htaccess'), 'none outside the web root');
	require_once ABSPATH . 'wp-admin/includes/template.php';
	require_once ABSPATH . 'wp-admin/includes/misc.php';
	wp_set_current_user(1);
	ob_start();
	Thresh_WP::settings_page();
	$html = ob_get_clean();
	wp_set_current_user(0);
	ok(str_contains($html, 'is under the web root'), 'the settings page warns');
	update_option('thresh_db_dir', $GLOBALS['thresh_db']);
	Thresh_WP::reset();
	ok(Thresh_WP::db() instanceof Thresh\Database, 'back to the fixture');
});

test('the database drop-in understood every query but the two known', function () {
	global $wpdb;
	$left = array_filter($wpdb->unknown, fn($q) =>
		!str_contains($q, 'AND comment_approved != \'trash\' AND ( comment_author =')   // duplicate check
		&& !str_contains($q, 'SELECT `comment_date_gmt` FROM'));                     // flood check
	eq(array_values(array_unique($left)), [], 'unknown queries');
});

Thresh_WP::reset();
finish();
