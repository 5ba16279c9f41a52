<?php
/*
 * db.php - a WordPress database drop-in for the tests: an in-memory wpdb, so
 * that the real wp-settings.php, wp_new_comment(), wp_spam_comment(), ...
 * run without a MySQL server.
 *
 * WordPress loads WP_CONTENT_DIR/db.php before it would make its own wpdb
 * (require_wp_db()); a drop-in that sets $wpdb replaces the database layer,
 * the mechanism the SQLite integration plugin uses. This one keeps plain PHP
 * arrays for the few tables the comment paths touch (options, posts, users,
 * comments, commentmeta) and understands exactly the queries those paths
 * make in WordPress 6.1. A query it does not understand is recorded in
 * $wpdb->unknown (the test prints them) and answers "nothing", so a gap
 * shows up as a failed assertion, never as a silently passing test.
 */

final class Thresh_Test_DB extends wpdb
{
	/** @var array<string, array<int, array>>  table (without prefix) => id => row */
	public array $t = ['options' => [], 'posts' => [], 'users' => [], 'usermeta' => [], 'comments' => [],
	                   'commentmeta' => [], 'postmeta' => [], 'terms' => [], 'term_taxonomy' => [],
	                   'term_relationships' => [], 'termmeta' => [], 'links' => []];
	private array $next = [];
	public array $unknown = [];
	public array $log = [];

	public function __construct()
	{
		$this->dbh = null;
		$this->ready = true;
		$this->is_mysql = true;
		$this->charset = 'utf8mb4';
		$this->collate = 'utf8mb4_unicode_520_ci';
		$this->show_errors(false);
	}

	public function db_connect($allow_bail = true) { return true; }
	public function check_connection($allow_bail = true) { return true; }
	public function init_charset() {}
	public function set_charset($dbh, $charset = null, $collate = null) {}
	public function set_sql_mode($modes = []) {}
	public function select($db, $dbh = null) {}
	public function db_version() { return '8.0.30'; }
	public function db_server_info() { return '8.0.30-thresh-test'; }
	public function has_cap($db_cap) { return true; }
	public function get_col_charset($table, $column) { return false; }
	public function get_col_length($table, $column) { return false; }
	public function strip_invalid_text_for_column($table, $column, $value) { return $value; }
	protected function get_table_charset($table) { return 'utf8mb4'; }
	public function _real_escape($string) { return addslashes((string)$string); }
	public function close() { return true; }

	private function name(string $table): string
	{
		return str_starts_with($table, $this->prefix) ? substr($table, strlen($this->prefix)) : $table;
	}

	private const KEYS = ['options' => 'option_id', 'posts' => 'ID', 'users' => 'ID', 'usermeta' => 'umeta_id',
	                      'comments' => 'comment_ID', 'commentmeta' => 'meta_id', 'postmeta' => 'meta_id'];

	/* Rows of $table matching every column => value of $where. */
	private function find(string $table, array $where): array
	{
		$out = [];
		foreach ($this->t[$table] ?? [] as $id => $row) {
			$ok = true;
			foreach ($where as $k => $v)
				if (!array_key_exists($k, $row) || (string)$row[$k] !== (string)$v)
					$ok = false;
			if ($ok)
				$out[$id] = $row;
		}
		return $out;
	}

	public function insert($table, $data, $format = null)
	{
		return $this->put($this->name($table), $data, false);
	}

	public function replace($table, $data, $format = null)
	{
		return $this->put($this->name($table), $data, true);
	}

	private function put(string $table, array $data, bool $replace)
	{
		$key = self::KEYS[$table] ?? 'id';
		if ($table === 'options') {
			foreach ($this->find('options', ['option_name' => $data['option_name']]) as $id => $row) {
				if (!$replace)
					return false;
				$data[$key] = $id;
			}
		}
		$id = (int)($data[$key] ?? 0);
		if (!$id) {
			$this->next[$table] = ($this->next[$table] ?? 0) + 1;
			$id = $this->next[$table];
			$data[$key] = $id;
		} else {
			$this->next[$table] = max($this->next[$table] ?? 0, $id);
		}
		$this->t[$table][$id] = array_map(fn($v) => $v === null ? null : (string)$v, $data);
		$this->insert_id = $id;
		$this->rows_affected = 1;
		$this->log[] = "INSERT $table $id";
		return 1;
	}

	public function update($table, $data, $where, $format = null, $where_format = null)
	{
		$table = $this->name($table);
		$n = 0;
		foreach ($this->find($table, $where) as $id => $row) {
			$this->t[$table][$id] = array_merge($row, array_map(fn($v) => $v === null ? null : (string)$v, $data));
			$n++;
		}
		$this->rows_affected = $n;
		$this->log[] = "UPDATE $table " . json_encode($where) . " $n";
		return $n;
	}

	public function delete($table, $where, $where_format = null)
	{
		$table = $this->name($table);
		$n = 0;
		foreach ($this->find($table, $where) as $id => $row) {
			unset($this->t[$table][$id]);
			$n++;
		}
		$this->rows_affected = $n;
		return $n;
	}

	/* A value of a quoted SQL literal made by prepare(). */
	private static function lit(string $s): string
	{
		$s = trim($s);
		if ($s !== '' && ($s[0] === "'" || $s[0] === '"'))
			$s = stripslashes(substr($s, 1, -1));
		return $s;
	}

