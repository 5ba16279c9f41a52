<?php
/**
 * Learn from this site's comments: the site's history, learned once.
 *
 * A site that switches to thresh is rarely new: WordPress keeps every
 * approved comment, and the Spam folder holds what was caught. This teaches
 * thresh the approved comments as ham and those in Spam as spam, newest
 * first, up to a cap (default 5,000), in batches (200 comments, one write
 * transaction each) run by WP-Cron in the background:
 *
 *   - started by a user who may moderate comments, from the notice shown on
 *     activation or from Settings > Thresh (nonce-protected forms to
 *     admin-post.php);
 *   - resumable: the cursor (the date and ID of the last comment done) is
 *     kept in the option thresh_history after every batch, and each WP-Cron
 *     run first schedules the next one a few minutes ahead, so a run that
 *     dies mid-way is followed by another that goes on from the cursor; on
 *     deactivation the event is removed, on activation put back;
 *   - idempotent: every comment is built as the moderation path builds it
 *     (Thresh_WP::fields), so libthresh's digest (content, author, e-mail,
 *     URL) recognises a comment it learned before, through moderation or an
 *     earlier run, and counts it once;
 *   - comments thresh itself decided (its _thresh_result meta says accept
 *     for an approved comment, reject for a spam one) are left out: thresh
 *     never learns its own verdicts; so are comment types other than
 *     comments, pingbacks, trackbacks and reviews (a shop's order notes, a
 *     plugin's logs: the thresh_history_types filter).
 *
 * Progress (done / total, learned / duplicates / skipped, running /
 * finished / failed with the error) is shown on Settings > Thresh and in a
 * notice on the other admin screens; the page asks admin-ajax.php for it
 * every few seconds while it runs, and that request runs a batch itself
 * when WP-Cron has not run one for a minute (a site with DISABLE_WP_CRON
 * and no system cron).
 */

if (!defined('ABSPATH'))
	exit;

final class Thresh_WP_History
{
	/* the run: state, counts, cursor (not autoloaded) */
	const OPTION = 'thresh_history';
	/* 1: offer the import (set on the first activation), 0: dismissed */
	const OPTION_OFFER = 'thresh_history_offer';
	const OPTION_CAP = 'thresh_history_cap';
	/* held while a batch runs, so that WP-Cron, the button and the page's
	 * requests never learn the same batch twice at once */
	const OPTION_LOCK = 'thresh_history_lock';
	const HOOK = 'thresh_history_batch';
	const CAP_DEFAULT = 5000;
	const CAP_MAX = 1000000;
	const BATCH = 200;
	/* seconds a WP-Cron run goes on with batches (thresh_history_seconds) */
	const SECONDS = 20;
	/* a run that dies is followed by the next this many seconds later */
	const WATCHDOG = 180;
	/* a lock older than this belongs to a process that died */
	const LOCK_TTL = 600;
	/* the page runs a batch itself when WP-Cron has not for this long */
	const STALL = 60;
	const WHO = 'moderate_comments';

	/* the comment types learned (thresh_history_types) */
	const TYPES = ['', 'comment', 'pingback', 'trackback', 'review'];

	/** @var string|false  the lock's value while this request holds it */
	private static $locked = false;
	/** @var bool  unlock() is registered to run at shutdown */
	private static $shutdown = false;

	public static function init(string $plugin_file): void
	{
		register_activation_hook($plugin_file, [self::class, 'activate']);
		register_deactivation_hook($plugin_file, [self::class, 'deactivate']);
		add_action(self::HOOK, [self::class, 'cron']);
		add_action('admin_notices', [self::class, 'notice']);
		foreach (['start', 'step', 'stop', 'dismiss'] as $a)
			add_action("admin_post_thresh_history_$a", [self::class, "post_$a"]);
		add_action('wp_ajax_thresh_history_progress', [self::class, 'ajax_progress']);
	}

	/* ---- the state ---- */

	/* The run as stored (read afresh, bypassing the object cache), or the
	 * state of a site that never ran it. */
	public static function state(): array
	{
		wp_cache_delete(self::OPTION, 'options');
		$s = get_option(self::OPTION);
		return is_array($s) ? $s + self::blank() : self::blank();
	}

