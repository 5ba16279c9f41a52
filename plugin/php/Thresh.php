<?php
/*
 * Thresh.php - check comments for spam in-process from PHP, over libthresh's
 * versioned plugin table (include/thresh/plugin.h) through PHP's FFI.
 *
 *     require 'Thresh.php';
 *     $db = new Thresh\Database('/var/lib/thresh');
 *     $r = $db->check(['comment_content' => $text, 'comment_author_email' => $email,
 *                      'user_ip' => $_SERVER['REMOTE_ADDR']]);
 *     if ($r->verdict === 'reject') { ... } elseif ($r->verdict === 'hold') { ... }
 *     $db->learn('spam', $fields);     // from the moderator's decision
 *
 * One file, no dependencies but ext-ffi (PHP >= 8.1). The library is the path
 * given to the constructor ('library' option), else getenv('THRESH_LIB'),
 * else 'libthresh.so.0' from the dynamic linker's path. It is asked for its
 * function table with thresh_plugin_get(ABI 1, sizeof table); a library that
 * does not provide ABI 1 is refused with a Thresh\Exception (code EABI)
 * instead of undefined behaviour later.
 *
 * FFI outside the CLI: PHP's default ffi.enable=preload allows FFI in CLI
 * scripts and in code compiled by opcache preloading only. Under php-fpm or
 * mod_php either set ffi.enable=true, or keep "preload" and add this file to
 * opcache.preload (see README.md here).
 *
 * Many comments at once, in one transaction (a site's history):
 *     $n = $db->learnBatch([$id1 => ['ham', $fields1], $id2 => ['spam', $fields2]]);
 *     // ['learned' => 2, 'duplicates' => 0, 'moved' => 0, 'refused' => []]
 *
 * Fields are thresh's names or Akismet's: content/comment_content,
 * author/comment_author, email/comment_author_email, url/comment_author_url,
 * ip/user_ip, user_agent, referrer/referer, permalink, type/comment_type,
 * lang/blog_lang, honeypot, form_age. Values are strings (UTF-8), ints or
 * floats; null leaves a field out; an unknown name is Exception EFIELD.
 */
declare(strict_types=1);

namespace Thresh;

/* A thresh failure. getCode() is the library's THRESH_E* code (negative), or
 * 0 when the library itself could not be loaded; getName() its symbolic name. */
class Exception extends \RuntimeException
{
	const EINVAL = -1, ENOMEM = -2, EIO = -3, EUTF8 = -4, ETOOBIG = -5, ENUL = -6,
	      EFIELD = -7, ENOENT = -8, EVERSION = -9, ECORRUPT = -10, EFULL = -11,
	      EACCES = -12, ECONFIG = -13, EFORMAT = -14, EEXIST = -15, EREADONLY = -16,
	      EABI = -17, EBUSY = -18, ENOMODEL = -19, ENOTFOUND = -20, EPARAM = -21,
	      EUNAVAIL = -22, ENOTSUP = -23, EREFUSED = -24;

	public function getName(): string
	{
		if ($this->code === 0)
			return 'THRESH_ELOAD';
		$names = (new \ReflectionClass(self::class))->getConstants();
		$name = array_search($this->code, $names, true);
		return $name === false ? 'THRESH_UNKNOWN' : 'THRESH_' . $name;
	}
}

/* What thresh decided about a comment. */
final class Result
{
	/**
	 * @param string   $verdict     'accept' (publish), 'hold' (moderation queue) or 'reject' (spam)
	 * @param float    $score       the classifier's spam probability, 0..1
	 * @param bool     $blatant     spam a site may drop unseen (Akismet's "discard")
	 * @param float    $retryAfter  seconds the author must wait when rate-limited, else 0
	 * @param string[] $reasons     the reasons that fired: 'bayes', 'rate_limited', 'honeypot', ...
	 */
	public function __construct(
		public readonly string $verdict,
		public readonly float $score,
		public readonly bool $blatant,
		public readonly float $retryAfter,
		public readonly array $reasons,
	) {
	}

