// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * No unprivileged process can plant or erase hints for another process's
 * tasks where a tld.bpf.h reader would believe them. The map is mode 0666,
 * as tldtool makes it; attackers run as uid 65534 and as uid 60002,
 * against a victim of uid 60001 and against another process of their own
 * uid. Each victim registers through libtld and then sleeps.
 *
 * - plant: the attacker attaches its own pages, holding 666 under the
 *   victim's key, to the victim's thread, and vouches for them as if it
 *   were the victim. A tld.bpf.h reader must never read 666; the same
 *   reader without the guard's check does, which shows the plant landed.
 *   The guard refuses both vouches (its count goes up by exactly 2); a
 *   privileged commit naming another cookie than the plant's vouches for
 *   nothing either (mismatched, exactly 1). The guard removes the plant
 *   when the victim next wakes.
 * - delete: the attacker deletes the victim's entry, which the kernel
 *   allows. While the victim sleeps, tldtool map show must count it as
 *   erased and not yet seen; the guard must count it when the victim wakes.
 * - race: two attacker threads update 10,000 times while one flips the key
 *   between the attacker's pidfd and the victim's. Zero reads of 666.
 * - inflate: the attacker announces a cookie for its own thread, attaches a
 *   page without it and sleeps, 200 times. The guard sweeps each page and
 *   counts no erasure: no vouched entry was touched (it counted 200 before).
 * - The victims' own registrations keep working, before and after.
 *
 * With the guard's links removed, the victim's new registration cannot be
 * vouched for (tld.bpf.h readers then read nothing), and plants survive
 * the victim's wakeup: both shown at the end.
 */
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <tld/loader.h>

#include "../bpf/tld_guard.h"
#include "harness.h"
#include "reader.skel.h"
#include "reader_unvouched.skel.h"

#define PLANTED		666
#define PLANT_COOKIE	0x5eed
#define RACE_TRIES	10000
#define INFLATE_TRIES	200

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static struct th_map map;
static struct reader_bpf *guarded;
static struct reader_unvouched_bpf *unguarded;

/* ---- the programs, re-executed under other uids ------------------------ */

/*
 * victim UID [spin]: register, say "tid\n", then do what the parent
 * writes, or spin without a system call.
 */
static int victim_main(bool spin)
{
	char cmd;

	*(__u64 *)tld_get_data(static_key) = 4242;
	printf("%d\n", th_gettid());
	fflush(stdout);
	while (spin)
		;
	while (read(0, &cmd, 1) == 1) {
		if (cmd == 'r')
			tld_refresh();
		if (write(1, "k", 1) != 1)
			return 1;
	}
	return 0;
}

