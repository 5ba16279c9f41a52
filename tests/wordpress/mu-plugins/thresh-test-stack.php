<?php
/*
 * Must-use plugin of the test stack (tests/wordpress), loaded on every request
 * of the test sites and nowhere else.
 *
 * WordPress's own comment flood check (a second comment from one IP address or
 * e-mail address within 15 seconds is refused with "You are posting comments
 * too quickly") is unhooked the way wp-includes/comment.php documents
 * (remove_action on check_comment_flood_db), so that what limits a fast
 * commenter in these tests is the spam filter's own rate limiter: threshd's
 * behind the Akismet plugin, or thresh's in its own plugin.
 */
remove_action('check_comment_flood', 'check_comment_flood_db', 10);

/*
 * WP_DEBUG is on (Akismet writes its debug log only then), which makes
 * WordPress report E_ALL; WordPress 6.1's bundled Requests library raises a
 * deprecation for every class it loads under PHP 8.2. Keep those out of the
 * log, so that the log shows what the tests need: Akismet's requests and real
 * errors.
 */
error_reporting(E_ALL & ~E_DEPRECATED & ~E_USER_DEPRECATED);
