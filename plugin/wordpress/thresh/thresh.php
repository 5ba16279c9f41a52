<?php
/**
 * Plugin Name:       Thresh
 * Plugin URI:        https://github.com/thresh/thresh
 * Description:       Self-hosted comment spam filter: every new comment is checked by thresh (naive Bayes trained on your own moderation, rate limiting, site rules) and approved, held or marked as spam. Learns from your "Spam" and "Not Spam" actions. No comment leaves your server.
 * Version:           0.1.0
 * Requires at least: 5.5
 * Requires PHP:      8.1
 * License:           MIT
 * Text Domain:       thresh
 *
 * Needs libthresh (the library) on the server, PHP's FFI extension allowed
 * for the web server's PHP, and a database folder made with
 * `thresh --db DIR init` that the web server's user can write. See
 * readme.txt and README.md beside this file.
 *
 * The library is libthresh.so.0 from the dynamic linker's path, or the file
 * the constant THRESH_LIB_PATH names (define it in wp-config.php): never a
 * setting of the admin screens, since whoever chooses it chooses code the
 * web server runs. Only users who may moderate comments (moderate_comments)
 * teach the model.
 *
 * It offers to learn the site's history once, approved comments as ham and
 * those in Spam as spam (history.php).
 *
 * When the library, FFI or the database is missing, or the web server
 * serves the database folder, comments are left to WordPress's own settings
 * (nothing is approved by thresh) and the reason is written with error_log()
 * once per request and shown on Settings > Thresh.
 */

if (!defined('ABSPATH'))
	exit;

final class Thresh_WP
{
	const OPTION_DIR = 'thresh_db_dir';
	/* the library's path, a setting until 0.1.0: ignored now (library()) */
	const OPTION_OLD_LIB = 'thresh_lib_path';
	const LIB_CONSTANT = 'THRESH_LIB_PATH';
	const LIB_DEFAULT = 'libthresh.so.0';
	/* who teaches the model (transition_comment_status) */
	const TEACHER_CAP = 'moderate_comments';
	const OPTION_DISCARD = 'thresh_discard_blatant';
	const OPTION_DISCARDED = 'thresh_discarded_count';
	/* whether the web server serves the database folder: the last probe */
	const OPTION_WEB_CHECK = 'thresh_web_check';
	const META = '_thresh_result';
	/* the honeypot: a field people never see, so never fill */
	const HONEYPOT = 'thresh_hp';
	/* libthresh's limits (thresh/comment.h): THRESH_CONTENT_MAX bytes of
	 * content, THRESH_FIELD_MAX of any other field */
	const CONTENT_MAX = 65536;
	const FIELD_MAX = 4096;

	/** @var Thresh\Database|null|false  null: not opened yet; false: failed in this request */
	private static $db = null;
	/** @var Thresh\Result|null  the result of the last check, for comment_post */
	private static $last = null;
	/** @var string  why thresh cannot be used in this request ('' when it can) */
	private static $error = '';

	public static function init(): void
	{
		// Late (priority 20), so that WordPress's own spam decision (the
		// disallowed list) and other plugins come first.
		add_filter('pre_comment_approved', [self::class, 'pre_comment_approved'], 20, 2);
		add_action('comment_post', [self::class, 'comment_post'], 10, 3);
		add_action('transition_comment_status', [self::class, 'transition_comment_status'], 10, 3);
		add_action('admin_init', [self::class, 'admin_init']);
		add_action('admin_menu', [self::class, 'admin_menu']);
		add_action('admin_notices', [self::class, 'old_library_notice']);
		add_action('admin_post_thresh_forget_lib_path', [self::class, 'forget_old_library']);
		add_action('comment_form_after_fields', [self::class, 'honeypot_field']);
		add_action('comment_form_logged_in_after', [self::class, 'honeypot_field']);
	}

	/* The honeypot field of the comment form: hidden from people (and from
	 * screen readers and the tab order), filled by bots that fill every
	 * field. A filled honeypot is blatant spam. */
	public static function honeypot_field(): void
	{
		printf('<p style="display:none" aria-hidden="true"><label for="%1$s">Leave this empty</label>'
			. '<textarea name="%1$s" id="%1$s" tabindex="-1" autocomplete="off"></textarea></p>',
			esc_attr(self::HONEYPOT));
	}

