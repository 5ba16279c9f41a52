/* main.c - `thresh`, the admin command of the thresh comment-spam filter:
 * global options and the dispatch to one function per command.
 *
 *   thresh [--db DIR] COMMAND [OPTIONS] [ARGS]
 *
 * The command uses the public API alone, like any other program would. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	cli_cmd_fn fn;
} commands[] = {
	{"init", cmd_init},     {"train", cmd_train},   {"untrain", cmd_untrain},
	{"check", cmd_check},   {"eval", cmd_eval},     {"stats", cmd_stats},
	{"export", cmd_export}, {"import", cmd_import}, {"prune", cmd_prune},
	{"set", cmd_set},       {"get", cmd_get},       {"config", cmd_config},
	{"rotate-secret", cmd_rotate_secret}, {"replicate", cmd_replicate},
	{"sites", cmd_sites},
};

static cli_cmd_fn find_command(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(commands[i].name, name))
			return commands[i].fn;
	return NULL;
}

/* cmd_help - `thresh help [COMMAND]`. */
static int cmd_help(int argc, char **argv)
{
	if (argc > 2)
		return usage_error(NULL, "help: give one command");
	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "--help")) {
		help_print(stdout, NULL);
		return CLI_OK;
	}
	if (!find_command(argv[1]))
		return usage_error(NULL, "no such command '%s'", argv[1]);
	help_print(stdout, argv[1]);
	return CLI_OK;
}

int main(int argc, char **argv)
{
	struct cli cli;
	int i = 1, status;
	memset(&cli, 0, sizeof cli);

	while (i < argc && argv[i][0] == '-' && argv[i][1]) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			help_print(stdout, NULL);
			return CLI_OK;
		}
		if (!strcmp(a, "--version")) {
			printf("thresh %s (libthresh %s)\n", THRESH_VERSION_STRING, thresh_version());
			return CLI_OK;
		}
		if (!strcmp(a, "--db")) {
			if (i + 1 >= argc)
				return usage_error(NULL, "option '--db' needs a value");
			cli.db_opt = argv[i + 1];
			i += 2;
			continue;
		}
		if (!strncmp(a, "--db=", 5)) {
			cli.db_opt = a + 5;
			i++;
			continue;
		}
		return usage_error(NULL, "unknown option '%s'", a);
	}
	if (i >= argc)
		return usage_error(NULL, "missing COMMAND");

	const char *name = argv[i];
	if (!strcmp(name, "help")) {
		status = cmd_help(argc - i, argv + i);
	} else {
		cli_cmd_fn fn = find_command(name);
		if (!fn)
			return usage_error(NULL, "unknown command '%s'", name);
		status = fn(&cli, argc - i, argv + i);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_warn("writing the output: %s", strerror(errno ? errno : EIO));
		if (status < CLI_FAIL)
			status = CLI_FAIL;
	}
	return status;
}
