/* help.c - the help texts of `thresh` and its usage messages.
 *
 * Each text starts with its "usage:" lines (up to the first empty line);
 * usage_error() repeats them under an error. Keep these texts true to the
 * code and to docs/thresh.1. */
#include <stdarg.h>
#include <string.h>

#include "cli.h"

#define ENV_DB                                                                                \
	"Environment:\n"                                                                          \
	"  THRESH_DB      the database folder when --db is not given\n"                           \
	"  XDG_DATA_HOME  without --db and THRESH_DB the folder is $XDG_DATA_HOME/thresh\n"      \
	"                 (when XDG_DATA_HOME is an absolute path), else\n"                        \
	"                 ~/.local/share/thresh\n"                                                 \
	"  THRESH_MODEL   the model dump a new database starts from (default: the\n"              \
	"                 model installed with thresh; a thresh run from its build\n"             \
	"                 folder uses that build's models/default.dump)\n"

#define ENV_NOW                                                                               \
	"  THRESH_NOW     seconds since the epoch: the time given to every comment\n"             \
	"                 learned or checked, instead of now (for tests and replays of\n"        \
	"                 old comments; token ages, and so prune, follow it)\n"

#define CREATES                                                                               \
	"A missing database folder is created from the default model first, with a\n"           \
	"note on stderr (\"thresh: created DIR from the default model\").\n"

#define EXIT_FAIL "  3  usage error, database error, or a file that cannot be read or written\n"

static const char general_help[] =
	"usage: thresh [--db DIR] COMMAND [OPTIONS] [ARGS]\n"
	"       thresh --help | --version | help COMMAND\n"
	"\n"
	"thresh is the admin command of the thresh comment-spam filter: it creates a\n"
	"database, trains it from moderation decisions, checks comments and measures\n"
	"how well the classifier separates spam from ham.\n"
	"\n"
	"Commands:\n"
	"  init      create the database (from the default model, or --empty)\n"
	"  train     learn comments as spam or ham\n"
	"  untrain   take back comments learned earlier\n"
	"  check     check one comment (stdin), or score every line of a file (--tsv)\n"
	"  eval      cross-validate the classifier on a labelled file\n"
	"  stats     show the database's counts and parameters\n"
	"  export    write the model to a dump file\n"
	"  import    load a dump file (replace the model, or --merge into it)\n"
	"  prune     forget tokens not seen for a number of days\n"
	"  set       store a classifier parameter\n"
	"  get       show classifier parameters\n"
	"  config    show the configuration in force (thresh.conf)\n"
	"  rotate-secret  replace the secret that identities are hashed with\n"
	"  replicate publish and apply the cluster's training log (a node without threshd)\n"
	"  sites     list, add, remove or rename the sites of a threshd --sites folder\n"
	"  help      show the help of a command (as COMMAND --help does)\n"
	"\n"
	"Global options:\n"
	"  --db DIR     the database folder (also accepted after the command)\n"
	"  -h, --help   this help\n"
	"  --version    the versions of thresh and of the loaded libthresh\n"
	"\n"
	"The database folder is --db DIR, else $THRESH_DB, else $XDG_DATA_HOME/thresh,\n"
	"else ~/.local/share/thresh. Every command but init and eval creates a missing\n"
	"database from the default model first, with a note on stderr. sites works on\n"
	"the folder of many databases that threshd --sites serves instead (no --db).\n"
	"\n" ENV_DB ENV_NOW
	"  TMPDIR         where eval makes its temporary databases (default /tmp)\n"
	"  THRESH_SITES   the folder of threshd's sites, for sites\n"
	"\n"
	"Exit status:\n"
	"  0  success; for check: the verdict is accept\n"
	"  1  check: hold\n"
	"  2  check: reject\n" EXIT_FAIL
	"  4  bad input: a line or comment was refused (the other lines were used)\n"
	"  130  interrupted by SIGINT or SIGTERM (train, untrain, eval)\n";

static const char init_help[] =
	"usage: thresh [--db DIR] init [--empty]\n"
	"\n"
	"Create the database folder. It starts from the default model (the dump named\n"
	"by $THRESH_MODEL, else the one installed with thresh, or the one its build\n"
	"made when thresh runs from its build folder), or empty with --empty.\n"
	"Creation is atomic. An existing database is left alone and is an error.\n"
	"Prints \"created DIR from the default model\" or \"created DIR (empty)\".\n"
	"\n"
	"Options:\n"
	"  --empty     start with an empty model instead of the default one\n"
	"  --db DIR    the database folder\n"
	"  -h, --help  this help\n"
	"\n" ENV_DB
	"\n"
	"Exit status:\n"
	"  0  created\n" EXIT_FAIL
	"     (a database already exists there, or the default model is missing)\n";