	/* Discard blatant spam (the option, on by default)? */
	public static function discard_blatant(): bool
	{
		return (string)get_option(self::OPTION_DISCARD, '1') === '1';
	}

	/* The database folder: the option, else WP_CONTENT_DIR/thresh. */
	public static function db_dir(): string
	{
		$dir = (string)get_option(self::OPTION_DIR, '');
		return $dir !== '' ? $dir : WP_CONTENT_DIR . '/thresh';
	}

	/* The library: the file THRESH_LIB_PATH names (wp-config.php), else
	 * libthresh.so.0 from the dynamic linker's path. Nothing stored in the
	 * database decides it: an option would let any user with manage_options
	 * (on a multisite network, each site's admin) load a shared object of
	 * their choosing into the web server. */
	public static function library(): string
	{
		return self::library_constant() ?? self::LIB_DEFAULT;
	}

	/* THRESH_LIB_PATH when it is defined as a path, else null. */
	private static function library_constant(): ?string
	{
		$v = defined(self::LIB_CONSTANT) ? constant(self::LIB_CONSTANT) : null;
		return is_string($v) && $v !== '' ? $v : null;
	}

	/* Where library() came from, for the admin screens. */
	public static function library_source(): string
	{
		return self::library_constant() !== null ? self::LIB_CONSTANT . ' in wp-config.php'
			: 'the dynamic linker\'s path';
	}

	/* The open database, or null (logged) when thresh cannot be used. */
	public static function db(): ?Thresh\Database
	{
		if (self::$db === null) {
			try {
				self::load_class();
				$dir = self::db_dir();
				$db = new Thresh\Database($dir, ['library' => self::library()]);
				try {
					self::protect($dir);
				} catch (Throwable $e) {
					$db->close();
					throw $e;
				}
				self::$db = $db;
				self::$error = '';
			} catch (Throwable $e) {
				self::$db = false;
				self::$error = $e->getMessage();
				error_log('thresh: ' . $e->getMessage() . ' - comments are left to WordPress\'s settings');
			}
		}
		return self::$db ?: null;
	}

	/* Why thresh cannot be used in this request, after db() returned null. */
	public static function error(): string
	{
		return self::$error;
	}

	/* Forget the open database (after the settings changed; tests). */
	public static function reset(): void
	{
		if (self::$db)
			self::$db->close();
		self::$db = null;
		self::$last = null;
	}

	/* True when $dir lies under WordPress's folder or wp-content, which a web
	 * server may serve as files: the identity secret, the model and
	 * thresh.conf must never be downloadable. */
	public static function web_reachable(string $dir): bool
	{
		$real = realpath($dir);
		if ($real === false)
			return false;
		foreach ([ABSPATH, WP_CONTENT_DIR] as $web) {
			$web = realpath($web);
			if ($web !== false && str_starts_with($real . '/', rtrim($web, '/') . '/'))
				return true;
		}
		return false;
	}

	/* The URL the web server serves $dir at (under WP_CONTENT_DIR or ABSPATH),
	 * or null. */
	public static function web_url(string $dir): ?string
	{
		$real = realpath($dir);
		if ($real === false)
			return null;
		foreach ([[WP_CONTENT_DIR, 'content_url'], [ABSPATH, 'site_url']] as [$root, $url]) {
			$web = realpath($root);
			if ($web !== false && str_starts_with($real . '/', rtrim($web, '/') . '/'))
				return rtrim($url(ltrim(substr($real, strlen(rtrim($web, '/'))), '/')), '/');
		}
		return null;
	}

	/* A database folder under the web root gets a deny-all .htaccess, which
	 * only an Apache that reads .htaccess files there obeys (not one with
	 * AllowOverride None, as Debian's examples have it, nor nginx). So the
	 * web server is then asked for a file put there (web_check()); a folder
	 * it serves is not used: anyone could download the model, the secret and
	 * the hashed e-mail and IP addresses. */
	private static function protect(string $dir): void
	{
		if (!self::web_reachable($dir))
			return;
		$ht = rtrim($dir, '/') . '/.htaccess';
		if (!file_exists($ht)
		    && @file_put_contents($ht, "# thresh: never serve the database, its secret or thresh.conf\nRequire all denied\n") === false)
			error_log("thresh: $dir is under the web root and $ht could not be written: keep the web server from serving it");
		$check = self::web_check($dir);
		if ($check['served'] === true)
			throw new RuntimeException(sprintf('the database folder %s is under the web root and the web server '
				. 'serves its files (%s answered with a file put there), so anyone could download the model, '
				. 'its secret and the hashed addresses: thresh does not use it. Move it outside the web root '
				. '(for instance /var/lib/thresh), or deny it in the web server\'s configuration', $dir, $check['url']));
	}

