// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A library that brings its own keys, loaded by test/dlopen after threads registered. */
#include <tld/tld.h>

TLD_DEFINE_KEY(dl_key, "dl.key", sizeof(__u64));
/* Far past upstream's 64-byte budget for keys created after registration. */
TLD_DEFINE_KEY(dl_big, "dl.big", 1024);

int dl_publish(__u64 v)
{
	__u64 *k = tld_get_data(dl_key), *big = tld_get_data(dl_big);

	if (!k || !big)
		return -1;
	*k = v;
	big[0] = v + 1;
	big[1024 / 8 - 1] = v + 2;
	return 0;
}

int dl_key_raw(void)
{
	return dl_big.raw;
}
