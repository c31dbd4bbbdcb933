// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tldtool: create the tld map and look at what threads publish. This file
 * only parses options and dispatches; what subcommands share is in common.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tld/agent.h>

#include "tldtool.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: tldtool [OPTIONS] map create [--mode MODE] [--group GROUP] [--force] [--no-sweep]\n"
		"       tldtool [OPTIONS] map show\n"
		"       tldtool [OPTIONS] map remove\n"
		"       tldtool [OPTIONS] show [PID|--all]\n"
		"       tldtool [OPTIONS] keys PID\n"
		"       tldtool [OPTIONS] top [--interval S] [--iterations N] [--by KEY]\n"
		"       tldtool [OPTIONS] agent create [--max-records N] [--task-size B] [--cgroup-size B] [--reserve N]\n"
		"                                      [--mode MODE] [--group GROUP] [--force]\n"
		"       tldtool [OPTIONS] agent show [--tasks|--cgroups]\n"
		"       tldtool [OPTIONS] agent remove\n"
		"       tldtool [OPTIONS] cgroup set PATH KEY VALUE | get PATH KEY | clear PATH KEY | show PATH\n"
		"\n"
		"Options:\n"
		"  --path PATH   the pinned map (default: $TLD_MAP_PATH, else %s);\n"
		"                for agent, the store's directory (default: $TLD_AGENT_PATH, else %s)\n"
		"  -j, --json    JSON output\n"
		"  -p, --pretty  indented JSON output (implies --json)\n"
		"  -h, --help    this text\n"
		"  -V, --version the version\n",
		TLD_DEFAULT_MAP_PATH, TLD_AGENT_DEFAULT_PATH);
}

static const struct option tldtool_options[] = {
	{ "path",	required_argument,	NULL, 'P' },
	{ "mode",	required_argument,	NULL, 'm' },
	{ "group",	required_argument,	NULL, 'g' },
	{ "force",	no_argument,		NULL, 'f' },
	{ "no-sweep",	no_argument,		NULL, 'S' },
	{ "interval",	required_argument,	NULL, 'i' },
	{ "iterations",	required_argument,	NULL, 'n' },
	{ "all",	no_argument,		NULL, 'a' },
	{ "by",		required_argument,	NULL, 'b' },
	{ "max-records", required_argument,	NULL, 'R' },
	{ "task-size",	required_argument,	NULL, 'T' },
	{ "cgroup-size", required_argument,	NULL, 'C' },
	{ "reserve",	required_argument,	NULL, 'r' },
	{ "tasks",	no_argument,		NULL, 't' },
	{ "cgroups",	no_argument,		NULL, 'c' },
	{ "json",	no_argument,		NULL, 'j' },
	{ "pretty",	no_argument,		NULL, 'p' },
	{ "help",	no_argument,		NULL, 'h' },
	{ "version",	no_argument,		NULL, 'V' },
	{ 0 }
};

int main(int argc, char **argv)
{
	struct tldtool t = {
		.sweep = -1,
		.records = -1,
		.max_records = 65536,
		.task_size = 64,
		.cgroup_size = 64,
		.reserve = 256,
	};
	bool pretty = false;
	int c;

	while ((c = getopt_long(argc, argv, "jphV", tldtool_options, NULL)) != -1) {
		switch (c) {
		case 'P': t.path = optarg; break;
		case 'm': t.mode = optarg; break;
		case 'g': t.group = optarg; break;
		case 'f': t.force = true; break;
		case 'S': t.sweep = 0; break;
		case 'i': t.interval = atof(optarg); break;
		case 'n': t.iterations = atoi(optarg); break;
		case 'a': break;
		case 'b': t.by = optarg; break;
		case 'R': t.max_records = strtoul(optarg, NULL, 0); break;
		case 'T': t.task_size = strtoul(optarg, NULL, 0); break;
		case 'C': t.cgroup_size = strtoul(optarg, NULL, 0); break;
		case 'r': t.reserve = strtoul(optarg, NULL, 0); break;
		case 't': t.records = TLD_AGENT_TASK; break;
		case 'c': t.records = TLD_AGENT_CGROUP; break;
		case 'p': pretty = true; /* fall through */
		case 'j': t.json = true; break;
		case 'h': usage(stdout); return TLDTOOL_OK;
		case 'V': printf("tldtool %d.%d (tld ABI v%d)\n", TLD_VERSION_MAJOR,
				 TLD_VERSION_MINOR, TLD_ABI_VERSION);
			  return TLDTOOL_OK;
		default: usage(stderr); return TLDTOOL_USAGE;
		}
	}
	json_init(&t.j, stdout, pretty);
	argc -= optind;
	argv += optind;
	if (argc >= 1 && !strcmp(argv[0], "map"))
		return tldtool_map(&t, argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "show"))
		return tldtool_show(&t, argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "keys"))
		return tldtool_keys(&t, argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "top"))
		return tldtool_top(&t, argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "agent"))
		return tldtool_agent(&t, argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "cgroup"))
		return tldtool_cgroup(&t, argc - 1, argv + 1);
	usage(stderr);
	return TLDTOOL_USAGE;
}