	/**
	 * Does the web server serve the files of $dir? One request (to this site
	 * itself, as WordPress's Site Health makes them) for a file with a random
	 * name and content put there and removed after. Returns ['dir', 'url',
	 * 'served' => true|false|null (null: could not tell), 'status', 'time'],
	 * kept in the option thresh_web_check; asked again after a day, for
	 * another folder, or with $fresh (the settings page).
	 */
	public static function web_check(string $dir, bool $fresh = false): array
	{
		$c = get_option(self::OPTION_WEB_CHECK);
		if (!$fresh && is_array($c) && ($c['dir'] ?? null) === $dir && (int)($c['time'] ?? 0) > time() - DAY_IN_SECONDS)
			return $c;
		$c = ['dir' => $dir, 'url' => self::web_url($dir), 'served' => null, 'status' => '', 'time' => time()];
		$name = 'thresh-web-check-' . wp_generate_password(16, false);
		$token = wp_generate_password(32, false);
		$file = rtrim($dir, '/') . '/' . $name;
		if ($c['url'] === null) {
			$c['status'] = 'no URL for the folder';
		} elseif (@file_put_contents($file, $token) === false) {
			$c['status'] = 'cannot write a file there';
		} else {
			$r = wp_remote_get($c['url'] . '/' . $name, ['timeout' => 5, 'redirection' => 0,
				'limit_response_size' => 4096, 'sslverify' => apply_filters('https_local_ssl_verify', false)]);
			@unlink($file);
			if (is_wp_error($r)) {
				$c['status'] = $r->get_error_message();
			} else {
				$code = (int)wp_remote_retrieve_response_code($r);
				$c['status'] = "HTTP $code";
				$c['served'] = $code === 200 && wp_remote_retrieve_body($r) === $token;
			}
		}
		update_option(self::OPTION_WEB_CHECK, $c, false);
		return $c;
	}

	private static function load_class(): void
	{
		if (class_exists('Thresh\\Database', false))
			return;
		if (!extension_loaded('ffi'))
			throw new RuntimeException('PHP\'s FFI extension is not loaded');
		// The copy installed beside this file, else the source tree's.
		foreach ([__DIR__ . '/Thresh.php', dirname(__DIR__, 2) . '/php/Thresh.php'] as $file) {
			if (is_readable($file)) {
				require_once $file;
				return;
			}
		}
		throw new RuntimeException('Thresh.php not found: copy plugin/php/Thresh.php to ' . __DIR__);
	}

	/**
	 * The thresh fields of a comment: from $commentdata (an array, slashed as
	 * wp_new_comment() passes it) or from a stored WP_Comment.
	 */
	public static function fields($comment, bool $slashed = false): array
	{
		$c = is_object($comment) ? get_object_vars($comment) : (array)$comment;
		if ($slashed)
			$c = wp_unslash($c);
		$post = (int)($c['comment_post_ID'] ?? 0);
		$fields = [
			'comment_content' => $c['comment_content'] ?? null,
			'comment_author' => $c['comment_author'] ?? null,
			'comment_author_email' => $c['comment_author_email'] ?? null,
			'comment_author_url' => $c['comment_author_url'] ?? null,
			'user_ip' => $c['comment_author_IP'] ?? null,
			'user_agent' => $c['comment_agent'] ?? null,
			'comment_type' => ($c['comment_type'] ?? '') !== '' ? $c['comment_type'] : 'comment',
			'permalink' => $post > 0 ? get_permalink($post) : null,
		];
		// for the comment being posted (not a stored one): the honeypot and
		// the Referer header
		if (!is_object($comment)) {
			if (isset($_POST[self::HONEYPOT]) && is_string($_POST[self::HONEYPOT]))
				$fields['honeypot'] = wp_unslash($_POST[self::HONEYPOT]);
			if (!empty($_SERVER['HTTP_REFERER']) && is_string($_SERVER['HTTP_REFERER']))
				$fields['referrer'] = $_SERVER['HTTP_REFERER'];
		}
		// What a visitor sends must not make the check fail, or any spammer
		// could skip thresh with a long or broken Referer header or honeypot.
		foreach ($fields as $k => $v)
			if (is_string($v))
				$fields[$k] = self::text($v, $k === 'comment_content' ? self::CONTENT_MAX : self::FIELD_MAX);
		$fields = array_filter($fields, fn($v) => is_string($v) && $v !== '');
		/**
		 * Filters the fields thresh checks or learns (add 'honeypot', 'form_age',
		 * 'referrer' from your comment form, for instance).
		 *
		 * @param array        $fields   thresh field => value
		 * @param array|object $comment  $commentdata or the WP_Comment
		 */
		return apply_filters('thresh_fields', $fields, $comment);
	}