	public function isSpam(): bool
	{
		return $this->verdict === 'reject';
	}
}

/* A loaded libthresh and its checked function table. @internal */
final class Library
{
	const ABI = 1;
	const CREATE = 0x1;
	const RDONLY = 0x2;

	/* include/thresh/plugin.h, ABI 1: the table and its result record. */
	const CDEF = <<<'C'
typedef struct thresh_db thresh_db;
typedef struct thresh_plugin_result {
	uint32_t size;
	int verdict;
	double score;
	int blatant;
	double retry_after;
	char reasons[256];
} thresh_plugin_result;
typedef struct thresh_plugin_learn_result {
	uint32_t size;
	uint64_t learned;
	uint64_t duplicates;
	uint64_t moved;
	uint64_t refused;
} thresh_plugin_learn_result;
typedef struct thresh_plugin {
	uint32_t abi;
	uint32_t size;
	const char *(*version)(void);
	const char *(*strerror)(int code);
	int (*open)(const char *dir, const char *config, unsigned flags, thresh_db **out,
	            char *errbuf, size_t errbuf_size);
	void (*close)(thresh_db *db);
	int (*is_field)(const char *name);
	int (*check)(thresh_db *db, const char *const *fields, const char *const *values, size_t n,
	             thresh_plugin_result *out);
	int (*learn)(thresh_db *db, const char *const *fields, const char *const *values, size_t n,
	             int label);
	int (*unlearn)(thresh_db *db, const char *const *fields, const char *const *values, size_t n,
	               int label);
	int (*reload)(thresh_db *db, char *errbuf, size_t errbuf_size);
	int (*learn_batch)(thresh_db *db, size_t count, const size_t *nfields, const char *const *fields,
	                   const char *const *values, const int *labels, int *rcs,
	                   thresh_plugin_learn_result *out);
	void (*spare[15])(void);
} thresh_plugin;
int thresh_plugin_get(uint32_t abi, size_t size, const thresh_plugin **out);
C;

	/** @var array<string, Library> */
	private static array $loaded = [];

	public readonly \FFI $ffi;
	public readonly \FFI\CData $table;

	private function __construct(public readonly string $path)
	{
		try {
			$this->ffi = \FFI::cdef(self::CDEF, $path);
		} catch (\FFI\Exception $e) {
			$code = str_contains($e->getMessage(), 'resolving') ? Exception::EABI : 0;
			throw new Exception("cannot load libthresh from $path: " . $e->getMessage(), $code, $e);
		}
		$this->table = self::table($this->ffi, $path);
	}

	/* The library at $path (loaded once per path): the argument, else
	 * getenv('THRESH_LIB'), else 'libthresh.so.0'. */
	public static function load(?string $path = null): Library
	{
		if ($path === null || $path === '')
			$path = getenv('THRESH_LIB') ?: 'libthresh.so.0';
		return self::$loaded[$path] ??= new Library($path);
	}

	/* thresh_plugin_get(abi, size) on a loaded library, checked. The
	 * parameters exist so that tests can ask for a wrong ABI. */
	public static function table(\FFI $ffi, string $path, int $abi = self::ABI, ?int $size = null): \FFI\CData
	{
		$size ??= \FFI::sizeof($ffi->type('thresh_plugin'));
		$tp = $ffi->new('const thresh_plugin*');
		$rc = $ffi->thresh_plugin_get($abi, $size, \FFI::addr($tp));
		if ($rc === Exception::EABI)
			throw new Exception("$path does not provide the plugin ABI $abi with a table of $size bytes;"
			                    . ' this class needs ABI ' . self::ABI, Exception::EABI);
		if ($rc !== 0 || \FFI::isNull($tp))
			throw new Exception("thresh_plugin_get failed ($rc)", $rc ?: Exception::EINVAL);
		if ($tp->abi !== $abi || $tp->size < $size)
			throw new Exception("$path returned a table of ABI {$tp->abi}, {$tp->size} bytes;"
			                    . ' this class needs ABI ' . self::ABI, Exception::EABI);
		return $tp;
	}