#define LEARN_FORMS(cmd)                                                                      \
	"usage: thresh [--db DIR] " cmd " spam|ham [FILE...]\n"                                  \
	"       thresh [--db DIR] " cmd " --tsv [FILE...]\n"                                     \
	"       thresh [--db DIR] " cmd " --jsonl [FILE...]\n"                                   \
	"       thresh [--db DIR] " cmd " --wp-json [FILE...]\n"                                 \
	"       thresh [--db DIR] " cmd " --wp-mariadb [FILE...]\n"

#define LEARN_INPUT                                                                           \
	"Input (standard input when no FILE is given; '-' names it):\n"                         \
	"  spam|ham   one comment per line, all with that label\n"                             \
	"  --tsv      lines \"LABEL<TAB>TEXT\", LABEL spam or ham; the text may hold tabs\n"   \
	"  --jsonl    one JSON object per line: \"label\" (\"spam\" or \"ham\") and the\n"       \
	"             comment's fields: content, author, email, url, ip, user_agent,\n"       \
	"             referrer, permalink, type, lang, honeypot, form_age, or their\n"        \
	"             Akismet names (comment_content, comment_author, ...). Values are\n"     \
	"             strings (numbers are taken as written, null leaves a field out);\n"     \
	"             an unknown or repeated key is an error.\n"                               \
	"  --wp-json  a WordPress site's comments as its REST API returns them, each FILE\n"   \
	"             one page (a JSON array) as curl saves it, with an application\n"       \
	"             password (Users > Profile):\n"                                          \
	"               u='https://SITE/wp-json/wp/v2/comments?context=edit&per_page=100'\n" \
	"               curl -fsS -u 'admin:APP PASSWORD' \"$u&status=approve&page=1\" >a1\n" \
	"             then page=2 up to its X-WP-TotalPages header, and status=spam;\n"    \
	"             context=edit gives the text as stored, the e-mail, IP and agent\n"    \
	"  --wp-mariadb  the output of a mariadb --batch query of wp_comments: a header\n"  \
	"             line naming the columns, then rows; comment_approved and\n"           \
	"             comment_content are required, comment_author, comment_author_email,\n" \
	"             comment_author_url, comment_author_IP, comment_agent and\n"           \
	"             comment_type are read when present, other columns ignored:\n"         \
	"               mariadb --batch --default-character-set=utf8mb4 -e \"SELECT\n"       \
	"               comment_approved, comment_author, comment_author_email,\n"          \
	"               comment_author_url, comment_author_IP, comment_agent, comment_type,\n" \
	"               comment_content FROM wp_comments WHERE comment_approved IN\n"       \
	"               ('1', 'spam') AND comment_type IN ('', 'comment') ORDER BY\n"       \
	"               comment_date_gmt DESC LIMIT 5000\" WPDB > comments.tsv\n"           \
	"             With both, an approved comment is ham and spam is spam; any other\n"  \
	"             status (hold, trash, ...) is skipped and counted. A comment is\n"     \
	"             learned as threshd's Akismet endpoints learn it (character\n"         \
	"             references decoded, white space trimmed), so one learned here and\n"  \
	"             again when a moderator marks it counts once.\n"                        \
	"Lines may end in LF or CRLF; empty lines are skipped.\n"                               \
	"\n"                                                                                     \
	"Bad lines: a line with invalid UTF-8, a NUL byte, a field over its size\n"            \
	"limit, a bad label, no text, or malformed JSON is reported on stderr as\n"             \
	"\"thresh: FILE:LINE: reason\" and skipped; the good lines are still used and\n"         \
	"the exit status is 4. Every FILE is checked before anything is stored, so a\n"        \
	"missing or unreadable file changes nothing; so is every --wp-json page (a\n"         \
	"malformed one, or an error WordPress answered instead, stops the command) and\n"   \
	"the header line of every --wp-mariadb file (a pipe's when its turn comes). A bad\n" \
	"comment in them is a bad row, reported and skipped as a bad line.\n"                 \
	"\n"                                                                                     \
	"Comments are stored in batches of 10000 (--batch N), each in one transaction:\n"     \
	"the database only ever holds whole batches, and a crash loses at most the\n"         \
	"batch being read (running the same command again is safe: what was stored is\n"     \
	"not counted twice). Larger batches train faster. SIGINT or SIGTERM stops the\n"     \
	"reading, stores the comments read so far and prints the summary of what was\n"      \
	"stored (exit 130).\n"                                                                \
	"A progress line is drawn on stderr when stderr is a terminal.\n"