	/**
	 * A value as libthresh takes it: UTF-8 (converted from the blog's charset
	 * when that is another; a sequence that is not UTF-8 becomes U+FFFD),
	 * without NUL bytes, cut to at most $max bytes at a character boundary.
	 */
	public static function text(string $v, int $max): string
	{
		$charset = (string)get_option('blog_charset');
		if ($charset !== '' && !preg_match('/^utf-?8$/i', $charset) && function_exists('iconv')) {
			$u = @iconv($charset, 'UTF-8//IGNORE', $v);
			if (is_string($u))
				$v = $u;
		}
		if (!preg_match('//u', $v))
			$v = htmlspecialchars_decode(htmlspecialchars($v, ENT_NOQUOTES | ENT_SUBSTITUTE, 'UTF-8'),
			                             ENT_NOQUOTES);
		$v = str_replace("\0", '', $v);
		if (strlen($v) > $max) {
			$cut = $max;
			while ($cut > 0 && (ord($v[$cut]) & 0xC0) === 0x80)
				$cut--;
			$v = substr($v, 0, $cut);
		}
		return $v;
	}

	/**
	 * pre_comment_approved: thresh's verdict decides, the stricter one wins.
	 *   reject, blatant -> discarded: never stored (the visitor is sent back
	 *             to the post, as Akismet's "discard" does), when the option
	 *             "Discard blatant spam" is on (the default) and the visitor
	 *             is not logged in; over the REST API, a WP_Error
	 *   reject -> 'spam'
	 *   hold   -> 0 (held for moderation)
	 *   accept -> 1, unless WordPress's own Discussion settings held it (0
	 *             stays 0: thresh never approves what the site owner asked
	 *             WordPress to hold)
	 * 'spam', 'trash' and WP_Error decided earlier (the disallowed list, other
	 * plugins) are kept; so are comments of users who may moderate comments.
	 * On any failure $approved is returned unchanged (fail open).
	 */
	public static function pre_comment_approved($approved, $commentdata)
	{
		self::$last = null;
		if (is_wp_error($approved) || $approved === 'spam' || $approved === 'trash')
			return $approved;
		$user = (int)($commentdata['user_id'] ?? 0);
		if ($user > 0 && user_can($user, 'moderate_comments'))
			return $approved;
		$db = self::db();
		if (!$db)
			return $approved;
		try {
			$r = $db->check(self::fields($commentdata, true));
		} catch (Throwable $e) {
			error_log('thresh: check failed: ' . $e->getMessage());
			return $approved;
		}
		self::$last = $r;
		if ($r->verdict === 'reject' && $r->blatant && self::discard_blatant() && !is_user_logged_in())
			return self::discard($commentdata);
		if ($r->verdict === 'reject')
			$decision = 'spam';
		elseif ($r->verdict === 'hold')
			$decision = 0;
		else
			$decision = ((string)$approved === '0') ? 0 : 1;
		/**
		 * Filters thresh's decision (1, 0 or 'spam').
		 *
		 * @param int|string     $decision     what thresh decided
		 * @param Thresh\Result  $result       verdict, score, blatant, retryAfter, reasons
		 * @param int|string     $approved     what WordPress had decided
		 * @param array          $commentdata  the comment
		 */
		return apply_filters('thresh_comment_approved', $decision, $r, $approved, $commentdata);
	}

