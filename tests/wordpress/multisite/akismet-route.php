<?php
/*
 * Plugin Name: thresh test stack: this network's rest.akismet.com
 * Description: Sends this site's connections to rest.akismet.com to the
 *   ports of the threshd that serves it (THRESH_TEST_AKISMET_PORT for http,
 *   THRESH_TEST_AKISMET_TLS_PORT for https, defined in its configuration).
 *
 * tests/wordpress/test_multisite.py: the stack's own threshd, on ports 80
 * and 443 of rest.akismet.com, keeps one database for the other test
 * programs; the multisite network is served by a threshd in --sites mode on
 * other ports of the same host. Only the port changes, so the host name,
 * its certificate (SNI, the name check) and the Host header stay
 * rest.akismet.com's. WordPress 6.1 connects with Requests' fsockopen
 * transport when PHP has no curl (Debian's stack here), else with curl:
 * both are covered.
 */
if (!defined('ABSPATH') || !defined('THRESH_TEST_AKISMET_PORT'))
	return;

function thresh_test_akismet_port(string $scheme): int
{
	return $scheme === 'https' || $scheme === 'ssl' ? (int)THRESH_TEST_AKISMET_TLS_PORT
		: (int)THRESH_TEST_AKISMET_PORT;
}

add_action('requests-fsockopen.remote_socket', function (&$remote_socket) {
	if (preg_match('#^(tcp|ssl)://rest\.akismet\.com:(80|443)$#', $remote_socket, $m))
		$remote_socket = sprintf('%s://rest.akismet.com:%d', $m[1], thresh_test_akismet_port($m[1]));
});

add_action('http_api_curl', function ($handle, $args, $url) {
	$u = parse_url($url);
	if (($u['host'] ?? '') !== 'rest.akismet.com' || !defined('CURLOPT_CONNECT_TO'))
		return;
	$port = $u['port'] ?? ($u['scheme'] === 'https' ? 443 : 80);
	curl_setopt($handle, CURLOPT_CONNECT_TO,
		["rest.akismet.com:$port:rest.akismet.com:" . thresh_test_akismet_port($u['scheme'])]);
}, 10, 3);
