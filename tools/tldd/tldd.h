/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * tldd, the registration broker of strict mode: what its files share.
 * One thread, one epoll loop; every object on it starts with its kind.
 */
#ifndef TLDD_H
#define TLDD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "broker.h"

struct tldd_opts {
	const char *socket;
	const char *map;
	unsigned int mode;	/* of the socket tldd binds */
	int max_threads;	/* per uid: registered threads, and connections */
	int max_pages;		/* per uid: pinned pages, a data page per thread
				   and a meta page per process */
	bool verbose;
};

extern struct tldd_opts tldd_opts;
extern int tldd_map_fd;

enum tldd_kind { TLDD_LISTEN, TLDD_CLIENT, TLDD_REG };

/* A connection: one process image, as the socket names it. */
struct tldd_client {
	enum tldd_kind kind;
	int fd;
	int pidfd;		/* the process's (SO_PEERPIDFD) */
	pid_t tgid;		/* in tldd's pid namespace, while pidfd's task lives */
	uid_t uid;
	char *store;		/* its store, TLD_BROKER_STORE_MAX bytes, or NULL */
	struct tldd_client *next;
};

/* A thread whose entry tldd made, held by its pidfd until it exits. */
struct tldd_reg {
	enum tldd_kind kind;
	int pidfd;
	/* The connection that made the entry last; NULL if adopted at start. */
	struct tldd_client *owner;
	pid_t tid, tgid;
	uid_t uid;
	struct tldd_reg *next;	/* hash chain */
};

/* main.c */
void tldd_watch(int fd, void *obj);
void tldd_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* client.c: the requests */
struct tldd_client *tldd_client_new(int fd);
void tldd_client_input(struct tldd_client *c);
void tldd_client_close(struct tldd_client *c);

/* reg.c: the registrations and each uid's share */
int tldd_pidfd_info(int pidfd, pid_t *tid, pid_t *tgid, uid_t *euid);
struct tldd_reg *tldd_reg_find(pid_t tid);
bool tldd_reg_dead(const struct tldd_reg *r);
int tldd_reg_admit(uid_t uid, pid_t tgid, char *why, size_t len);
int tldd_reg_add(int pidfd, pid_t tid, pid_t tgid, uid_t uid, struct tldd_client *owner);
void tldd_reg_drop(struct tldd_reg *r);
void tldd_reg_drop_owned(struct tldd_client *owner);
int tldd_reg_adopt(void);
int tldd_conn_admit(uid_t uid, int delta);

#endif /* TLDD_H */