	/* discard - blatant spam is not stored: counted, and the visitor sent
	 * back where the comment came from. */
	private static function discard($commentdata)
	{
		self::$last = null;
		update_option(self::OPTION_DISCARDED, (int)get_option(self::OPTION_DISCARDED, 0) + 1, false);
		/** Fires when thresh discards a blatant spam comment. */
		do_action('thresh_discarded', $commentdata);
		if ((defined('REST_REQUEST') && REST_REQUEST) || (defined('XMLRPC_REQUEST') && XMLRPC_REQUEST)
			|| wp_doing_ajax())
			return new WP_Error('thresh_discarded', __('Comment discarded.'), ['status' => 403]);
		$post = (int)($commentdata['comment_post_ID'] ?? 0);
		$to = wp_get_referer() ?: ($post > 0 ? get_permalink($post) : home_url());
		wp_safe_redirect(esc_url_raw($to));
		exit;
	}

	/* comment_post: keep the verdict and reasons in the comment's meta, for
	 * the moderator. */
	public static function comment_post($comment_id, $approved, $commentdata = []): void
	{
		$r = self::$last;
		self::$last = null;
		if (!$r)
			return;
		add_comment_meta((int)$comment_id, self::META, [
			'verdict' => $r->verdict,
			'score' => round($r->score, 4),
			'blatant' => $r->blatant,
			'reasons' => $r->reasons,
		], true);
	}

	/**
	 * transition_comment_status: learn from the moderator.
	 *   anything -> spam                     learn spam ("Spam", or status set to spam)
	 *   spam -> approved|unapproved          learn ham ("Not Spam"; this moves the spam learn)
	 *   unapproved -> approved               learn ham (a held comment approved)
	 * Deleting or trashing teaches nothing. Comments thresh itself marked as
	 * spam on arrival do not pass here, so thresh never learns from its own
	 * verdicts.
	 *
	 * Only a user who may moderate comments (moderate_comments: Editors and
	 * Administrators) teaches. WordPress also lets an Author approve or mark
	 * as spam the comments on their own posts (edit_comment), and code with
	 * no user (cron, a webhook, the REST API or WP-CLI without a user)
	 * change a status: the change stands, the model learns nothing, so that
	 * one Author cannot train the whole site's filter.
	 */
	public static function transition_comment_status($new, $old, $comment): void
	{
		if (!current_user_can(self::TEACHER_CAP))
			return;
		$label = null;
		if ($new === 'spam' && $old !== 'spam')
			$label = 'spam';
		elseif ($old === 'spam' && ($new === 'approved' || $new === 'unapproved'))
			$label = 'ham';
		elseif ($old === 'unapproved' && $new === 'approved')
			/** Filters whether approving a held comment teaches thresh it is ham (default true). */
			$label = apply_filters('thresh_learn_approved', true, $comment) ? 'ham' : null;
		if ($label === null || !is_object($comment))
			return;
		$db = self::db();
		if (!$db)
			return;
		try {
			$db->learn($label, self::fields($comment));
		} catch (Throwable $e) {
			error_log("thresh: learning comment {$comment->comment_ID} as $label failed: " . $e->getMessage());
		}
	}

	/* ---- settings: Settings > Thresh ---- */

	public static function admin_init(): void
	{
		register_setting('thresh', self::OPTION_DIR, ['type' => 'string', 'default' => '',
			'sanitize_callback' => [self::class, 'sanitize_path']]);
		register_setting('thresh', self::OPTION_DISCARD, ['type' => 'string', 'default' => '1',
			'sanitize_callback' => fn($v) => $v ? '1' : '0']);
		add_settings_section('thresh_main', '', '__return_null', 'thresh');
		add_settings_field(self::OPTION_DIR, 'Database folder', [self::class, 'field'], 'thresh', 'thresh_main',
			['name' => self::OPTION_DIR, 'placeholder' => WP_CONTENT_DIR . '/thresh',
			 'help' => 'Made with <code>thresh --db FOLDER init</code>; the web server must be able to write it.']);
		add_settings_field(self::OPTION_DISCARD, 'Blatant spam', [self::class, 'discard_field'], 'thresh',
			'thresh_main');
	}

	public static function discard_field(): void
	{
		printf('<input type="hidden" name="%1$s" value="0"><label><input type="checkbox" name="%1$s" id="%1$s" value="1"%2$s> '
			. 'Discard blatant spam (a filled honeypot, or a score past the blatant cutoff): it is never stored. '
			. '%3$d discarded so far.</label><p class="description">Off: it goes to the Spam folder like other spam.</p>',
			esc_attr(self::OPTION_DISCARD), checked(self::discard_blatant(), true, false),
			(int)get_option(self::OPTION_DISCARDED, 0));
	}