	private static function blank(): array
	{
		return ['state' => 'idle', 'cap' => self::cap(), 'total' => 0, 'done' => 0, 'ham' => 0, 'spam' => 0,
		        'learned' => 0, 'duplicates' => 0, 'moved' => 0, 'skipped' => [], 'left' => [],
		        'batches' => 0, 'cursor' => null, 'error' => '', 'started' => 0, 'updated' => 0,
		        'finished' => 0, 'user' => 0, 'runs' => 0, 'seen' => false];
	}

	private static function save(array $s): void
	{
		$s['updated'] = time();
		update_option(self::OPTION, $s, false);
	}

	/* The cap of the next run: the option, else 5,000. */
	public static function cap(): int
	{
		$cap = (int)get_option(self::OPTION_CAP, self::CAP_DEFAULT);
		return $cap >= 1 ? min($cap, self::CAP_MAX) : self::CAP_DEFAULT;
	}

	private static function batch_size(): int
	{
		/** Filters how many comments a batch learns in one transaction (default 200). */
		return max(1, (int)apply_filters('thresh_history_batch_size', self::BATCH));
	}

	private static function types(): array
	{
		/** Filters the comment types the history import learns (others are skipped and counted). */
		return (array)apply_filters('thresh_history_types', self::TYPES);
	}

	/* ---- the lock ---- */

	/* Take the lock: a row of wp_options that one INSERT IGNORE adds (so
	 * of two requests at once, one gets it). A lock older than LOCK_TTL,
	 * left by a process that was killed, is taken over. Released at the end
	 * of the request at the latest, also after a fatal error or exit. */
	private static function lock(): bool
	{
		global $wpdb;
		if (self::$locked !== false)
			return true;
		$mine = time() . ' ' . wp_generate_password(12, false);
		$add = fn() => $wpdb->query($wpdb->prepare("INSERT IGNORE INTO $wpdb->options (option_name, option_value, autoload) "
		                                          . "VALUES (%s, %s, 'no')", self::OPTION_LOCK, $mine)) === 1;
		if (!$add()) {
			$held = (string)$wpdb->get_var($wpdb->prepare("SELECT option_value FROM $wpdb->options WHERE option_name = %s",
			                                              self::OPTION_LOCK));
			if ((int)$held > time() - self::LOCK_TTL)
				return false;
			$wpdb->query($wpdb->prepare("DELETE FROM $wpdb->options WHERE option_name = %s AND option_value = %s",
			                            self::OPTION_LOCK, $held));
			if (!$add())
				return false;
		}
		wp_cache_delete(self::OPTION_LOCK, 'options');
		if (self::$locked === false && !self::$shutdown) {
			register_shutdown_function([self::class, 'unlock']);
			self::$shutdown = true;
		}
		self::$locked = $mine;
		return true;
	}

	public static function unlock(): void
	{
		global $wpdb;
		if (self::$locked !== false) {
			$wpdb->query($wpdb->prepare("DELETE FROM $wpdb->options WHERE option_name = %s AND option_value = %s",
			                            self::OPTION_LOCK, self::$locked));
			self::$locked = false;
		}
	}

	/* ---- running ---- */

	/* A new run from the newest comment: the counts of what there is. */
	public static function start(int $cap, int $user): array
	{
		global $wpdb;
		$by = [];
		foreach ($wpdb->get_results("SELECT comment_approved AS s, COUNT(*) AS n FROM $wpdb->comments "
		                            . "GROUP BY comment_approved") as $r)
			$by[(string)$r->s] = (int)$r->n;
		$s = self::blank();
		$s['state'] = 'running';
		$s['cap'] = $cap;
		$s['total'] = min($cap, ($by['1'] ?? 0) + ($by['spam'] ?? 0));
		$s['left'] = array_filter(['pending' => $by['0'] ?? 0, 'trash' => $by['trash'] ?? 0]);
		$s['started'] = time();
		$s['user'] = $user;
		$s['runs'] = self::state()['runs'] + 1;
		if ($s['total'] === 0) {
			$s['state'] = 'finished';
			$s['finished'] = time();
		}
		self::save($s);
		if ($s['state'] === 'running')
			self::schedule(time());
		return $s;
	}

