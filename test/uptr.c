// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A kernel without task-storage __uptr fields (before 6.13) must get a
 * message naming the feature and the version needed, from tldtool and from
 * libtld, never hints that BPF cannot read. On a kernel with them the same
 * steps succeed. Either way, a look-alike map without tld's __uptr BTF is
 * refused, because the kernel would store its pointers verbatim.
 *
 * Which kernel this is comes from uname, not from the code under test; and
 * TLD_EXPECT_UPTR=0 or 1 (the VM tests set it) says which it must be, so
 * the wrong branch cannot pass unnoticed. It runs on the host, in the 7.3
 * guest, and in Debian's 6.12 cloud kernel.
 *
 * Checked to fail, by hand (make mutate runs on the host, which has UPTR):
 * with the kernel check in libtld's tld_map_missing() disabled, the 6.12
 * guest's run fails, its message no longer naming BPF_UPTR and 6.13.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "harness.h"

static char dir[128];

/* Linux 6.13 or later, by the release string alone. */
static int kernel_has_uptr(void)
{
	struct utsname uts;
	int major, minor;

	if (uname(&uts) || sscanf(uts.release, "%d.%d", &major, &minor) != 2)
		th_fatal("uname");
	printf("kernel %s\n", uts.release);
	return major > 6 || (major == 6 && minor >= 13);
}

static void make_dir(void)
{
	mkdir("/sys/fs/bpf/tld-test", 0755);
	if (mkdir(dir, 0755) && errno != EEXIST)
		th_fatal("mkdir %s: %m", dir);
}

static int init_at(const char *name)
{
	char path[192];
	TLD_OPTS(opts, .map_path = path);

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return tld_init(&opts);
}

/*
 * tld's value layout, but its pointers plain __u64s: what a map made by
 * hand, or by a tool that does not know __uptr, looks like.
 */
static void pin_plain_map(void)
{
	static const int sizes[] = { 8, 8, 2 };	/* data, meta, start */
	int fd = th_task_storage_map("tld_map_value", sizes, 3, 24);
	char path[192];

	snprintf(path, sizeof(path), "%s/plain", dir);
	if (fd < 0)
		th_fatal("create a plain task storage map: %s", strerror(-fd));
	if (bpf_obj_pin(fd, path))
		th_fatal("pin %s: %m", path);
	close(fd);
}

static void check_tldtool(int has)
{
	char args[256], out[1024];
	int rc;

	snprintf(args, sizeof(args), "--path %s/tld_data_map map create", dir);
	rc = th_tldtool(args, out, sizeof(out));
	if (has) {
		TH_CHECK(rc == 0, "tldtool map create: %s", out);
		snprintf(args, sizeof(args), "--path %s/tld_data_map map remove", dir);
		TH_CHECK(th_tldtool(args, NULL, 0) == 0, "tldtool map remove");
		return;
	}
	printf("tldtool: %s", out);
	TH_CHECK(rc != 0, "tldtool made a map on a kernel without UPTR");
	TH_CHECK(strstr(out, "BPF_UPTR") && strstr(out, "needs Linux 6.13 or later"),
		 "tldtool's message does not name the feature and version: %s", out);
}

static void check_missing_map(int has)
{
	const char *why = "lacks task-storage __uptr fields (BPF_UPTR), which need Linux 6.13 or later";

	TH_CHECK(init_at("none") == -ENOENT, "tld_init without a map");
	if (has)
		TH_CHECK(th_captured("create it with 'tldtool map create'"),
			 "no advice to create the map");
	else
		TH_CHECK(th_captured(why), "libtld does not say the kernel is too old");
}

static void check_plain_map(void)
{
	pin_plain_map();
	TH_CHECK(init_at("plain") == 0, "tld_init on the plain map");
	TH_CHECK(tld_thread_init() == -EOPNOTSUPP, "a thread registered in a map without __uptr");
	TH_CHECK(th_captured("did not pin the map's __uptr fields"),
		 "no message about the unpinned pointers");
}

int main(void)
{
	const char *expect = getenv("TLD_EXPECT_UPTR");
	int has = kernel_has_uptr();
	char path[192];

	if (expect)
		TH_CHECK(has == atoi(expect), "this kernel %s UPTR, but TLD_EXPECT_UPTR=%s",
			 has ? "has" : "lacks", expect);
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/tld-test/uptr-%d", getpid());
	th_capture();

	make_dir();
	check_tldtool(has);
	make_dir();	/* tldtool map remove took it */
	check_missing_map(has);
	check_plain_map();

	snprintf(path, sizeof(path), "%s/plain", dir);
	unlink(path);
	rmdir(dir);
	rmdir("/sys/fs/bpf/tld-test");
	th_done();
}