	/* admin_notices: a library path saved as the option thresh_lib_path
	 * (a setting until 0.1.0) is ignored; say so to those who could remove
	 * it, with a button that does. */
	public static function old_library_notice(): void
	{
		$old = get_option(self::OPTION_OLD_LIB, '');
		if (!is_string($old) || $old === '' || !current_user_can('manage_options'))
			return;
		printf('<div class="notice notice-warning"><p>Thresh: the library path saved in the option '
			. '<code>%1$s</code> (%2$s) is ignored: thresh loads %3$s from %4$s. To load libthresh from '
			. 'another file, define <code>%5$s</code> in wp-config.php.</p>'
			. '<form method="post" action="%6$s"><input type="hidden" name="action" value="thresh_forget_lib_path">%7$s'
			. '<p><button type="submit" class="button">Forget the old setting</button></p></form></div>',
			esc_html(self::OPTION_OLD_LIB), esc_html($old), esc_html(self::library()),
			esc_html(self::library_source()), esc_html(self::LIB_CONSTANT), esc_url(admin_url('admin-post.php')),
			wp_nonce_field('thresh_forget_lib_path', '_wpnonce', true, false));
	}

	/* admin-post.php?action=thresh_forget_lib_path: the notice's button. */
	public static function forget_old_library(): void
	{
		if (!current_user_can('manage_options'))
			wp_die('Sorry, you are not allowed to change Thresh\'s settings.', 403);
		check_admin_referer('thresh_forget_lib_path');
		delete_option(self::OPTION_OLD_LIB);
		wp_safe_redirect(admin_url('options-general.php?page=thresh'));
		exit;
	}

	public static function sanitize_path($value): string
	{
		$value = trim((string)$value);
		return str_contains($value, "\0") ? '' : $value;
	}

	public static function admin_menu(): void
	{
		add_options_page('Thresh', 'Thresh', 'manage_options', 'thresh', [self::class, 'settings_page']);
	}

	public static function field(array $a): void
	{
		printf('<input type="text" class="regular-text code" name="%1$s" id="%1$s" value="%2$s" placeholder="%3$s"><p class="description">%4$s</p>',
			esc_attr($a['name']), esc_attr((string)get_option($a['name'], '')), esc_attr($a['placeholder']), $a['help']);
	}

	public static function settings_page(): void
	{
		if (!current_user_can('manage_options'))
			return;
		self::reset();
		echo '<div class="wrap"><h1>Thresh</h1>';
		$dir = self::db_dir();
		// ask the web server again: its configuration may have changed
		if (self::web_reachable($dir))
			self::web_check($dir, true);
		$db = self::db();
		if ($db)
			printf('<div class="notice notice-success inline"><p>libthresh %s from %s (%s), database %s: comments are checked.</p></div>',
				esc_html(Thresh\Database::libraryVersion(self::library())), esc_html(self::library()),
				esc_html(self::library_source()), esc_html($dir));
		if ($db && self::web_reachable($dir)) {
			$check = self::web_check($dir);
			if ($check['served'] === false)
				printf('<div class="notice notice-warning inline"><p>The database folder %s is under the web root. thresh wrote a deny-all .htaccess there, and the web server refused a file put there (%s). thresh asks again every day and whenever this page is shown, and stops using the folder if the server serves it (nginx, or Apache with AllowOverride None, ignores .htaccess); a folder outside the web root (for instance /var/lib/thresh) is safer.</p></div>',
					esc_html($dir), esc_html($check['status']));
			else
				printf('<div class="notice notice-warning inline"><p>The database folder %s is under the web root, and thresh could not tell whether the web server serves its files (%s). Deny it in the server\'s configuration, or move it outside the web root (for instance /var/lib/thresh).</p></div>',
					esc_html($dir), esc_html($check['status']));
		}
		if (!$db)
			printf('<div class="notice notice-error inline"><p>thresh is not in use: %s. Comments are left to WordPress\'s Discussion settings. Database folder: %s</p></div>',
				esc_html(self::error()), esc_html($dir));
		echo '<form method="post" action="options.php">';
		settings_fields('thresh');
		do_settings_sections('thresh');
		submit_button();
		echo '</form>';
		Thresh_WP_History::section();
		echo '</div>';
	}
}

Thresh_WP::init();
require_once __DIR__ . '/history.php';
Thresh_WP_History::init(__FILE__);