	/**
	 * One batch: the next comments after the cursor, newest first, learned in
	 * one transaction. Returns the state after it; 'busy' => true when
	 * another request holds the lock (nothing done).
	 */
	public static function run_batch(): array
	{
		if (!self::lock())
			return ['busy' => true] + self::state();
		try {
			$s = self::state();
			if ($s['state'] !== 'running')
				return $s;
			try {
				self::batch($s);
			} catch (Throwable $e) {
				$s['state'] = 'failed';
				$s['error'] = $e->getMessage();
				error_log('thresh: learning the site\'s comments failed: ' . $e->getMessage());
			}
			self::save($s);
			if ($s['state'] !== 'running')
				wp_clear_scheduled_hook(self::HOOK);
			return $s;
		} finally {
			self::unlock();
		}
	}

	private static function batch(array &$s): void
	{
		global $wpdb;
		$db = Thresh_WP::db();
		if (!$db)
			throw new RuntimeException('thresh is not in use: ' . Thresh_WP::error());
		$want = min(self::batch_size(), $s['total'] - $s['done']);
		$rows = [];
		if ($want > 0) {
			$sql = "SELECT * FROM $wpdb->comments WHERE comment_approved IN ('1', 'spam')";
			if (is_array($s['cursor']))
				$sql .= $wpdb->prepare(' AND (comment_date_gmt < %s OR (comment_date_gmt = %s AND comment_ID < %d))',
				                       $s['cursor']['date'], $s['cursor']['date'], $s['cursor']['id']);
			$rows = $wpdb->get_results($sql . $wpdb->prepare(' ORDER BY comment_date_gmt DESC, comment_ID DESC LIMIT %d',
			                                                 $want));
			if ($wpdb->last_error !== '')
				throw new RuntimeException('reading the comments: ' . $wpdb->last_error);
		}
		if ($rows) {
			$ids = array_map(fn($r) => (int)$r->comment_ID, $rows);
			update_meta_cache('comment', $ids);
			_prime_post_caches(array_unique(array_map(fn($r) => (int)$r->comment_post_ID, $rows)), false, false);
			$types = self::types();
			$items = [];
			foreach ($rows as $r) {
				$c = new WP_Comment($r);
				$label = $c->comment_approved === 'spam' ? 'spam' : 'ham';
				$why = self::skip($c, $label, $types);
				if ($why !== null) {
					$s['skipped'][$why] = ($s['skipped'][$why] ?? 0) + 1;
					continue;
				}
				$items[(int)$c->comment_ID] = [$label, Thresh_WP::fields($c)];
			}
			$n = $db->learnBatch($items);
			foreach ($n['refused'] as $id => $e) {
				error_log("thresh: comment $id of the site's history not learned: " . $e->getMessage());
				$s['skipped']['refused'] = ($s['skipped']['refused'] ?? 0) + 1;
				unset($items[$id]);
			}
			foreach ($items as [$label])
				$s[$label]++;
			foreach (['learned', 'duplicates', 'moved'] as $k)
				$s[$k] += $n[$k];
			$last = end($rows);
			$s['cursor'] = ['date' => $last->comment_date_gmt, 'id' => (int)$last->comment_ID];
			$s['done'] += count($rows);
			$s['batches']++;
		}
		// done, or no more comments (some left their status since the start)
		if (count($rows) < $want || $s['done'] >= $s['total']) {
			$s['total'] = $s['done'];
			$s['state'] = 'finished';
			$s['finished'] = time();
		}
	}

	/* Why a comment is not learned (a key of 'skipped'), or null. */
	private static function skip(WP_Comment $c, string $label, array $types): ?string
	{
		if (!in_array((string)$c->comment_type, $types, true))
			return 'type';
		// thresh's own verdict, never confirmed by anyone: not learned
		$r = get_comment_meta((int)$c->comment_ID, Thresh_WP::META, true);
		if (is_array($r) && ($r['verdict'] ?? '') === ($label === 'spam' ? 'reject' : 'accept'))
			return 'own';
		return null;
	}

	/* WP-Cron: batches for up to thresh_history_seconds, then the next run. */
	public static function cron(): void
	{
		// should this run die, the next one goes on from the cursor
		self::schedule(time() + self::WATCHDOG);
		/** Filters how long one WP-Cron run goes on with batches (default 20 s; 0: one batch a run). */
		$budget = (float)apply_filters('thresh_history_seconds', self::SECONDS);
		$t0 = microtime(true);
		do {
			$s = self::run_batch();
		} while ($s['state'] === 'running' && empty($s['busy']) && microtime(true) - $t0 < $budget);
		if ($s['state'] !== 'running')
			wp_clear_scheduled_hook(self::HOOK);
		elseif (empty($s['busy']))
			self::schedule(time());
	}