static const char train_help[] =
	LEARN_FORMS("train")
	"\n"
	"Learn comments as spam or ham. A comment already learned under the same label\n"
	"is not counted again (a duplicate); one learned under the other label moves.\n"
	"These are the site's own decisions; the default model the database started\n"
	"from is a layer apart (the prior), which counts for less as the site's own\n"
	"decisions show it predicts them badly (see thresh stats). At the end one\n"
	"summary line on stdout:\n"
	"  trained N comments: L learned, D duplicates, M moved; S lines skipped\n"
	"With --wp-json and --wp-mariadb it ends in the rows of other statuses:\n"
	"  ...; S bad rows skipped; K skipped by status: N hold, N trash\n"
	"\n"
	"With --prior the comments go into the prior layer instead, each counting\n"
	"--weight W comments (0.001 to 1000, default 1), with no duplicate detection\n"
	"and no author records: this is how a default model is made from corpora of\n"
	"unequal worth (models/build-model.sh). The summary is then\n"
	"  trained N comments into the prior at weight W; S lines skipped\n"
	"\n" LEARN_INPUT
	"\n"
	"Options:\n"
	"  --tsv       read LABEL<TAB>TEXT lines\n"
	"  --jsonl     read JSON lines\n"
	"  --wp-json   read pages of WordPress's REST API (comments)\n"
	"  --wp-mariadb  read a mariadb --batch query of WordPress's wp_comments\n"
	"  --batch N   comments per transaction, 1 to 1000000 (default 10000)\n"
	"  --prior     train the prior layer (a default model) instead of the site's own\n"
	"  --weight W  with --prior: what each comment counts as (default 1)\n"
	"  --db DIR    the database folder\n"
	"  -h, --help  this help\n"
	"\n" CREATES "\n" ENV_DB ENV_NOW
	"\n"
	"Exit status:\n"
	"  0  every line was learned (or was a duplicate)\n" EXIT_FAIL
	"  4  some lines were bad and skipped (the others were learned)\n"
	"  130  interrupted (what was stored is in the summary)\n";

static const char untrain_help[] =
	LEARN_FORMS("untrain")
	"\n"
	"Take back comments learned earlier under the given label; counts return to\n"
	"what they were before. A comment not learned under that label is counted as\n"
	"not found and changes nothing. At the end one summary line on stdout:\n"
	"  untrained N comments: U unlearned, F not found; S lines skipped\n"
	"With --prior [--weight W] the comments' counts are taken out of the prior\n"
	"layer instead (W each; nothing checks they were trained into it).\n"
	"\n" LEARN_INPUT
	"\n"
	"Options:\n"
	"  --tsv       read LABEL<TAB>TEXT lines\n"
	"  --jsonl     read JSON lines\n"
	"  --wp-json   read pages of WordPress's REST API (comments)\n"
	"  --wp-mariadb  read a mariadb --batch query of WordPress's wp_comments\n"
	"  --batch N   comments per transaction, 1 to 1000000 (default 10000)\n"
	"  --prior     take out of the prior layer instead of the site's own\n"
	"  --weight W  with --prior: what each comment counted as (default 1)\n"
	"  --db DIR    the database folder\n"
	"  -h, --help  this help\n"
	"\n" CREATES "\n" ENV_DB ENV_NOW
	"\n"
	"Exit status:\n"
	"  0  every line was processed\n" EXIT_FAIL
	"  4  some lines were bad and skipped (the others were untrained)\n"
	"  130  interrupted (what was stored is in the summary)\n";

