// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tldtool show, keys and top, against what the threads wrote. This process
 * runs 1,000 threads, each with its own values in five keys that exercise
 * the type convention (u64, str, bytes, s32, u16[4]); a second process
 * runs 3 more. `tldtool -j show` must hold, for each thread, exactly the
 * JSON object built here from what it wrote, and nothing for anyone else.
 * While one dump runs, 100 more threads exit: each must be shown whole or
 * not at all (a thread caught between withdrawing its entry and deleting
 * it is shown whole, as leaving), and the JSON must stay whole. Then the
 * text output, keys,
 * top, and every bad input with its exit status.
 *
 * Checked to fail (make mutate): with the data offset counted from the
 * page instead of the data area in show.c, every "offset" differs.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "harness.h"

#define NTHREADS	1000
#define NEXITING	100
#define OUT_SIZE	(4 << 20)

TLD_DEFINE_KEY(id_key, "show.id:u64", sizeof(__u64));
TLD_DEFINE_KEY(name_key, "show.name:str", 16);
TLD_DEFINE_KEY(blob_key, "show.blob", 24);
TLD_DEFINE_KEY(temp_key, "show.temp:s32", sizeof(__s32));
TLD_DEFINE_KEY(arr_key, "show.arr:u16[4]", 4 * sizeof(__u16));

static struct th_map map;
static pthread_barrier_t registered, finish;
static pid_t tids[NTHREADS + NEXITING];
static char *out;

/* What thread @i writes, and the JSON object show must print for it. */
static void publish(int i)
{
	__u8 *blob = tld_get_data(blob_key);
	__u16 *arr = tld_get_data(arr_key);
	int b;

	*(__u64 *)tld_get_data(id_key) = tids[i];
	snprintf(tld_get_data(name_key), 16, "t-%d", i);
	for (b = 0; b < 24; b++)
		blob[b] = (i + b) | 0x80;	/* not printable: shown as bytes */
	*(__s32 *)tld_get_data(temp_key) = -i;
	arr[0] = i;
	arr[1] = i + 1;
	arr[2] = i + 2;
	arr[3] = 7;
}

static void expected(int i, pid_t pid, const char *comm, char *buf, size_t len)
{
	char hex[64];
	int b;

	for (b = 0; b < 24; b++)
		sprintf(hex + 2 * b, "%02x", (__u8)((i + b) | 0x80));
	snprintf(buf, len,
		 "{\"tid\":%d,\"pid\":%d,\"comm\":\"%s\",\"vouched\":true,\"keys\":["
		 "{\"name\":\"show.id:u64\",\"size\":8,\"offset\":0,\"type\":\"uint\",\"value\":%d},"
		 "{\"name\":\"show.name:str\",\"size\":16,\"offset\":8,\"type\":\"str\",\"value\":\"t-%d\"},"
		 "{\"name\":\"show.blob\",\"size\":24,\"offset\":24,\"type\":\"bytes\",\"value\":\"%s\"},"
		 "{\"name\":\"show.temp:s32\",\"size\":4,\"offset\":48,\"type\":\"int\",\"value\":%d},"
		 "{\"name\":\"show.arr:u16[4]\",\"size\":8,\"offset\":56,\"type\":\"uint\",\"value\":[%d,%d,%d,7]}"
		 "]}",
		 tids[i], pid, comm, tids[i], i, hex, -i, i & 0xffff, (i + 1) & 0xffff, (i + 2) & 0xffff);
}

static void *worker(void *arg)
{
	long i = (long)arg;

	tids[i] = th_gettid();
	publish(i);
	pthread_barrier_wait(&registered);
	if (i < NTHREADS)
		pthread_barrier_wait(&finish);
	else
		usleep((i - NTHREADS) * 20000);	/* spread over the dump, 2 s */
	return NULL;
}

static int tool(const char *args)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "--path %s %s", map.path, args);
	return th_tldtool(cmd, out, OUT_SIZE);
}