	/* The next WP-Cron run at $when, replacing any. */
	private static function schedule(int $when): void
	{
		wp_clear_scheduled_hook(self::HOOK);
		wp_schedule_single_event($when, self::HOOK);
	}

	public static function activate(): void
	{
		$s = self::state();
		if ($s['state'] === 'running')
			self::schedule(time());
		elseif ($s['state'] === 'idle' && get_option(self::OPTION_OFFER) === false)
			add_option(self::OPTION_OFFER, '1', '', false);
	}

	public static function deactivate(): void
	{
		wp_clear_scheduled_hook(self::HOOK);
	}

	/* ---- the screens ---- */

	private static function url(): string
	{
		return admin_url('options-general.php?page=thresh');
	}

	/* admin-post.php: the capability, then the nonce, of action $a. */
	private static function allow(string $a): void
	{
		if (!current_user_can(self::WHO))
			wp_die('Sorry, you are not allowed to teach thresh.', 403);
		check_admin_referer("thresh_history_$a");
	}

	private static function back(string $msg = ''): void
	{
		$to = wp_get_referer() ?: self::url();
		$to = remove_query_arg('thresh_history', $to);
		wp_safe_redirect($msg !== '' ? add_query_arg('thresh_history', $msg, $to) : $to);
		exit;
	}

	/* Start (or start over, or continue a stopped or failed run). */
	public static function post_start(): void
	{
		self::allow('start');
		update_option(self::OPTION_OFFER, '0', false);
		$s = self::state();
		if (!empty($_POST['continue']) && in_array($s['state'], ['stopped', 'failed'], true)) {
			$s['state'] = 'running';
			$s['error'] = '';
			self::save($s);
			self::schedule(time());
			self::back('continued');
		}
		if ($s['state'] === 'running')
			self::back('running');
		if (!Thresh_WP::db())
			self::back('unusable');
		$cap = isset($_POST['cap']) ? (int)$_POST['cap'] : self::cap();
		if ($cap < 1 || $cap > self::CAP_MAX)
			self::back('cap');
		update_option(self::OPTION_CAP, $cap, false);
		self::start($cap, get_current_user_id());
		self::back('started');
	}

	/* "Run a batch now": one batch in this request, not waiting for WP-Cron. */
	public static function post_step(): void
	{
		self::allow('step');
		$s = self::run_batch();
		self::back(!empty($s['busy']) ? 'busy' : '');
	}

	public static function post_stop(): void
	{
		self::allow('stop');
		if (!self::lock())
			self::back('busy');
		$s = self::state();
		if ($s['state'] === 'running') {
			$s['state'] = 'stopped';
			self::save($s);
		}
		self::unlock();
		wp_clear_scheduled_hook(self::HOOK);
		self::back();
	}

	/* "Not now" on the offer; "Dismiss" on a finished run's notice. */
	public static function post_dismiss(): void
	{
		self::allow('dismiss');
		update_option(self::OPTION_OFFER, '0', false);
		$s = self::state();
		if ($s['state'] === 'finished') {
			$s['seen'] = true;
			update_option(self::OPTION, $s, false);
		}
		self::back();
	}

	/* admin-ajax.php?action=thresh_history_progress: the box, as JSON; runs
	 * a batch when WP-Cron has not for STALL seconds. */
	public static function ajax_progress(): void
	{
		if (!current_user_can(self::WHO))
			wp_send_json_error('forbidden', 403);
		check_ajax_referer('thresh_history_progress');
		$s = self::state();
		if ($s['state'] === 'running' && $s['updated'] < time() - self::STALL)
			$s = self::run_batch();
		wp_send_json_success(['state' => $s['state'], 'done' => $s['done'], 'total' => $s['total'],
		                      'html' => self::box($s, false)]);
	}

	/* admin_notices: the offer after activation, and the run's progress, on
	 * every admin screen but Settings > Thresh (which shows it itself). */
	public static function notice(): void
	{
		if (!current_user_can(self::WHO))
			return;
		$screen = function_exists('get_current_screen') ? get_current_screen() : null;
		if ($screen && $screen->id === 'settings_page_thresh')
			return;
		$s = self::state();
		$offer = $s['state'] === 'idle' && get_option(self::OPTION_OFFER) === '1';
		if (!$offer && ($s['state'] === 'idle' || ($s['state'] === 'finished' && $s['seen'])))
			return;
		$class = ['failed' => 'notice-error', 'finished' => 'notice-success'][$s['state']] ?? 'notice-info';
		echo '<div class="notice ' . $class . '" id="thresh-history-notice">';
		echo self::box($s, true);
		echo '</div>';
	}