	/* The rows a SELECT returns, as arrays, or null when not understood. */
	private function select_rows(string $q): ?array
	{
		$q = trim(preg_replace('/\s+/', ' ', $q));
		$p = preg_quote($this->prefix, '/');
		// SELECT cols FROM table WHERE a = 'x' AND b IN (1,2) ... [ORDER BY ...] [LIMIT n]
		if (!preg_match("/^SELECT (.+?) FROM `?{$p}(\\w+)`?(?: WHERE (.+?))?(?: ORDER BY .+?)?(?: LIMIT (\\d+)(?:, ?\\d+)?)?$/i", $q, $m))
			return null;
		[$cols, $table, $cond, $limit] = [trim($m[1]), $m[2], $m[3] ?? '', $m[4] ?? ''];
		if (!array_key_exists($table, $this->t))
			return null;
		$rows = $this->t[$table];
		if ($cond !== '') {
			foreach (preg_split('/ AND /i', $cond) as $c) {
				$c = trim($c);
				if (str_starts_with($c, '(') && str_ends_with($c, ')') && substr_count($c, '(') === 1)
					$c = trim(substr($c, 1, -1));
				if (preg_match("/^`?(\\w+)`? IN \\((.*)\\)$/i", $c, $mm)) {
					$vals = array_map([self::class, 'lit'], str_getcsv($mm[2], ',', "'", '\\'));
					$rows = array_filter($rows, fn($r) => in_array((string)($r[$mm[1]] ?? ''), $vals, true));
				} elseif (preg_match("/^`?(\\w+)`? (=|!=|<>) (.+)$/", $c, $mm)) {
					$v = self::lit($mm[3]);
					$eq = $mm[2] === '=';
					$rows = array_filter($rows, fn($r) => ((string)($r[$mm[1]] ?? '') === $v) === $eq);
				} elseif (preg_match('/^1 ?= ?1$/', $c)) {
				} else {
					return null;
				}
			}
		}
		if ($limit !== '')
			$rows = array_slice($rows, 0, (int)$limit, true);
		if (preg_match('/^COUNT\(\*\)$/i', $cols))
			return [['COUNT(*)' => (string)count($rows)]];
		if ($cols === '*' || preg_match('/^\w+\.\*$/', $cols))
			return array_values($rows);
		$names = array_map(fn($c) => trim($c, ' `'), explode(',', $cols));
		$out = [];
		foreach ($rows as $r) {
			$o = [];
			foreach ($names as $n)
				$o[$n] = $r[$n] ?? null;
			$out[] = $o;
		}
		return $out;
	}

	public function query($query)
	{
		$this->last_query = $query;
		$this->flush();
		$q = trim(preg_replace('/\s+/', ' ', $query));
		$p = preg_quote($this->prefix, '/');
		if (preg_match('/^(SELECT|SHOW)/i', $q)) {
			$rows = $this->select_rows($q);
			if ($rows === null) {
				$this->unknown[] = $q;
				$rows = [];
			}
			$this->last_result = array_map(fn($r) => (object)$r, $rows);
			$this->num_rows = count($rows);
			return $this->num_rows;
		}
		// add_option(): INSERT INTO `wp_options` (`option_name`, `option_value`, `autoload`) VALUES (...) ON DUPLICATE KEY ...
		if (preg_match("/^INSERT INTO `?{$p}options`? \\(`option_name`, `option_value`, `autoload`\\) VALUES \\('((?:[^'\\\\]|\\\\.)*)', '((?:[^'\\\\]|\\\\.)*)', '(\\w+)'\\)/s", $query, $m))
			return $this->put('options', ['option_name' => stripslashes($m[1]), 'option_value' => stripslashes($m[2]),
			                              'autoload' => $m[3]], true);
		// delete_metadata(): DELETE FROM wp_commentmeta WHERE meta_id IN( 1,2 )
		if (preg_match("/^DELETE FROM `?{$p}(\\w+)`? WHERE (\\w+) IN ?\\(([\\d, ]+)\\)$/i", $q, $m)) {
			$n = 0;
			foreach (array_map('intval', explode(',', $m[3])) as $id)
				if (isset($this->t[$m[1]][$id])) {
					unset($this->t[$m[1]][$id]);
					$n++;
				}
			return $this->rows_affected = $n;
		}
		if (preg_match('/^(SET|START|COMMIT|ROLLBACK)/i', $q))
			return 0;
		$this->unknown[] = $q;
		return 0;
	}

	public function get_results($query = null, $output = OBJECT)
	{
		if ($query)
			$this->query($query);
		$rows = $this->last_result ?? [];
		return match ($output) {
			ARRAY_A => array_map(fn($r) => (array)$r, $rows),
			ARRAY_N => array_map(fn($r) => array_values((array)$r), $rows),
			OBJECT_K => array_combine(array_map(fn($r) => reset($r), array_map(fn($r) => (array)$r, $rows)), $rows) ?: [],
			default => $rows,
		};
	}
}

$wpdb = new Thresh_Test_DB();

// The test fills the tables before WordPress reads its first option.
if (isset($GLOBALS['thresh_test_seed']))
	($GLOBALS['thresh_test_seed'])($wpdb);