/* A meta and data page that claim the victim's key holds 666. */
static void forge(struct tld_map_value *v)
{
	struct tld_meta_u *meta = mmap(NULL, TLD_PAGE_SIZE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct tld_data_u *data = mmap(NULL, TLD_PAGE_SIZE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	strcpy(meta->metadata[0].name, "test.static");
	meta->metadata[0].size = 8;
	meta->cnt = 1;
	data->unused = PLANT_COOKIE;
	*(__u64 *)data->data = PLANTED;
	*v = (struct tld_map_value){ .data = data, .meta = meta, .start = TLD_DATA_HDR };
}

struct race {
	int map_fd;
	int pidfds[2];	/* the attacker's own thread, the victim's */
	volatile int key;
	volatile bool done;
};

static void *flipper(void *arg)
{
	struct race *r = arg;
	unsigned int i = 0;

	while (!r->done)
		r->key = r->pidfds[++i & 1];
	return NULL;
}

static int race(int map_fd, int victim_pidfd, struct tld_map_value *v)
{
	struct race r = { .map_fd = map_fd };
	pthread_t t;
	int i;

	r.pidfds[0] = th_thread_pidfd(th_gettid());
	r.pidfds[1] = victim_pidfd;
	r.key = r.pidfds[0];
	pthread_create(&t, NULL, flipper, &r);
	for (i = 0; i < RACE_TRIES; i++)
		bpf_map_update_elem(map_fd, (const void *)&r.key, v, 0);
	r.done = true;
	pthread_join(t, NULL);
	return 0;
}

/*
 * On its own thread, INFLATE_TRIES times: announce a cookie, attach a page
 * that does not carry it, and sleep, so that the guard sweeps it. No
 * vouched entry is ever erased: the guard's erased count must not move.
 */
static int inflate(int map_fd, struct tld_map_value *v)
{
	int self = th_thread_pidfd(th_gettid()), i;

	for (i = 0; i < INFLATE_TRIES; i++) {
		th_vouch(TLD_VOUCH_ANNOUNCE, PLANT_COOKIE + 1 + i, th_gettid());
		if (bpf_map_update_elem(map_fd, &self, v, 0))
			return 1;
		usleep(100);
	}
	return 0;
}

/* attack UID plant|delete|race|inflate VICTIM_TID: 0 if the kernel let it through. */
static int attack_main(const char *how, pid_t victim)
{
	struct tld_map_value v;
	int map_fd, pidfd;

	map_fd = bpf_obj_get(getenv("TLD_MAP_PATH"));
	pidfd = th_thread_pidfd(victim);
	if (map_fd < 0 || pidfd < 0)
		return 2;
	forge(&v);
	if (!strcmp(how, "plant")) {
		if (bpf_map_update_elem(map_fd, &pidfd, &v, 0))
			return 1;
		th_vouch(TLD_VOUCH_ANNOUNCE, v.data->unused, victim);
		th_vouch(TLD_VOUCH_COMMIT, v.data->unused, victim);
		return 0;
	}
	if (!strcmp(how, "delete"))
		return bpf_map_delete_elem(map_fd, &pidfd) ? 1 : 0;
	if (!strcmp(how, "inflate"))
		return inflate(map_fd, &v);
	return race(map_fd, pidfd, &v);
}

/* ---- the test ------------------------------------------------------------ */

struct victim {
	pid_t pid, tid;
	int in, out;	/* its stdin, its stdout */
};

static void victim_start(struct victim *v, uid_t uid, bool spin)
{
	char line[32], arg[16];
	struct th_proc p;

	snprintf(arg, sizeof(arg), "%u", uid);
	th_spawn(&p, uid, (const char *const[]){ "security", "victim", arg, spin ? "spin" : NULL,
						  NULL });
	v->pid = p.pid;
	v->in = p.in;
	v->out = p.out;
	if (read(v->out, line, sizeof(line)) <= 0)
		th_fatal("the victim did not start");
	v->tid = atoi(line);
}

/* Wake the victim (c: 'w' to wake, 'r' to re-register) and wait for it. */
static void victim_poke(struct victim *v, char c)
{
	char k;

	if (write(v->in, &c, 1) != 1 || read(v->out, &k, 1) != 1)
		th_fatal("the victim died");
}

static void victim_stop(struct victim *v)
{
	int st;

	close(v->in);
	close(v->out);
	waitpid(v->pid, &st, 0);
}

static int attack(uid_t uid, const char *how, pid_t victim)
{
	char a[16], b[16];
	pid_t pid;
	int st;

	snprintf(a, sizeof(a), "%u", uid);
	snprintf(b, sizeof(b), "%d", victim);
	pid = fork();
	if (!pid) {
		th_become(uid);
		execl(th_exe(), th_exe(), "attack", a, how, b, (char *)NULL);
		_exit(4);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* What each reader finds for @tid now. */
static void read_victim(pid_t tid, struct th_result *g, struct th_result *u)
{
	__u32 key = tid;

	memset(g, 0, sizeof(*g));
	memset(u, 0, sizeof(*u));
	th_mark(tid);
	bpf_map__lookup_elem(guarded->maps.results, &key, sizeof(key), g, sizeof(*g), 0);
	bpf_map__lookup_elem(unguarded->maps.results, &key, sizeof(key), u, sizeof(*u), 0);
}

static bool reads(const struct th_result *r, __u64 v)
{
	return !r->init_err && r->off[TH_STATIC] > 0 && r->head[TH_STATIC] == v;
}

static struct tld_guard_state guard_state(void)
{
	struct tld_guard_state st;

	th_guard_state(&map, &st);
	return st;
}

/*
 * Since @before, the guard refused @refused vouches, found @mismatched
 * commits naming another entry than the task's, and vouched for none.
 */
static void check_vouches(const struct tld_guard_state *before, __u64 refused, __u64 mismatched,
			  const char *who, const char *what)
{
	struct tld_guard_state now = guard_state();

	TH_CHECK(now.refused - before->refused == refused &&
		 now.mismatched - before->mismatched == mismatched && now.vouched == before->vouched,
		 "%s: %s: refused +%llu, mismatched +%llu, vouched +%llu; want +%llu, +%llu, +0", who,
		 what, now.refused - before->refused, now.mismatched - before->mismatched,
		 now.vouched - before->vouched, refused, mismatched);
}

/* The erased count is an alarm: nobody's own entries move it. */
static void inflate_erased(void)
{
	struct tld_guard_state before = guard_state(), after;

	TH_CHECK(attack(65534, "inflate", 1) == 0, "inflate: the kernel refused the update");
	after = guard_state();
	/*
	 * The sweeps are shown to have happened, not counted exactly: one the
	 * kernel refuses (-EBUSY) is retried, and where a retry lands only
	 * after the thread ran again it removes the next page, the one before
	 * replaced unswept (7 of 200 were short before the retry existed).
	 */
	TH_CHECK(after.erased == before.erased && after.swept > before.swept,
		 "%d unvouched pages of the attacker's own: erased +%llu (want +0), swept +%llu",
		 INFLATE_TRIES, after.erased - before.erased, after.swept - before.swept);
	printf("inflate: %d unvouched pages, swept %llu, erased +%llu\n", INFLATE_TRIES,
	       after.swept - before.swept, after.erased - before.erased);
}

static void plant(uid_t attacker, struct victim *v, const char *who)
{
	struct tld_guard_state before = guard_state(), mid;
	struct th_result g, u;

	TH_CHECK(attack(attacker, "plant", v->tid) == 0, "%s: the kernel refused the plant", who);
	check_vouches(&before, 2, 0, who, "the attacker's announce and commit");
	read_victim(v->tid, &g, &u);
	TH_CHECK(!reads(&g, PLANTED), "%s: a tld.bpf.h reader read the planted 666", who);
	TH_CHECK(g.init_err == -13, "%s: tld.bpf.h reader: %d, want -EACCES", who, g.init_err);
	TH_CHECK(reads(&u, PLANTED), "%s: without the guard's check the plant is not seen: the test cannot fail",
		 who);
	/* Even a privileged commit vouches only for the entry whose cookie it names. */
	mid = guard_state();
	th_vouch(TLD_VOUCH_COMMIT, PLANT_COOKIE + 1, v->tid);
	check_vouches(&mid, 0, 1, who, "a commit naming another cookie than the plant's");
	read_victim(v->tid, &g, &u);
	TH_CHECK(g.init_err == -13, "%s: after that commit: %d, want -EACCES", who, g.init_err);
	victim_poke(v, 'w');
	read_victim(v->tid, &g, &u);
	TH_CHECK(!reads(&u, PLANTED) && guard_state().swept == before.swept + 1,
		 "%s: the plant survived the victim's wakeup", who);
	TH_CHECK(guard_state().erased == before.erased + 1,
		 "%s: the replaced entry was not reported", who);
	victim_poke(v, 'r');
	read_victim(v->tid, &g, &u);
	TH_CHECK(reads(&g, 4242), "%s: the victim's re-registration is not read (%d)", who, g.init_err);
}

static void erase(uid_t attacker, struct victim *v, const char *who)
{
	__u64 erased = guard_state().erased;
	struct th_result g, u;

	TH_CHECK(attack(attacker, "delete", v->tid) == 0, "%s: the kernel refused the delete", who);
	/* The victim sleeps: the guard has not seen it, tldtool map show has. */
	TH_CHECK(th_map_show(&map, "erased_pending") == 1,
		 "%s: a sleeping victim's erased entry: map show says %lld, want 1", who,
		 th_map_show(&map, "erased_pending"));
	victim_poke(v, 'w');
	read_victim(v->tid, &g, &u);
	TH_CHECK(g.init_err == -61, "%s: after the delete: %d", who, g.init_err);
	TH_CHECK(guard_state().erased == erased + 1, "%s: the delete was not reported (%llu)", who,
		 guard_state().erased);
	victim_poke(v, 'r');
}

struct sampler {
	pid_t victim;
	volatile bool done;
	unsigned long reads, guarded_bad, unguarded_planted;
};

static void *sample(void *arg)
{
	struct sampler *s = arg;
	struct th_result g, u;

	while (!s->done) {
		read_victim(s->victim, &g, &u);
		s->reads++;
		s->guarded_bad += reads(&g, PLANTED);
		s->unguarded_planted += reads(&u, PLANTED);
	}
	return NULL;
}

/*
 * The sampler and the attacker share two CPUs with the victim, so now and
 * then a whole race passes with no read landing in a window: it runs again,
 * up to three times, until the unguarded reader has seen the plant.
 */
static void flip_race(uid_t attacker, struct victim *v, const char *who)
{
	struct sampler s = { .victim = v->tid };
	struct th_result g, u;
	int round;
	pthread_t t;

	for (round = 0; round < 3 && !s.unguarded_planted; round++) {
		s.done = false;
		pthread_create(&t, NULL, sample, &s);
		attack(attacker, "race", v->tid);
		s.done = true;
		pthread_join(t, NULL);
		read_victim(v->tid, &g, &u);
		s.guarded_bad += reads(&g, PLANTED);
		s.unguarded_planted += reads(&u, PLANTED);
	}
	printf("%s: %d race(s) of %d updates: %lu reads, %lu saw 666 unguarded, %lu guarded\n", who,
	       round, RACE_TRIES, s.reads, s.unguarded_planted, s.guarded_bad);
	TH_CHECK(s.guarded_bad == 0, "%s: the race planted 666 for a tld.bpf.h reader %lu times", who,
		 s.guarded_bad);
	TH_CHECK(s.unguarded_planted > 0, "%s: the race never reached the victim: the test cannot fail",
		 who);
	victim_poke(v, 'w');
	victim_poke(v, 'r');
}

static void against(uid_t attacker, uid_t victim_uid, const char *who)
{
	struct th_result g, u;
	struct victim v;

	victim_start(&v, victim_uid, false);
	read_victim(v.tid, &g, &u);
	TH_CHECK(reads(&g, 4242), "%s: the victim's own registration is not read (%d)", who,
		 g.init_err);
	plant(attacker, &v, who);
	erase(attacker, &v, who);
	flip_race(attacker, &v, who);
	read_victim(v.tid, &g, &u);
	TH_CHECK(reads(&g, 4242), "%s: the victim's hints are not read at the end", who);
	victim_stop(&v);
}

static double now_us(void)
{
	return th_now_ns() / 1e3;
}

/*
 * How long a reader that does not check sees a plant on a victim that
 * never sleeps: until the victim is next switched in. Reported, not
 * checked: it is a matter of scheduling.
 */
static void plant_on_spinner(void)
{
	struct th_result g, u;
	struct victim v;
	double start, seen = 0;

	victim_start(&v, 60001, true);
	attack(65534, "plant", v.tid);
	start = now_us();
	do {
		read_victim(v.tid, &g, &u);
		seen = now_us() - start;
		TH_CHECK(!reads(&g, PLANTED), "a tld.bpf.h reader read the plant on a spinning victim");
	} while (reads(&u, PLANTED) && seen < 5e6);
	printf("plant on a spinning victim: seen by a reader that does not check for %.0f us\n", seen);
	kill(v.pid, 9);
	victim_stop(&v);
}

/* With the guard's links gone: no vouching, no sweeping. */
static void without_guard(void)
{
	const char *links[] = { "tld_guard_vouch", "tld_guard_waking", "tld_guard_switch" };
	struct th_result g, u;
	char path[300];
	struct victim v;
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", map.dir, links[i]);
		unlink(path);
	}
	victim_start(&v, 60001, false);
	read_victim(v.tid, &g, &u);
	TH_CHECK(g.init_err == -13 && reads(&u, 4242),
		 "no guard: a new registration should be unreadable through tld.bpf.h (%d)", g.init_err);
	attack(65534, "plant", v.tid);
	victim_poke(&v, 'w');
	read_victim(v.tid, &g, &u);
	TH_CHECK(reads(&u, PLANTED), "no guard: the plant should survive the victim's wakeup");
	victim_stop(&v);
}

static void *load_unguarded(void)
{
	struct reader_unvouched_bpf *r = reader_unvouched_bpf__open();
	int err = r ? tld_loader_load_skeleton(r->skeleton, NULL) : -1;

	if (err)
		th_fatal("load the unguarded reader: %d", err);
	th_ack_watch(r->bss->th_acks);
	return r;
}

int main(int argc, char **argv)
{
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "victim"))
		return victim_main(argc == 4);
	if (argc == 5 && !strcmp(argv[1], "attack"))
		return attack_main(argv[3], atoi(argv[4]));

	th_map_create(&map, NULL);
	guarded = th_reader_load();
	unguarded = load_unguarded();

	against(65534, 60001, "uid 65534 against uid 60001");
	against(60002, 60001, "uid 60002 against uid 60001");
	against(65534, 65534, "uid 65534 against another uid 65534 process");
	plant_on_spinner();
	inflate_erased();
	{
		struct tld_guard_state st = guard_state();

		printf("guard: vouched %llu refused %llu mismatched %llu swept %llu erased %llu\n",
		       st.vouched, st.refused, st.mismatched, st.swept, st.erased);
	}
	without_guard();

	th_ack_unwatch(unguarded->bss->th_acks);
	reader_unvouched_bpf__destroy(unguarded);
	th_reader_destroy(guarded);
	th_map_remove(&map);
	th_done();
}