static const char check_help[] =
	"usage: thresh [--db DIR] check [--json] [--explain] [--format text|json] < COMMENT\n"
	"       thresh [--db DIR] check --tsv FILE\n"
	"\n"
	"Check one comment read from standard input. Without --json the whole input is\n"
	"the comment's content, less one trailing newline; with --json it is one JSON\n"
	"object with the fields train --jsonl reads (a \"label\" is ignored).\n"
	"The text output is one line: the verdict, the score with 4 decimals and the\n"
	"reasons that fired, separated by spaces, or \"-\" when none did:\n"
	"  reject 0.9987 bayes\n"
	"With --explain, the tokens that weighed most follow, strongest first:\n"
	"  \"  PROB  spam=N ham=N  TOKEN\", e.g. \"  0.9900  spam=12 ham=0  url-host:example.com\"\n"
	"--format json prints one object instead:\n"
	"  {\"verdict\":\"reject\",\"score\":0.9987,\"reasons\":[\"bayes\"],\"blatant\":false,\n"
	"   \"retry_after\":0,\"tokens\":[{\"token\":\"...\",\"prob\":0.99,\"spam\":12,\"ham\":0}]}\n"
	"(\"tokens\" is empty without --explain). A check never changes the database.\n"
	"\n"
	"With --tsv, every line of FILE ('-': standard input) is scored against one\n"
	"snapshot of the model, and one line \"SCORE<TAB>VERDICT\" (score with 6\n"
	"decimals) is printed per input line, in order. The text before the first tab\n"
	"(a label) is ignored; a line without a tab is all text. A line that cannot be\n"
	"checked (invalid UTF-8, a NUL byte, too long) prints \"nan<TAB>error\", is\n"
	"reported on stderr as FILE:LINE, and makes the exit status 4. An existing\n"
	"database is opened read-only, its rate-limit store not at all.\n"
	"\n"
	"Options:\n"
	"  --json           read a JSON object instead of plain text\n"
	"  --explain        list the tokens that weighed most\n"
	"  --format FORMAT  text (the default) or json\n"
	"  --tsv FILE       score every line of FILE\n"
	"  --db DIR         the database folder\n"
	"  -h, --help       this help\n"
	"\n" CREATES "\n" ENV_DB ENV_NOW
	"\n"
	"Exit status:\n"
	"  0  accept (with --tsv: every line was scored)\n"
	"  1  hold\n"
	"  2  reject\n" EXIT_FAIL
	"  4  bad input: invalid UTF-8, a NUL byte, too large, malformed JSON, an\n"
	"     unknown field (--tsv: some lines could not be checked)\n";

static const char eval_help[] =
	"usage: thresh eval [--folds K] [--seed N] [--json] [--plot FILE.svg] FILE\n"
	"\n"
	"Cross-validate the classifier on FILE, lines \"LABEL<TAB>TEXT\" (LABEL spam or\n"
	"ham; '-' reads standard input). Repeated texts are dropped (the first is kept);\n"
	"a text found under both labels is dropped altogether. The rest is shuffled\n"
	"with a deterministic generator seeded by --seed and dealt, spam and ham apart,\n"
	"into K folds. Each fold is scored by a fresh empty database, made in a\n"
	"temporary folder under $TMPDIR and trained on the other K-1 folds; the folder\n"
	"is removed afterwards. Your own database is not used: each fold is judged at\n"
	"the cutoffs its own database has after training (fitted on its training\n"
	"decisions, see 'thresh stats').\n"
	"\n"
	"Printed (spam is the positive class): the number of comments, the ROC AUC\n"
	"(rank-based, ties averaged), the cutoffs (their mean over the folds, and the\n"
	"lowest and highest), accuracy, precision, recall and F1 when a score at or\n"
	"above its fold's reject_cutoff counts as spam and when a score at or above\n"
	"0.5 does, and the moderation table: the percentage of ham and of spam\n"
	"accepted (score below its fold's hold_cutoff), held (from hold_cutoff up to\n"
	"reject_cutoff) and rejected (reject_cutoff and above).\n"
	"With --json one object with the keys n, n_spam, n_ham, folds, seed,\n"
	"duplicates_dropped, conflicts_dropped, bad_lines, hold_cutoff, reject_cutoff,\n"
	"hold_cutoff_min, hold_cutoff_max, reject_cutoff_min, reject_cutoff_max,\n"
	"auc, accuracy, precision, recall, f1, accuracy_05, precision_05, recall_05,\n"
	"f1_05, ham_accepted_pct, ham_held_pct, ham_rejected_pct, spam_accepted_pct,\n"
	"spam_held_pct, spam_rejected_pct (percentages from 0 to 100; a precision\n"
	"with nothing predicted spam is 0).\n"
	"Bad lines are reported as FILE:LINE and skipped (exit status 4 at the end).\n"
	"With --plot, also draw the ROC curve and the histograms of the ham and spam\n"
	"scores, with the hold and reject cutoffs marked, as an SVG picture, for\n"
	"choosing cutoffs (see 'thresh set').\n"
	"\n"
	"Options:\n"
	"  --folds K   the number of folds, 2 to 1000 (default 5)\n"
	"  --seed N    the shuffle's seed, a whole number (default 1)\n"
	"  --json      print one JSON object\n"
	"  --plot FILE.svg  write the ROC curve and score histograms to FILE.svg\n"
	"  -h, --help  this help\n"
	"\n"
	"Environment:\n"
	"  TMPDIR      where the temporary databases go (default /tmp)\n" ENV_NOW
	"\n"
	"Exit status:\n"
	"  0  success\n" EXIT_FAIL
	"  4  bad lines were skipped, or too few usable comments (both labels and at\n"
	"     least K comments are needed)\n"
	"  130  interrupted (the temporary databases are removed)\n";

