// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The tests' reader without the guard's check: what a consumer that does
 * not check (or the upstream header) sees. test/security uses it to show
 * that each attack lands, so that "invisible" means something.
 */
#define TLD_TRUST_UNVOUCHED
#include "reader.bpf.c"
