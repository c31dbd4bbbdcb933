// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * User space is not trusted: this test bypasses libtld, registers its own
 * meta and data pages for a thread (vouching for them as libtld does), and
 * writes garbage into them on purpose
 * (huge counts, unterminated names, huge sizes, bad starts), then random
 * pages, then random pages that another thread keeps rewriting while BPF
 * reads. For every key the BPF reader must return exactly what the lookup
 * rule of docs/abi.md gives (test/model.h, written from the text), and a pointer p
 * only with [p, p + size) inside the data area. Every data word holds its
 * own page offset, so the value read also proves where BPF read it. While
 * the meta page changes under BPF there is no model to hold it to, but the
 * bounds must hold.
 *
 * Checked to fail (make mutate): dropping the "sz >= size" test in
 * __tld_fetch_key() makes crafted and random cases disagree with the
 * model. Out-of-page reads cannot be mutated in: the verifier rejects them.
 * Last, tldtool reads hostile pages (tldtool_reads()).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "harness.h"
#include "model.h"

#define ITERATIONS	3000
#define RACING_READS	20000


static struct tld_meta_u *meta;
static struct tld_data_u *data;
static int map_fd, pidfd;
static struct reader_bpf *reader;

/* Update this thread's entry and vouch for it, as libtld would. */
static void attach(struct tld_map_value *v)
{
	th_vouch(TLD_VOUCH_ANNOUNCE, data->unused, th_gettid());
	if (bpf_map_update_elem(map_fd, &pidfd, v, 0))
		th_fatal("update: %m");
	th_vouch(TLD_VOUCH_COMMIT, data->unused, th_gettid());
}

/* Register the pages with @start and a fresh cookie, read, compare. */
static void probe(unsigned int start, const char *what)
{
	struct tld_map_value v = { .data = data, .meta = meta, .start = start };
	struct th_result r;
	int k, want;

	data->unused = ((__u64)rand() << 32 | rand()) | 1;
	attach(&v);
	th_mark(0);
	if (!TH_CHECK(th_result(reader, th_gettid(), &r), "%s: BPF saw nothing", what))
		return;
	if (!th_model_start_valid(start)) {
		TH_CHECK(r.init_err == -22, "%s: start %u accepted (%d)", what, start, r.init_err);
		return;
	}
	TH_CHECK(r.init_err == 0, "%s: init %d", what, r.init_err);
	for (k = 0; k < TH_NKEYS; k++) {
		want = th_model_lookup(meta, start, th_keys[k].name, th_keys[k].size);
		TH_CHECK(r.off[k] == want, "%s: %s at %d, model says %d", what, th_keys[k].name,
			 r.off[k], want);
		if (r.off[k] < 0)
			continue;
		TH_CHECK((unsigned int)r.off[k] >= start && r.off[k] + th_keys[k].size <= TLD_PAGE_SIZE,
			 "%s: %s at %d escapes the data area", what, th_keys[k].name, r.off[k]);
		TH_CHECK(r.head[k] == (__u64)r.off[k] &&
			 r.tail[k] == (__u64)r.off[k] + th_keys[k].size - 8,
			 "%s: %s read from elsewhere (%llu)", what, th_keys[k].name, r.head[k]);
	}
}

static void entry(int i, const char *name, unsigned int size)
{
	memset(meta->metadata[i].name, 0, TLD_NAME_LEN);
	strncpy(meta->metadata[i].name, name, TLD_NAME_LEN);
	meta->metadata[i].size = size;
}

static void crafted(void)
{
	int i;

	/* Everything at its maximum and nothing terminated. */
	memset(meta, 'x', TLD_PAGE_SIZE);
	meta->cnt = 0xffff;
	for (i = 0; i < TLD_MAX_KEYS; i++)
		meta->metadata[i].size = 0xffff;
	probe(TLD_DATA_HDR, "all garbage");

	/* A wanted name after entries that already fill the page. */
	memset(meta, 0, TLD_PAGE_SIZE);
	entry(0, "big", 4000);
	entry(1, "big2", 4000);
	entry(2, "test.static", 8);
	meta->cnt = 3;
	probe(TLD_DATA_HDR, "past the data area");

	/* The right name with too small a size, then a valid one. */
	entry(0, "test.static", 4);
	entry(1, "test.dyn", 8);
	meta->cnt = 2;
	probe(TLD_DATA_HDR, "size too small");

	/* A key ending exactly at the page end, and one 8 bytes too far. */
	entry(0, "fill.last", 8);
	entry(1, "test.blob", 32);
	meta->cnt = 2;
	probe(TLD_PAGE_SIZE - 8, "last word");
	probe(TLD_PAGE_SIZE - 32, "blob over the end");

	/* A count larger than the page holds, entries all valid. */
	for (i = 0; i < TLD_MAX_KEYS; i++)
		entry(i, i == 62 ? "k62" : "pad", 8);
	meta->cnt = 1000;
	probe(TLD_DATA_HDR, "count past 63");

	/* Starts the reader must refuse. */
	probe(0, "start 0");
	probe(4, "start inside the header");
	probe(TLD_DATA_HDR + 3, "misaligned start");
	probe(TLD_PAGE_SIZE, "start at the page end");
}