static const char stats_help[] =
	"usage: thresh [--db DIR] stats [--json]\n"
	"\n"
	"Show the database: its folder, format version, tokenizer feature set, the\n"
	"site's own comments learned as spam and as ham, the prior's (the default\n"
	"model the database started from, weighted), the weight the prior has in\n"
	"checks now and how many comments it counts as (chosen by the site's own\n"
	"decisions, or set by prior_comments), the site's share of the comments a\n"
	"check counts, the distinct tokens, the comments remembered for duplicate\n"
	"detection (learned), the LMDB map size and the bytes in use, then every\n"
	"classifier parameter in force (stored, or overridden by thresh.conf), as\n"
	"lines \"NAME:  VALUE\" and \"PARAM  VALUE\". With --json one object: database,\n"
	"format_version, tokenizer, spam_messages, ham_messages, tokens, learned,\n"
	"map_size, used_bytes, prior {spam_messages, ham_messages, weight, counts_as,\n"
	"weight_by}, site_share and params {NAME: VALUE}.\n"
	"\n"
	"Options:\n"
	"  --json      print one JSON object\n"
	"  --db DIR    the database folder\n"
	"  -h, --help  this help\n"
	"\n" CREATES "\n" ENV_DB
	"\n"
	"Exit status:\n"
	"  0  success\n" EXIT_FAIL;

static const char export_help[] =
	"usage: thresh [--db DIR] export FILE\n"
	"\n"
	"Write the model (format, tokenizer, key, parameters, counts, every token and\n"
	"the digests of learned comments) to the dump file FILE, a versioned text\n"
	"format. The identity secret, author records and rate-limit state are never\n"
	"exported. The dump is written beside FILE and renamed into place, so a crash\n"
	"never leaves half a dump ('-' is refused: standard output cannot be renamed\n"
	"into place). Prints \"exported FILE: N spam, N ham, N tokens\".\n"
	"\n"
	"Options:\n"
	"  --db DIR    the database folder\n"
	"  -h, --help  this help\n"
	"\n" CREATES "\n" ENV_DB
	"\n"
	"Exit status:\n"
	"  0  success\n" EXIT_FAIL;

static const char import_help[] =
	"usage: thresh [--db DIR] import [--merge] FILE\n"
	"\n"
	"Load a dump written by export. Without --merge the model is replaced by the\n"
	"dump's (its key, tokenizer, parameters, counts and tokens); with --merge the\n"
	"dump's counts are added to the model, which needs a dump of the same model\n"
	"(same key and tokenizer). The whole dump is checked before anything is\n"
	"stored, and stored in one transaction: a bad dump changes nothing and is\n"
	"reported as \"thresh: import FILE: line N: reason\".\n"
	"Prints \"imported FILE: the model now has N spam, N ham, N tokens\" (\"merged\"\n"
	"with --merge).\n"
	"\n"
	"Options:\n"
	"  --merge     add to the model instead of replacing it\n"
	"  --db DIR    the database folder\n"
	"  -h, --help  this help\n"
	"\n"
	"A missing database folder is created first: empty when replacing (the dump\n"
	"replaces everything anyway), from the default model with --merge.\n"
	"\n" ENV_DB
	"\n"
	"Exit status:\n"
	"  0  success\n" EXIT_FAIL
	"  4  the dump is malformed, truncated or of a format version this build\n"
	"     cannot read\n";

static const char prune_help[] =
	"usage: thresh [--db DIR] prune --older-than DAYS [--min-count N]\n"
	"\n"
	"Forget the tokens not seen in a learned comment for DAYS days or more (their\n"
	"last-seen day is before today - DAYS), except those seen in at least N\n"
	"comments (with --min-count; by default none is kept). A token's last-seen day\n"
	"is the day of the last comment learned with it (see THRESH_NOW).\n"
	"Prints \"pruned N tokens\".\n"
	"\n"
	"Options:\n"
	"  --older-than DAYS  the age in days, a whole number (required)\n"
	"  --min-count N      keep tokens seen in N or more comments\n"
	"  --db DIR           the database folder\n"
	"  -h, --help         this help\n"
	"\n" CREATES "\n" ENV_DB
	"\n"
	"Exit status:\n"
	"  0  success\n" EXIT_FAIL;