	public function version(): string
	{
		return ($this->table->version)();
	}

	public function isField(string $name): bool
	{
		return !str_contains($name, "\0") && ($this->table->is_field)($name) === 1;
	}

	/* The Exception for code $rc, with the library's text and $detail. */
	public function error(int $rc, string $detail = ''): Exception
	{
		$msg = ($this->table->strerror)($rc);
		$detail = trim($detail);
		return new Exception($detail !== '' && $detail !== $msg ? "$msg: $detail" : $msg, $rc);
	}

	/* A NUL-terminated copy of $s that lives as long as the returned CData. */
	public function cstr(string $s): \FFI\CData
	{
		$n = strlen($s);
		$b = $this->ffi->new('char[' . ($n + 1) . ']');
		if ($n)
			\FFI::memcpy($b, $s, $n);
		return $b;
	}
}

/* An open thresh database folder. One object per request is fine: opening
 * is cheap; a Database must not be used across pcntl_fork(). */
final class Database
{
	private Library $lib;
	private ?\FFI\CData $db = null;
	public readonly string $dir;

	/**
	 * @param string $dir      the database folder (made with `thresh init`)
	 * @param array  $options  'config'   => a thresh.conf to read instead of DIR/thresh.conf
	 *                         'create'   => true: create a missing folder from the default model
	 *                         'readonly' => true: never write (no learning, no rate-limit state)
	 *                         'library'  => the libthresh to load
	 * @throws Exception  ENOENT (no database there), ECONFIG, EACCES, EABI, ...
	 */
	public function __construct(string $dir, array $options = [])
	{
		$unknown = array_diff(array_keys($options), ['config', 'create', 'readonly', 'library']);
		if ($unknown)
			throw new \InvalidArgumentException('unknown option: ' . implode(', ', $unknown));
		$this->lib = Library::load($options['library'] ?? null);
		$this->dir = $dir;
		$config = $options['config'] ?? null;
		if (str_contains($dir, "\0") || ($config !== null && str_contains($config, "\0")))
			throw new \InvalidArgumentException('a path holds a NUL byte');
		$flags = (empty($options['create']) ? 0 : Library::CREATE)
		       | (empty($options['readonly']) ? 0 : Library::RDONLY);
		$db = $this->lib->ffi->new('thresh_db*');
		$err = $this->lib->ffi->new('char[512]');
		$rc = ($this->lib->table->open)($dir, $config, $flags, \FFI::addr($db), $err, 512);
		if ($rc !== 0)
			throw $this->lib->error($rc, \FFI::string($err));
		$this->db = $db;
	}

	public function __destruct()
	{
		$this->close();
	}

	/* Close the database; calling it again does nothing. */
	public function close(): void
	{
		if ($this->db !== null) {
			($this->lib->table->close)($this->db);
			$this->db = null;
		}
	}

	/* The version of the loaded libthresh ("0.1.0"). */
	public static function libraryVersion(?string $library = null): string
	{
		return Library::load($library)->version();
	}

	/* True when $name is a comment field thresh reads, so a whole form can be
	 * filtered: array_filter($_POST, [Thresh\Database::class, 'isField'], ARRAY_FILTER_USE_KEY). */
	public static function isField(string $name, ?string $library = null): bool
	{
		return Library::load($library)->isField($name);
	}