static int count(const char *needle)
{
	const char *p;
	int n = 0;

	for (p = strstr(out, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* The other process: three threads, values 0..2, until told to go. */
static int other_main(void)
{
	pthread_t t[3];
	long i;
	char c;

	pthread_barrier_init(&registered, NULL, 4);
	pthread_barrier_init(&finish, NULL, 4);
	for (i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	pthread_barrier_wait(&registered);
	if (write(1, "r", 1) != 1 || read(0, &c, 1) < 0)
		return 1;
	pthread_barrier_wait(&finish);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	return 0;
}

static pid_t other_start(int *go, int *ready)
{
	int to[2], from[2];
	char c;
	pid_t pid;

	if (pipe(to) || pipe(from))
		th_fatal("pipe: %m");
	pid = fork();
	if (!pid) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[1]);
		close(from[0]);
		execl(th_exe(), th_exe(), "other", (char *)NULL);
		_exit(4);
	}
	close(to[0]);
	close(from[1]);
	if (read(from[0], &c, 1) != 1)
		th_fatal("the other process did not start");
	*go = to[1];
	*ready = from[0];
	return pid;
}

static void check_all(pid_t other)
{
	char obj[1024];
	int i, missing = 0;

	TH_CHECK(tool("-j show --all") == 0, "show --all failed");
	TH_CHECK(out[0] == '[' && !strcmp(out + strlen(out) - 2, "]\n"), "not one JSON array");
	for (i = 0; i < NTHREADS; i++) {
		expected(i, getpid(), "show", obj, sizeof(obj));
		missing += !strstr(out, obj);
		if (missing == 1 && !strstr(out, obj))
			fprintf(stderr, "not shown as written: %s\n", obj);
	}
	TH_CHECK(missing == 0, "%d of %d threads not shown as written", missing, NTHREADS);
	TH_CHECK(count("\"pid\":") == NTHREADS + 3, "%d threads shown, want %d", count("\"pid\":"),
		 NTHREADS + 3);
	snprintf(obj, sizeof(obj), "\"pid\":%d,\"comm\":\"show\"", other);
	TH_CHECK(count(obj) == 3, "the other process: %d threads", count(obj));
}

/* The object of a thread that withdrew its entry and is about to delete it. */
static void leaving_variant(char *obj, size_t size)
{
	static const char vouched[] = "\"vouched\":true,";
	char rest[1024], *p = strstr(obj, vouched);

	if (!p)
		return;
	snprintf(rest, sizeof(rest), "%s", p + strlen(vouched));
	snprintf(p, size - (p - obj), "\"vouched\":false,\"leaving\":true,%s", rest);
}

/* A dump while NEXITING threads exit: each whole or absent. */
static void check_exiting(void)
{
	pthread_t t[NEXITING];
	char obj[1024], tid[32];
	int i, whole = 0, partial = 0;

	pthread_barrier_init(&registered, NULL, NEXITING + 1);
	for (i = 0; i < NEXITING; i++)
		pthread_create(&t[i], NULL, worker, (void *)(long)(NTHREADS + i));
	pthread_barrier_wait(&registered);
	TH_CHECK(tool("-j show") == 0 && out[0] == '[' && !strcmp(out + strlen(out) - 2, "]\n"),
		 "show during exits is not one JSON array");
	for (i = 0; i < NEXITING; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < NEXITING; i++) {
		expected(NTHREADS + i, getpid(), "show", obj, sizeof(obj));
		snprintf(tid, sizeof(tid), "\"tid\":%d,", tids[NTHREADS + i]);
		if (!strstr(out, obj))
			leaving_variant(obj, sizeof(obj));
		whole += strstr(out, obj) != NULL;
		partial += strstr(out, tid) && !strstr(out, obj);
	}
	printf("while %d threads exited, %d were shown, whole, and the rest not at all\n", NEXITING,
	       whole);

	TH_CHECK(partial == 0, "%d exiting threads shown in part", partial);
	TH_CHECK(whole > 0 && whole < NEXITING, "the dump did not overlap the exits (%d shown)", whole);
}

static void check_text_keys_top(void)
{
	char args[64], line[128];

	snprintf(args, sizeof(args), "show %d", getpid());
	TH_CHECK(tool(args) == 0, "show PID");
	snprintf(line, sizeof(line), "  %-8d %-16.16s show.id:u64=%d show.name:str=\"t-5\"", tids[5],
		 "show", tids[5]);
	TH_CHECK(strstr(out, line) != NULL, "text: no line '%s'", line);
	TH_CHECK(strstr(out, "show.temp:s32=-5 show.arr:u16[4]=[5,6,7,7]") != NULL, "text values");
	snprintf(args, sizeof(args), "keys %d", getpid());
	TH_CHECK(tool(args) == 0 && strstr(out, "3     48     4      int    show.temp:s32") &&
		 strstr(out, "2     24     24     bytes  show.blob"), "keys: %.300s", out);
	TH_CHECK(tool("top --interval 0.2 --iterations 2 --by show.arr:u16[4]") == 0 &&
		 count("tldtool top:") == 2 && strstr(out, "CPU time by hint value"),
		 "top: %.300s", out);
}

static void check_bad_input(void)
{
	char args[512], hash[300];
	pid_t pid;
	int st, fd;

	TH_CHECK(tool("show 999999") == 3 && strstr(out, "no process 999999"), "no such pid: %s", out);
	snprintf(args, sizeof(args), "show %d", getppid());
	TH_CHECK(tool(args) == 4 && strstr(out, "has no tld data"), "no data: %s", out);
	TH_CHECK(tool("show banana") == 2, "not a pid: %s", out);
	snprintf(hash, sizeof(hash), "%s/hash", map.dir);
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "hash", 4, 8, 1, NULL);
	if (fd < 0 || bpf_obj_pin(fd, hash))
		th_fatal("pin a hash map: %m");
	snprintf(args, sizeof(args), "--path %s show", hash);
	TH_CHECK(th_tldtool(args, out, OUT_SIZE) == 1 && strstr(out, "not a task storage map"),
		 "wrong map: %s", out);
	unlink(hash);
	pid = fork();
	if (!pid) {
		if (setgid(65534) || setuid(65534))
			_exit(9);
		snprintf(args, sizeof(args), "--path %s show", map.path);
		_exit(th_tldtool(args, out, OUT_SIZE) == 5 && strstr(out, "CAP_BPF") ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	TH_CHECK(WIFEXITED(st) && !WEXITSTATUS(st), "unprivileged show: status %x", st);
}

int main(int argc, char **argv)
{
	pthread_t threads[NTHREADS];
	int go, ready;
	pid_t other;
	long i;

	if (argc == 2 && !strcmp(argv[1], "other"))
		return other_main();
	out = malloc(OUT_SIZE);
	th_map_create(&map, NULL);
	pthread_barrier_init(&registered, NULL, NTHREADS + 1);
	pthread_barrier_init(&finish, NULL, NTHREADS + 1);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&threads[i], NULL, worker, (void *)i);
	pthread_barrier_wait(&registered);
	other = other_start(&go, &ready);

	check_all(other);
	check_exiting();
	check_text_keys_top();
	check_bad_input();

	close(go);
	waitpid(other, NULL, 0);
	pthread_barrier_wait(&finish);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(threads[i], NULL);
	th_map_remove(&map);
	th_done();
}