static void random_meta(void)
{
	unsigned int i, n;

	memset(meta, 0, TLD_PAGE_SIZE);
	n = rand() % 8 ? rand() % (TLD_MAX_KEYS + 2) : rand() % 0x10000;
	meta->cnt = n;
	for (i = 0; i < TLD_MAX_KEYS; i++) {
		if (rand() % 3)
			entry(i, th_keys[rand() % TH_NKEYS].name, th_keys[rand() % TH_NKEYS].size);
		else
			memset(meta->metadata[i].name, 'a' + rand() % 3, TLD_NAME_LEN);
		switch (rand() % 4) {
		case 0: meta->metadata[i].size = rand() % 0x10000; break;
		case 1: meta->metadata[i].size = rand() % 64; break;
		default: break;
		}
	}
}

static volatile bool racing;

/* Rewrites the meta page with random words, as fast as it can. */
static void *scribbler(void *arg)
{
	__u64 x = 88172645463325252ull, *words = (__u64 *)meta;

	(void)arg;
	while (racing) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		words[x % (TLD_PAGE_SIZE / 8)] = x & 0x0101010101010101ull ? x : x >> 48;
		if (!(x & 0xff))
			meta->cnt = x >> 56;
	}
	return NULL;
}

/* No model while the page moves, but p must stay in the data area. */
static void racing_reads(void)
{
	struct tld_map_value v = { .data = data, .meta = meta, .start = TLD_DATA_HDR };
	struct th_result r;
	pthread_t t;
	int i, k;

	racing = true;
	pthread_create(&t, NULL, scribbler, NULL);
	for (i = 0; i < RACING_READS; i++) {
		v.start = TLD_DATA_HDR + 8 * (i % 64);
		data->unused = i + 1;
		attach(&v);
		th_mark(0);
		if (!th_result(reader, th_gettid(), &r) || r.init_err)
			continue;
		for (k = 0; k < TH_NKEYS; k++) {
			if (r.off[k] < 0)
				continue;
			TH_CHECK((unsigned int)r.off[k] >= v.start &&
				 r.off[k] + th_keys[k].size <= TLD_PAGE_SIZE &&
				 r.head[k] == (__u64)r.off[k],
				 "racing: %s at %d (start %u) read %llu", th_keys[k].name, r.off[k],
				 v.start, r.head[k]);
		}
	}
	racing = false;
	pthread_join(t, NULL);
}

/*
 * tldtool reads the same pages as root: a 4,096-byte printable key from
 * offset 0 and a name that forges a row and hides the terminal's text. It
 * must neither fault (the ASan build checks its reads and writes) nor
 * print a control byte.
 */
static void tldtool_reads(void)
{
	static const char *const cmds[] = { "-j show %d", "show %d", "keys %d" };
	static const char name[] = "x=1\n  1  systemd  prio=99\033[8m";
	struct tld_map_value v = { .data = data, .meta = meta, .start = 0 };
	char cmd[64], out[32768];
	unsigned int i;
	int st;

	memset(meta, 0, TLD_PAGE_SIZE);
	memcpy(meta->metadata[0].name, name, sizeof(name));
	meta->metadata[0].size = TLD_PAGE_SIZE;
	meta->cnt = 1;
	memset(data, 'A', TLD_PAGE_SIZE);
	attach(&v);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(cmd, sizeof(cmd), cmds[i], getpid());
		st = th_tldtool(cmd, out, sizeof(out));
		TH_CHECK(st == 0, "tldtool %s on hostile pages: status %d: %.200s", cmd, st, out);
		TH_CHECK(!strchr(out, '\033') && !strstr(out, "\n  1  systemd"),
			 "tldtool %s printed a control byte or a forged row: %.300s", cmd, out);
	}
}

int main(void)
{
	unsigned int start;
	struct th_map map;
	int i;

	th_map_create(&map, NULL);
	reader = th_reader_load();
	map_fd = bpf_obj_get(map.path);
	pidfd = th_thread_pidfd(th_gettid());
	meta = mmap(NULL, TLD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	data = mmap(NULL, TLD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map_fd < 0 || pidfd < 0 || meta == MAP_FAILED || data == MAP_FAILED)
		th_fatal("setup: %m");
	for (i = 0; i < TLD_PAGE_SIZE / 8; i++)
		((__u64 *)data)[i] = i * 8;

	srand(1);
	crafted();
	for (i = 0; i < ITERATIONS; i++) {
		random_meta();
		start = rand() % 16 ? TLD_DATA_HDR + 8 * (rand() % 64) : rand() % TLD_PAGE_SIZE;
		probe(start, "random");
	}
	racing_reads();
	tldtool_reads();

	th_reader_destroy(reader);
	th_map_remove(&map);
	th_done();
}