	/**
	 * Check a comment. The check counts toward the author's rate limit unless
	 * the database is read-only.
	 * @param array<string, string|int|float|null> $fields
	 * @throws Exception  EFIELD, EUTF8, ENUL, ETOOBIG, EINVAL, ...
	 */
	public function check(array $fields): Result
	{
		[$names, $values, $n, $keep] = $this->pairs($fields);
		$out = $this->lib->ffi->new('thresh_plugin_result');
		$out->size = \FFI::sizeof($out);
		$rc = ($this->lib->table->check)($this->handle(), $names, $values, $n, \FFI::addr($out));
		if ($rc !== 0)
			throw $this->failure($rc, $fields);
		$reasons = trim(\FFI::string($out->reasons));
		return new Result(
			['accept', 'hold', 'reject'][$out->verdict] ?? (string)$out->verdict,
			$out->score,
			$out->blatant !== 0,
			$out->retry_after,
			$reasons === '' ? [] : explode(' ', $reasons),
		);
	}

	/**
	 * Learn a comment as 'spam' or 'ham'. The same comment learned twice under
	 * one label counts once; learned under the other label it moves.
	 * @throws Exception  EREADONLY, EUTF8, ...
	 */
	public function learn(string $label, array $fields): void
	{
		$this->learnOp($this->lib->table->learn, $label, $fields);
	}

	/**
	 * Learn many comments in one write transaction: a crash stores all of them
	 * or none, and they cost one commit instead of one each. $comments is
	 * [key => [label, fields]] (label 'spam' or 'ham'). A comment learned
	 * before counts once (a duplicate), or moves when its label changed. A
	 * comment the library refuses (a value that is not UTF-8, a NUL byte, an
	 * unknown field, a value not a string or number) is left out and the
	 * others are stored: 'refused' maps its key to the Exception.
	 * @param array<int|string, array{0: string, 1: array}> $comments
	 * @return array{learned: int, duplicates: int, moved: int, refused: array<int|string, \Throwable>}
	 * @throws \InvalidArgumentException  an entry not [label, fields], a label not 'spam'/'ham'
	 * @throws Exception  ENOTSUP (a library older than 0.3, without learn_batch), EREADONLY, EFULL, ...
	 */
	public function learnBatch(array $comments): array
	{
		$out = ['learned' => 0, 'duplicates' => 0, 'moved' => 0, 'refused' => []];
		$fn = $this->lib->table->learn_batch;
		if ($fn === null)   // a NULL slot: a library older than 0.3
			throw new Exception('libthresh ' . $this->lib->version() . ' has no learn_batch (0.3 or later has)',
			                    Exception::ENOTSUP);
		$keys = $labels = $pairs = [];
		foreach ($comments as $key => $c) {
			if (!is_array($c) || !array_key_exists(0, $c) || !array_key_exists(1, $c) || !is_array($c[1]))
				throw new \InvalidArgumentException("comment '$key': expected [label, fields]");
			$lab = ['ham' => 0, 'spam' => 1][$c[0]] ?? null;
			if ($lab === null)
				throw new \InvalidArgumentException("comment '$key': label must be 'spam' or 'ham'");
			try {
				$pairs[] = $this->strings($c[1]);
			} catch (\InvalidArgumentException | Exception $e) {
				$out['refused'][$key] = $e;
				continue;
			}
			$keys[] = $key;
			$labels[] = $lab;
		}
		$count = count($keys);
		$total = array_sum(array_map('count', $pairs));
		$ffi = $this->lib->ffi;
		$nfields = $ffi->new('size_t[' . max($count, 1) . ']');
		$labs = $ffi->new('int[' . max($count, 1) . ']');
		$rcs = $ffi->new('int[' . max($count, 1) . ']');
		$names = $ffi->new('const char*[' . max($total, 1) . ']');
		$values = $ffi->new('const char*[' . max($total, 1) . ']');
		$keep = [];
		$j = 0;
		foreach ($pairs as $i => $fields) {
			$nfields[$i] = count($fields);
			$labs[$i] = $labels[$i];
			foreach ($fields as $k => $v) {
				$keep[] = $kb = $this->lib->cstr((string)$k);
				$keep[] = $vb = $this->lib->cstr($v);
				$names[$j] = $ffi->cast('const char*', \FFI::addr($kb[0]));
				$values[$j] = $ffi->cast('const char*', \FFI::addr($vb[0]));
				$j++;
			}
		}
		$res = $ffi->new('thresh_plugin_learn_result');
		$res->size = \FFI::sizeof($res);
		$rc = $fn($this->handle(), $count, $nfields, $names, $values, $labs, $rcs, \FFI::addr($res));
		if ($rc !== 0)
			throw $this->lib->error($rc);
		foreach ($keys as $i => $key)
			if ($rcs[$i] !== 0)
				$out['refused'][$key] = $this->failure($rcs[$i], $comments[$key][1]);
		$out['learned'] = (int)$res->learned;
		$out['duplicates'] = (int)$res->duplicates;
		$out['moved'] = (int)$res->moved;
		return $out;
	}