#define PARAMS                                                                                \
	"Parameters:\n"                                                                           \
	"  robs            Robinson's s, the strength of the prior (> 0)\n"                      \
	"  robx            Robinson's x, the estimate of an unseen token (between 0 and 1)\n"   \
	"  min_dev         tokens whose estimate lies within this of 0.5 are ignored\n"         \
	"                  (0 to below 0.5)\n"                                                   \
	"  hold_cutoff     score at or above which a comment is held (0..1)\n"                   \
	"  reject_cutoff   score at or above which a comment is rejected (0..1)\n"               \
	"  blatant_cutoff  score at or above which a rejected comment is blatant (0..1)\n"       \
	"  classifier      0: naive Bayes over token rates (default), 1: Robinson/Fisher\n"     \
	"  nb_power        naive Bayes: the summed log-odds are divided by n^nb_power (0..1)\n" \
	"  gram_weight     naive Bayes: the weight of character n-gram tokens (0..1)\n"        \
	"  nb_scale        naive Bayes: the calibration's slope, sigmoid(nb_scale x + nb_shift)\n" \
	"  nb_shift        naive Bayes: the calibration's intercept (-20..20)\n"                \
	"  reject_min_tokens  a score over reject_cutoff rejects only on this many seen\n"    \
	"                  tokens; under it the comment is held (reason unfamiliar)\n"         \
	"  prior_comments  the default model counts as at most this many comments;\n"        \
	"                  0 (default): chosen by the site's own decisions\n"                  \
	"The cutoffs must stay ordered: hold_cutoff <= reject_cutoff <= blatant_cutoff.\n"      \
	"Unless set, hold_cutoff, reject_cutoff, nb_scale and nb_shift are fitted on the\n"    \
	"site's own decisions as it learns (see thresh stats); a value set is pinned.\n"      \
	"The library refuses a value outside its range (exit status 3).\n"

static const char set_help[] =
	"usage: thresh [--db DIR] set PARAM VALUE|auto\n"
	"\n"
	"Store a classifier parameter in the database. Prints nothing on success.\n"
	"A value pins the parameter: the site's decisions no longer move it. auto\n"
	"stores the default and unpins it: hold_cutoff, reject_cutoff, nb_scale and\n"
	"nb_shift are again fitted on the site's decisions, prior_comments chosen by\n"
	"them.\n"
	"\n" PARAMS
	"\n"
	"Options:\n"
	"  --db DIR    the database folder\n"
	"  -h, --help  this help\n"
	"\n" CREATES "\n" ENV_DB
	"\n"
	"Exit status:\n"
	"  0  stored\n" EXIT_FAIL
	"     (also an unknown parameter or a value out of range)\n";

static const char get_help[] =
	"usage: thresh [--db DIR] get [PARAM]\n"
	"\n"
	"Print the value in force of a classifier parameter (stored, overridden by\n"
	"thresh.conf, or fitted on the site's decisions), or without PARAM every\n"
	"parameter as \"NAME VALUE\" lines.\n"
	"\n" PARAMS
	"\n"
	"Options:\n"
	"  --db DIR    the database folder\n"
	"  -h, --help  this help\n"
	"\n" CREATES "\n" ENV_DB
	"\n"
	"Exit status:\n"
	"  0  success\n" EXIT_FAIL;

static const char config_help[] =
	"usage: thresh [--db DIR] config [KEY]\n"
	"\n"
	"Print the configuration in force: every moderation rule with its value and\n"
	"what it does, the classifier parameters (stored, or overridden by the\n"
	"configuration file), and the keys of other programs' sections ([threshd]).\n"
	"With KEY, print that one value (\"rate_limit\", \"threshd.port\", ...).\n"
	"\n"
	"The configuration file is DIR/thresh.conf: \"key = value\" lines, '#' starts\n"
	"a comment, word lists are comma-separated and may be repeated. An unknown key\n"
	"or a bad value is an error naming the file and the line. See thresh.conf(5).\n"
	"\n"
	"Options:\n"
	"  --db DIR    the database folder\n"
	"  -h, --help  this help\n"
	"\n" CREATES "\n" ENV_DB
	"\n"
	"Exit status:\n"
	"  0  success\n" EXIT_FAIL
	"     (also a KEY that is not set, and an error in thresh.conf)\n";