	/* Settings > Thresh: the section. */
	public static function section(): void
	{
		echo '<div id="thresh-history-section"><h2>Learn from this site\'s comments</h2>';
		echo '<p class="description">thresh learns the approved comments as ham and those in Spam as spam, '
			. 'newest first, up to the number you choose, in batches run by WP-Cron in the background. '
			. 'A comment learned before (through moderation, or an earlier run) counts once; comments '
			. 'thresh itself decided are left out, so it never learns its own verdicts. Pending and '
			. 'trashed comments teach nothing.</p>';
		echo self::box(self::state(), false) . '</div>';
	}

	/* The progress and the buttons, for the notice ($notice) or the page. */
	public static function box(array $s, bool $notice): string
	{
		$o = '<div class="thresh-history" id="thresh-history" data-state="' . esc_attr($s['state']) . '">';
		$msg = isset($_GET['thresh_history']) && is_string($_GET['thresh_history']) ? $_GET['thresh_history'] : '';
		$messages = [
			'unusable' => 'thresh is not in use: set it up on Settings > Thresh first.',
			'cap' => 'The number of comments must be between 1 and ' . number_format_i18n(self::CAP_MAX) . '.',
			'busy' => 'A batch is running right now; the page shows its result when it ends.',
		];
		if (isset($messages[$msg]))
			$o .= '<p class="thresh-history-message"><strong>' . esc_html($messages[$msg]) . '</strong></p>';
		$n = 'number_format_i18n';
		switch ($s['state']) {
		case 'idle':
			if ($notice)
				$o .= '<p><strong>Thresh can learn from this site\'s comments</strong>: the approved ones '
					. 'as ham, those in Spam as spam, so that it decides as this site does from the start.</p>';
			if (!Thresh_WP::db()) {
				$o .= sprintf('<p class="thresh-history-unusable">It can once thresh is in use: %s%s.</p>',
					esc_html(Thresh_WP::error()), $notice ? sprintf(' (<a href="%s">Settings &gt; Thresh</a>)',
					esc_url(self::url())) : '');
				return $o . ($notice ? '<p>' . self::form('dismiss', '<button type="submit" class="button-link">'
					. 'Not now</button>') . '</p>' : '') . '</div>';
			}
			break;
		case 'running':
		case 'stopped':
		case 'failed':
		case 'finished':
			$label = ['running' => 'Learning this site\'s comments', 'stopped' => 'Stopped',
			          'failed' => 'Failed', 'finished' => 'Finished'][$s['state']];
			$pct = $s['total'] ? (int)floor(100 * $s['done'] / $s['total']) : 100;
			$o .= sprintf('<p class="thresh-history-status"><strong>Thresh: %s</strong>: %s of %s comments (%d%%)'
				. ' <progress max="%d" value="%d"></progress></p>',
				esc_html($label), $n($s['done']), $n($s['total']), $pct, max(1, $s['total']), $s['done']);
			if ($s['state'] === 'failed')
				$o .= '<p class="thresh-history-error">' . esc_html($s['error']) . '</p>';
			$o .= '<ul class="thresh-history-counts" style="list-style:disc;margin-left:2em">';
			$o .= sprintf('<li>Taught: %s approved comment%s as ham, %s spam comment%s as spam.</li>',
				$n($s['ham']), $s['ham'] === 1 ? '' : 's', $n($s['spam']), $s['spam'] === 1 ? '' : 's');
			$o .= sprintf('<li>New to thresh: <strong class="learned">%s</strong>; learned before, so counted once: '
				. '<span class="duplicates">%s</span>%s.</li>', $n($s['learned']), $n($s['duplicates']),
				$s['moved'] ? sprintf('; moved to their new label: <span class="moved">%s</span>', $n($s['moved'])) : '');
			$why = ['own' => 'decided by thresh itself', 'type' => 'of other types than comments (order notes, logs)',
			        'refused' => 'refused by thresh (see the PHP error log)'];
			$skipped = array_sum($s['skipped']);
			$parts = [];
			foreach ($why as $k => $text)
				if (!empty($s['skipped'][$k]))
					$parts[] = $n($s['skipped'][$k]) . ' ' . $text;
			$o .= sprintf('<li>Skipped <span class="skipped">%s</span>%s.</li>', $n($skipped),
				$parts ? ': ' . esc_html(implode(', ', $parts)) : '');
			if ($s['left'])
				$o .= sprintf('<li>Not learned, as they teach nothing: %s.</li>', esc_html(implode(', ', array_map(
					fn($k, $v) => $n($v) . ($k === 'trash' ? ' in Trash' : ' pending'), array_keys($s['left']), $s['left']))));
			$o .= sprintf('<li>%s batch%s; started %s%s.</li>', $n($s['batches']), $s['batches'] === 1 ? '' : 'es',
				esc_html(self::when($s['started'])),
				$s['finished'] ? ', finished ' . esc_html(self::when($s['finished'])) : '');
			if ($s['state'] === 'running') {
				$next = wp_next_scheduled(self::HOOK);
				$o .= '<li>' . ($next ? sprintf('Next batch by WP-Cron %s.', $next <= time() ? 'now'
					: 'in ' . human_time_diff(time(), $next)) : 'No WP-Cron run is scheduled: use Run a batch now.')
					. '</li>';
			}
			$o .= '</ul>';
			break;
		}
		$o .= self::buttons($s, $notice);
		if ($s['state'] === 'running')
			$o .= self::poll();
		return $o . '</div>';
	}

