/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What test/vouch's probes count (vouch.bpf.c). */
#ifndef TH_VOUCH_H
#define TH_VOUCH_H

struct th_vouch_counts {
	__u64 announced;	/* ANNOUNCE calls */
	__u64 committed;	/* COMMIT calls */
	__u64 flipped;		/* commits after which the entry's cookie was flipped */
	__u64 swept;		/* entries deleted as COMMIT started (sweep_next) */
	__u64 unflipped;	/* flips undone (unflip_next) */
	__u64 signalled;	/* SIGUSR1s sent to plant (plant_next) */
};

#define TH_PLANT_SIGNAL	10	/* SIGUSR1 */

#endif