static const char rotate_help[] =
	"usage: thresh [--db DIR] rotate-secret [--digests]\n"
	"\n"
	"Replace the installation's identity secret (DIR/secret, mode 0600), the key\n"
	"under which e-mail addresses, IP addresses and the model's identity tokens\n"
	"(author names, the author's site, e-mail domains, IP prefixes, addresses in\n"
	"the text) are hashed. Author records, rate-limit history and identity tokens\n"
	"are keyed by the old secret and cannot be found again, so they are dropped\n"
	"(the command says how many). The rest of the model is not touched, and the\n"
	"learned comments' digests keep their keys, which the secret file holds beside\n"
	"the new secret: a digest cannot be made again without the comment's text,\n"
	"which thresh does not keep.\n"
	"A running threshd picks the new secret up on SIGHUP.\n"
	"\n"
	"Options:\n"
	"  --digests   replace the digests' keys too, dropping the digests: the comments\n"
	"              learned so far can then be learned again (counted twice), no\n"
	"              longer unlearned, and a moderator's decision on them no longer\n"
	"              sticks\n"
	"  --db DIR    the database folder\n"
	"  -h, --help  this help\n"
	"\n" CREATES "\n" ENV_DB
	"\n"
	"Exit status:\n"
	"  0  rotated\n" EXIT_FAIL;

static const char replicate_help[] =
	"usage: thresh [--db DIR] replicate [--once | --drain] [--wait MS] [--redis ADDR]\n"
	"                                   [--node NAME] [--nodes N]\n"
	"\n"
	"Run the cluster's replicator for this node until SIGTERM or SIGINT: publish the\n"
	"learns of this node's outbox to the training log in Redis, and apply the log to\n"
	"the database, in the log's order, as every node does. Needed on a node whose\n"
	"web servers load the library (mod_thresh, PHP, Python) without threshd, which\n"
	"runs its own (dist/thresh-replicate.service runs this under systemd). One per\n"
	"node. The [cluster] section of thresh.conf says where Redis is (thresh.conf(5));\n"
	"the options below set its keys for this run.\n"
	"\n"
	"While Redis is away, learning goes on in the database and waits in the outbox;\n"
	"it is published when Redis is back. What changes (Redis away or back, a resync\n"
	"from a snapshot, a new epoch, a refusal to join) is said on stderr.\n"
	"\n"
	"Options:\n"
	"  --once         one round, then exit (status 3 when Redis did not answer)\n"
	"  --drain        rounds until the outbox is published and the log applied\n"
	"  --wait MS      how long a round waits for new events (default 50); a learn\n"
	"                 made meanwhile is published by the next round\n"
	"  --redis ADDR   unix:PATH or HOST:PORT ([cluster] redis)\n"
	"  --node NAME    this node's name ([cluster] node; default: the host name)\n"
	"  --nodes N      the number of nodes ([cluster] nodes)\n"
	"  --db DIR       the database folder\n"
	"  -h, --help     this help\n"
	"\n" ENV_DB
	"\n"
	"Exit status:\n"
	"  0  stopped by a signal, or drained\n" EXIT_FAIL
	"     (also no [cluster] configured)\n";