	private static function when(int $t): string
	{
		return $t ? wp_date(get_option('date_format') . ' ' . get_option('time_format'), $t) : '-';
	}

	private static function form(string $a, string $inner): string
	{
		return sprintf('<form method="post" action="%s" class="thresh-history-%s" style="display:inline-block;margin-right:1em">'
			. '<input type="hidden" name="action" value="thresh_history_%s">%s%s</form>',
			esc_url(admin_url('admin-post.php')), esc_attr($a), esc_attr($a),
			wp_nonce_field("thresh_history_$a", '_wpnonce', true, false), $inner);
	}

	private static function buttons(array $s, bool $notice): string
	{
		if (!current_user_can(self::WHO))
			return '';
		$o = '<p>';
		$cap = sprintf('<label>up to <input type="number" name="cap" min="1" max="%d" value="%d" class="small-text">'
			. ' comments</label> ', self::CAP_MAX, self::cap());
		switch ($s['state']) {
		case 'idle':
			$o .= self::form('start', $cap . '<button type="submit" class="button button-primary">Learn from this site\'s comments</button>');
			if ($notice)
				$o .= self::form('dismiss', '<button type="submit" class="button-link">Not now</button>');
			break;
		case 'running':
			$o .= self::form('step', '<button type="submit" class="button">Run a batch now</button>');
			$o .= self::form('stop', '<button type="submit" class="button">Stop</button>');
			break;
		case 'stopped':
		case 'failed':
			$o .= self::form('start', '<input type="hidden" name="continue" value="1">'
				. '<button type="submit" class="button button-primary">Continue</button>');
			$o .= self::form('start', $cap . '<button type="submit" class="button">Start over</button>');
			break;
		case 'finished':
			if ($notice) {
				$o .= sprintf('<a href="%s">Settings &gt; Thresh</a> ', esc_url(self::url()));
				$o .= self::form('dismiss', '<button type="submit" class="button-link">Dismiss</button>');
			} else {
				$o .= self::form('start', $cap . '<button type="submit" class="button">Learn again</button>');
			}
			break;
		}
		return $o . '</p>';
	}

	/* While it runs, the box refreshes itself every 5 s. */
	private static function poll(): string
	{
		$url = add_query_arg(['action' => 'thresh_history_progress',
		                      '_ajax_nonce' => wp_create_nonce('thresh_history_progress')], admin_url('admin-ajax.php'));
		return '<script>(function(){var u=' . wp_json_encode($url) . ';function t(){fetch(u,{credentials:"same-origin"})'
			. '.then(function(r){return r.json()}).then(function(j){if(!j||!j.success)return;'
			. 'var b=document.getElementById("thresh-history");if(!b)return;'
			. 'var d=document.createElement("div");d.innerHTML=j.data.html;var n=d.firstElementChild;'
			. 'if(n&&b.getAttribute("data-state")==="running"){b.replaceWith(n);}'
			. 'if(j.data.state==="running")setTimeout(t,5000);}).catch(function(){setTimeout(t,15000)});}'
			. 'setTimeout(t,5000);})();</script>';
	}
}