	/* Take back an earlier learn of the comment under $label; unlearning a
	 * comment that was not learned changes nothing. */
	public function unlearn(string $label, array $fields): void
	{
		$this->learnOp($this->lib->table->unlearn, $label, $fields);
	}

	/* Read thresh.conf (and the identity secret) again; on error the
	 * configuration in force is kept. */
	public function reload(): void
	{
		$err = $this->lib->ffi->new('char[512]');
		$rc = ($this->lib->table->reload)($this->handle(), $err, 512);
		if ($rc !== 0)
			throw $this->lib->error($rc, \FFI::string($err));
	}

	private function learnOp(\FFI\CData $fn, string $label, array $fields): void
	{
		$lab = ['ham' => 0, 'spam' => 1][$label] ?? null;
		if ($lab === null)
			throw new \InvalidArgumentException("label must be 'spam' or 'ham', not '$label'");
		[$names, $values, $n, $keep] = $this->pairs($fields);
		$rc = $fn($this->handle(), $names, $values, $n, $lab);
		if ($rc !== 0)
			throw $this->failure($rc, $fields);
	}

	private function handle(): \FFI\CData
	{
		if ($this->db === null)
			throw new \LogicException('operation on a closed Thresh\Database');
		return $this->db;
	}

	/* The fields as [name => string value], nulls left out, checked for
	 * what C strings cannot carry. */
	private function strings(array $fields): array
	{
		$out = [];
		foreach ($fields as $k => $v) {
			if ($v === null)
				continue;
			$k = (string)$k;
			if (is_int($v) || is_float($v))
				$v = (string)$v;
			elseif (!is_string($v))
				throw new \InvalidArgumentException("field '$k': expected a string or a number, not "
				                                    . get_debug_type($v));
			if (str_contains($k, "\0"))
				throw new Exception('a field name holds a NUL byte', Exception::ENUL);
			if (str_contains($v, "\0"))
				throw new Exception("field '$k' holds a NUL byte", Exception::ENUL);
			$out[$k] = $v;
		}
		return $out;
	}

	/* The C arrays of names and values, and the buffers they point into
	 * (which must outlive the call). */
	private function pairs(array $fields): array
	{
		$fields = $this->strings($fields);
		$n = count($fields);
		$names = $this->lib->ffi->new('const char*[' . max($n, 1) . ']');
		$values = $this->lib->ffi->new('const char*[' . max($n, 1) . ']');
		$keep = [];
		$i = 0;
		foreach ($fields as $k => $v) {
			$keep[] = $kb = $this->lib->cstr((string)$k);
			$keep[] = $vb = $this->lib->cstr($v);
			$names[$i] = $this->lib->ffi->cast('const char*', \FFI::addr($kb[0]));
			$values[$i] = $this->lib->ffi->cast('const char*', \FFI::addr($vb[0]));
			$i++;
		}
		return [$names, $values, $n, $keep];
	}

	/* The Exception of a failed check or learn, naming an unknown field. */
	private function failure(int $rc, array $fields): Exception
	{
		$detail = '';
		if ($rc === Exception::EFIELD) {
			$bad = array_filter(array_map('strval', array_keys($fields)), fn($k) => !$this->lib->isField($k));
			$detail = implode(', ', $bad);
		}
		return $this->lib->error($rc, $detail);
	}
}