static const char sites_help[] =
	"usage: thresh sites [--sites DIR] [--keys FILE] list [--json]\n"
	"       thresh sites [--sites DIR] [--keys FILE [--akismet-key]] add NAME\n"
	"       thresh sites [--sites DIR] [--keys FILE] remove NAME --yes\n"
	"       thresh sites [--sites DIR] [--keys FILE] rename OLD NEW\n"
	"\n"
	"Look after the sites of a folder that threshd --sites DIR serves: each site's\n"
	"database is DIR/NAME, and threshd's key file (its --keys FILE) has lines\n"
	"\"KEY NAME\" that give each key its site. A site's NAME is 1 to 64 lower-case\n"
	"letters, digits, '.', '_' or '-', not starting with '.' (DIR/.prior and other\n"
	"dot names are threshd's own). Give the folder and the key file threshd is\n"
	"given.\n"
	"\n"
	"  list    every site of DIR, sorted by name, under a header: SITE, its own\n"
	"          comments learned as SPAM and HAM (not the default model's), TOKENS,\n"
	"          the comments remembered for duplicate detection (LEARNED), the BYTES\n"
	"          of its folder, and with --keys how many KEYS name it (never the\n"
	"          keys themselves).\n"
	"          With --json one array of objects: site, spam_messages, ham_messages,\n"
	"          tokens, learned, bytes (and keys). Databases are opened read-only,\n"
	"          without thresh.conf. Folders that are not databases, or not site\n"
	"          names, are skipped with a note on stderr, and so are sites the key\n"
	"          file names that have no folder yet.\n"
	"  add     make DIR/NAME now as threshd makes a site on its first request: a\n"
	"          copy of DIR/.prior (the default model; made if missing) with a\n"
	"          secret derived from .prior's and NAME, so the machines of a cluster\n"
	"          make it alike; refusing one that exists. With --keys, append a line\n"
	"          \"KEY NAME\" with a new random key (32 hex digits; with --akismet-key\n"
	"          12, the only keys WordPress's Akismet plugin takes) to FILE, made\n"
	"          with mode 0600 if missing, and print the key: it is shown only this\n"
	"          once. Then send threshd SIGHUP so that it reads the key file. A\n"
	"          missing DIR is made (0700).\n"
	"  remove  delete DIR/NAME and all it holds, and with --keys the lines of NAME\n"
	"          from FILE. Without --yes it says what it would delete and changes\n"
	"          nothing. A symbolic link, or a folder that is not a database, is left\n"
	"          alone; no link is followed. Then send threshd SIGHUP so that it\n"
	"          refuses the site's keys at once; a threshd that has the site open\n"
	"          keeps it (and its disk space) until it closes it among the least\n"
	"          recently used past open_sites, or restarts.\n"
	"  rename  rename DIR/OLD to DIR/NEW, refusing a NEW that exists, and with\n"
	"          --keys give OLD's key lines to NEW. Then restart threshd: one that\n"
	"          has OLD open must not open the same database again as NEW.\n"
	"\n"
	"A change is whole or none: the key file is written beside itself, flushed and\n"
	"renamed into place (keeping its mode and owner), and the folder's change is\n"
	"undone when that fails; comments and other sites' lines stay as they were. A\n"
	"key file threshd would refuse (a bad line, a key of two sites) is refused.\n"
	"Run as root on a DIR that another user owns (threshd's), a new site folder and\n"
	"a new key file are given to that user. DIR/thresh.conf is never changed: a\n"
	"[sites] line naming a removed or renamed site gets a note.\n"
	"\n"
	"Options:\n"
	"  --sites DIR  the sites' folder (default: $THRESH_SITES)\n"
	"  --keys FILE  threshd's key file, to count, add, drop or rename keys in\n"
	"  --json       list: print one JSON array\n"
	"  --yes        remove: really delete\n"
	"  -h, --help   this help\n"
	"\n"
	"Environment:\n"
	"  THRESH_SITES   the sites' folder when --sites is not given\n"
	"  THRESH_MODEL   the model dump a new site starts from (default: the model\n"
	"                 installed with thresh; a thresh run from its build folder\n"
	"                 uses that build's models/default.dump)\n"
	"\n"
	"Exit status:\n"
	"  0  success\n"
	"  3  a usage error, a bad site name, remove without --yes; a folder or file\n"
	"     that cannot be read or written, a site that exists (add, rename) or\n"
	"     does not (remove, rename), a bad key file; list: a site whose database\n"
	"     cannot be read (the others are listed)\n";

static const struct {
	const char *cmd;
	const char *text;
} helps[] = {
	{"config", config_help}, {"rotate-secret", rotate_help},
	{"init", init_help},     {"train", train_help},   {"untrain", untrain_help},
	{"check", check_help},   {"eval", eval_help},     {"stats", stats_help},
	{"export", export_help}, {"import", import_help}, {"prune", prune_help},
	{"set", set_help},       {"get", get_help},       {"replicate", replicate_help},
	{"sites", sites_help},
};

const char *help_text(const char *cmd)
{
	if (!cmd)
		return general_help;
	for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++)
		if (!strcmp(helps[i].cmd, cmd))
			return helps[i].text;
	return NULL;
}

void help_print(FILE *f, const char *cmd)
{
	const char *t = help_text(cmd);
	fputs(t ? t : general_help, f);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	const char *t = help_text(cmd), *end;
	fflush(stdout);
	fputs("thresh: ", stderr);
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (!t)
		t = general_help;
	end = strstr(t, "\n\n");
	fprintf(stderr, "%.*s\n", end ? (int)(end - t) : (int)strlen(t), t);
	fprintf(stderr, "Try 'thresh %s%s--help' for more.\n", cmd ? cmd : "", cmd ? " " : "");
	return CLI_FAIL;
}
