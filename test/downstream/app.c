// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A downstream program, built against the installed library only: it
 * publishes a hint with libtld, loads probe.bpf.o on the pinned map with
 * tld/loader.h, and exits 0 once BPF read the hint back.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <tld/loader.h>
#include <tld/tld.h>

TLD_DEFINE_KEY(hint_key, "downstream.hint", sizeof(__u64));

static int fail(const char *what)
{
	fprintf(stderr, "app: %s\n", what);
	return 1;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_link *link;
	__u32 tid = gettid();
	__u64 *hint = tld_get_data(hint_key), got = 0;
	int i;

	if (argc != 2 || !hint)
		return fail("usage: app PROBE.bpf.o, with a tld map (TLD_MAP_PATH)");
	*hint = 4242;
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj)
		return fail("cannot open the BPF object");
	if (bpf_map__set_initial_value(bpf_object__find_map_by_name(obj, ".rodata"), &tid,
				       sizeof(tid)) ||
	    tld_loader_reuse_map(obj, NULL) || bpf_object__load(obj))
		return fail("cannot load the BPF object on the tld map");
	link = bpf_program__attach(bpf_object__find_program_by_name(obj, "probe"));
	if (!link)
		return fail("cannot attach");
	/*
	 * A system call tracepoint's program is skipped on a CPU where another
	 * task sits preempted inside it: make calls until one is seen.
	 */
	for (i = 0; i < 1000 && got != 4242; i++) {
		getppid();
		bpf_map_lookup_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "seen")), &tid,
				    &got);
	}
	bpf_link__destroy(link);
	bpf_object__close(obj);
	if (got != 4242)
		return fail("BPF did not read the hint");
	printf("BPF read the hint of thread %u: %llu\n", tid, (unsigned long long)got);
	return 0;
}
