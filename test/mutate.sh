#!/bin/sh
# make mutate: break the code on purpose, one way at a time, in a scratch
# copy of the tree, and check that the test meant to catch it fails. A
# mutation that no test catches is a test that cannot fail.
#
# Each mutation: the test that must fail, the file, the exact text to find
# (it must occur exactly once), and what replaces it.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
work=${MUTATE_DIR:-/tmp/tld-mutate}
O=$work/build
caught=0
missed=0
skipped=0

rm -rf "$work"
mkdir -p "$work"
(cd "$src" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work")
make -s -C "$work" O="$O" UPSTREAM="$src/build/upstream" tests fuzzers >/dev/null 2>&1 ||
	{ echo "mutate: the unmutated tree does not build"; exit 1; }

# mutate TEST FILE FIND REPLACE; with $MUTATE_ONLY, only those of the tests it names.
mutate() {
	[ -z "${MUTATE_ONLY:-}" ] || echo " $MUTATE_ONLY " | grep -q " $1 " || return 0
	test=$1 file=$work/$2
	cp "$file" "$file.orig"
	FIND=$3 REPL=$4 perl -0pi -e '$n = s/\Q$ENV{FIND}\E/$ENV{REPL}/g; END { exit($n != 1) }' "$file" ||
		{ echo "STALE  $test: text not found once in $2"; missed=$((missed + 1)); mv "$file.orig" "$file"; return; }
	if make -s -C "$work" O="$O" UPSTREAM="$src/build/upstream" tests fuzzers >/dev/null 2>&1 &&
	   out=$(O=$O TESTS=$test VALGRIND_TESTS= FUZZ_RUNS=300000 "$work/test/run.sh" 2>&1); then
		# A test that skips here (no arena on this kernel) proves nothing.
		if echo "$out" | grep -q '^SKIP'; then
			echo "SKIP   $test: $2: $(echo "$out" | grep '^SKIP' | head -n 1)"
			skipped=$((skipped + 1))
		else
			echo "MISSED $test: $2 still passes"
			missed=$((missed + 1))
		fi
	else
		echo "caught $test: $2"
		caught=$((caught + 1))
	fi
	mv "$file.orig" "$file"
}

mutate basic src/thread.c \
	'char *base = attached ? (char *)t->page + t->start - 1 : NULL;' \
	'char *base = attached ? (char *)t->page + t->start : NULL;'
mutate keys src/keys.c \
	'if (!strcmp(cur->name, name)) {' \
	'if (0) {'
mutate limits src/keys.c \
	'return tld__err(err, "key '"'"'%s'"'"': all %d key slots' \
	'return tld__err(-ENOMEM, "key '"'"'%s'"'"': all %d key slots'
mutate page_full src/keys.c \
	'if (*off + TLD_ROUND_KEY(size) > (unsigned int)tld__store_area())' \
	'if (*off + TLD_ROUND_KEY(size) > (unsigned int)tld__store_area() + 8)'
mutate dlopen src/keys.c \
	'if (!strcmp(cur->name, name)) {' \
	'if (0) {'
mutate concurrent src/keys.c \
	'		tld_entry_write(&m->metadata[cnt], rec);
		/* Release: the entry is complete before cnt covers it. */
		if (__atomic_compare_exchange_n(&m->cnt, &cnt, cnt + 1, false,
						__ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
			cnt++;' \
	'		if (__atomic_compare_exchange_n(&m->cnt, &cnt, cnt + 1, false,
						__ATOMIC_RELEASE, __ATOMIC_ACQUIRE)) {
			tld_entry_write(&m->metadata[cnt], rec);
			cnt++;
		}'
mutate other_task include/tld/tld.bpf.h \
	'v = bpf_task_storage_get(&tld_data_map, task, 0, 0);' \
	'v = bpf_task_storage_get(&tld_data_map, bpf_get_current_task_btf(), 0, 0);'
mutate compat src/thread.c \
	'value.start = t->start;' \
	'value.start = t->start + 8;'
mutate garbage include/tld/tld.bpf.h \
	'if (i >= seen && sz >= size &&' \
	'if (i >= seen &&'
mutate show_fuzz tools/decode.c \
	'unsigned int cnt = r->meta.cnt < TLD_MAX_KEYS ? r->meta.cnt : TLD_MAX_KEYS;' \
	'unsigned int cnt = r->meta.cnt;'
mutate reader_fuzz include/tld/tld.bpf.h \
	'if (i >= seen && sz >= size &&' \
	'if (i >= seen &&'
mutate errors src/map.c \
	'if (!tld_fd_is_map(fd))' \
	'if (0)'
mutate tldtool tools/map.c \
	'if ((!kept || t->mode) && pin_mode(path, mode))' \
	'if (pin_mode(path, mode))'
mutate fork src/thread.c \
	'	if (tld__proc.map_fd >= 0 || tld__proc.strict)
		tld__thread_attach(&tld_self);' \
	'	if (0)
		tld__thread_attach(&tld_self);'
mutate fork src/proc.c \
	'	tld__proc.cookie = 0;
	tld__unlock();' \
	'	tld__unlock();'
mutate stale_tid src/thread.c \
	'	if (t->ino && st.st_ino != t->ino) {' \
	'	if (0) {'
mutate security bpf/tld_guard.bpf.c \
	'	if (g && g->data && (!v || !kept(g, v))) {' \
	'	if (g && (v ? !kept(g, v) : g->data)) {'
mutate security bpf/tld_iter.bpf.c \
	'		erased_pending++;' \
	'		(void)0;'
mutate top_rows tools/top.c \
	'		if (r->head.vouched && vt.count == 1 && vt.width && vt.kind != VALUE_BOOL) {' \
	'		if (vt.count == 1 && vt.width && vt.kind != VALUE_BOOL) {'
mutate fork src/store.c \
	'int err = tld__fork_hooks_setup() ?: tld_layout_set(), fd;' \
	'int err = tld_layout_set(), fd;'
mutate strict tools/tldd/client.c \
	'	if (tgid != c->tgid)' \
	'	if (0)'
mutate strict src/proc.c \
	'	direct = fd >= 0 || !tld__broker_exists();' \
	'	direct = true;'
mutate strict src/store.c \
	'	fd = tld_fork_file();' \
	'	fd = dup(tld_store_fd);'
mutate exec bpf/tld_map.bpf.c \
	'struct linux_binprm *bprm)
{
	bpf_task_storage_delete(&tld_data_map, p);' \
	'struct linux_binprm *bprm)
{'
mutate thread_exit src/store.c \
	'	if (!err)
		tld_slot_mark(slot, false);' \
	'	(void)slot;'
mutate late_store src/store.c \
	'	err = tld_page_punch(page);' \
	'	err = 0;'
mutate leader_exit bpf/tld_map.bpf.c \
	'	bpf_task_storage_delete(&tld_guard_map, p);
	bpf_task_storage_delete(&tld_data_map, p);' \
	'	bpf_task_storage_delete(&tld_guard_map, p);'
mutate strict src/thread.c \
	'if (whole && !tld__proc.strict &&' \
	'if (whole &&'
mutate warm src/store.c \
	'TLD_PAGE_SIZE, MADV_POPULATE_WRITE' \
	'TLD_PAGE_SIZE, MADV_NORMAL'
mutate warm src/store.c \
	'err = tld_warm_populate(slot, n, true);' \
	'err = 0;'
mutate vouch src/thread.c \
	'		if (flipped)
			return 0;
		announce = true;' \
	'		return 0;'
mutate vouch src/thread.c \
	'tld__proc.announce = !flipped;' \
	'tld__proc.announce = false;'
mutate vouch src/thread.c \
	'return t != &tld_self || tld__proc.strict' \
	'return tld__proc.strict'
mutate vouch src/thread.c \
	'bool announce = tld_entry_announced(t), flipped;' \
	'bool announce = true, flipped;'
mutate vouch bpf/tld_guard.bpf.c \
	'	data->unused = cookie ^ TLD_COOKIE_VOUCHED;' \
	''
mutate strict src/thread.c \
	'tld__proc.strict || !tld__proc.uptr_checked' \
	'(!tld__proc.strict && !tld__proc.uptr_checked)'
mutate fini src/proc.c \
	'tld__store_page_empty(t->page);' \
	'munmap(t->page, TLD_PAGE_SIZE);'
mutate fini src/thread.c \
	'	__atomic_store_n(t->base, base, __ATOMIC_RELAXED);' \
	'	if (t->base == &tld__thread_base)
		__atomic_store_n(t->base, base, __ATOMIC_RELAXED);'
mutate fini_race src/proc.c \
	'	while (__atomic_load_n(&tld_users, __ATOMIC_ACQUIRE))
		sched_yield();' \
	'	(void)0;'
mutate unload src/proc.c \
	'	if (tld__proc.hooks_ready)
		pthread_key_delete(tld__proc.exit_key);' \
	'	(void)0;'
mutate recover src/thread.c \
	'if (tld_self.pprev && tld__now() <' \
	'if (tld_self.pprev || tld__now() <'
mutate callback src/proc.c \
	'	pthread_mutex_lock(&tld__proc.lock);
	tld__log_defer(true);' \
	'	pthread_mutex_lock(&tld__proc.lock);'
mutate callback src/proc.c \
	'	tld__log_mute(true);
	tld__proc.cookie = 0;
	tld__store_fork_child();
	tld__keys_publish();
	tld__fork_child_threads();
	tld__log_mute(false);
	tld__log_defer(false);
	pthread_mutex_unlock(&tld__proc.lock);' \
	'	tld__proc.cookie = 0;
	tld__store_fork_child();
	tld__keys_publish();
	tld__fork_child_threads();
	tld__unlock();'
mutate seqcount include/tld/tld.h \
	'	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
	/* The odd count' \
	'	/* The odd count'

mutate security include/tld/tld.bpf.h \
	'return g && tld_verdict_names(g, data, meta, start);' \
	'return g != NULL;'
mutate security include/tld/tld.bpf.h \
	'return c->data == (__u64)data && c->meta == (__u64)meta && c->start == start &&
	       c->cookie == data->unused && c->exec_id == task->self_exec_id;' \
	'return c->data != 0;'
mutate security bpf/tld_guard.bpf.c \
	'if (target->tgid != cur->tgid && !privileged(cur)) {' \
	'if (0) {'
mutate security bpf/tld_guard.bpf.c \
	'err = bpf_task_storage_delete(&tld_data_map, p);' \
	'err = 1;'
mutate compact src/store.c \
	'*start = TLD_DATA_HDR + slot % tld_per_page * tld_area;' \
	'*start = TLD_DATA_HDR;'
mutate compact src/store.c \
	'		if (tld_slot_used(i))
			return;' \
	'		(void)0;'
mutate compact src/store.c \
	'	if (tld_fork_slot >= 0)
		tld_slot_mark(tld_fork_slot, true);' \
	'	(void)tld_fork_slot;'
mutate compact src/store.c \
	'	if (area > TLD_COMPACT_MAX)' \
	'	if (area > TLD_DATA_MAX / 2)'
mutate memo include/tld/tld.bpf.h \
	'c->cookie == data->unused && c->exec_id == task->self_exec_id;' \
	'c->cookie == data->unused;'
mutate compact src/thread.c \
	'	if (!tld__thread_detach(t))
		tld__store_area_put' \
	'	if (tld__thread_detach(t) || 1)
		tld__store_area_put'
mutate sweep_busy bpf/tld_guard.bpf.c \
	'if (!__sync_val_compare_and_swap(&retry_tid[i], 0, tid)) {' \
	'if (0) {'

mutate security bpf/tld_guard.bpf.c \
	'__sync_fetch_and_add(&s->mismatched, 1);' \
	'(void)s;'
mutate container bpf/tld_guard.bpf.c \
	'	if (!level) {' \
	'	if (1) {'
mutate compat src/proc.c \
	'tld__proc.cookie = TLD_COOKIE(r);' \
	'tld__proc.cookie = (__u64)r << 32 | r | 1;'
mutate seqcount include/tld/tld.bpf.h \
	'if (i >= seen && sz >= size &&' \
	'if (i >= seen && sz >= 1 &&'

mutate agent bpf/tld_agent.bpf.c \
	'	if (s)
		rec_free(TLD_AGENT_TASK, s);' \
	'	(void)s;'
mutate agent bpf/tld_agent.bpf.c \
	'			*e = slot;
			return 0;' \
	'			return 0;'
mutate agent bpf/tld_agent.bpf.c \
	'if (k->live >= geom.max_records) {' \
	'if (0) {'
mutate agent bpf/tld_agent.bpf.c \
	'		if (*e == slot) {
			*e = TLD_AGENT_TOMB;' \
	'		if (*e > TLD_AGENT_TOMB && ((struct tld_agent_rec __arena *)tld_agent_at(*e))->id == id) {
			*e = TLD_AGENT_TOMB;'

mutate hints include/tld/cgroup.bpf.h \
	'			if (__lvl - __i < 0)' \
	'			if (__i > 0)'
mutate hints src/cgroup.c \
	'	if (setxattr(cgroup, attr, value, n, 0))' \
	'	if (setxattr(cgroup, attr, value, n, 0) && errno != EACCES)'

mutate show tools/show.c \
	'json_uint(j, "offset", keys[i].at - r->head.start);' \
	'json_uint(j, "offset", keys[i].at);'
mutate examples examples/wakeups/wakematrix.bpf.c \
	'__u32 wakee = role_of(p), waker;' \
	'__u32 wakee = role_of(bpf_get_current_task_btf()), waker;'
mutate agent_garbage src/agent.c \
	'	if (slot < a->data || (size_t)slot + g->stride > a->len || in < TLD_AGENT_PAGE_HDR ||' \
	'	if (0 ||'
mutate balance examples/balance/balance.bpf.h \
	'	t->sched.runnable_at = 0;
' \
	''
mutate balance examples/balance/balance.bpf.h \
	't->sched.runtime_ns = p->se.sum_exec_runtime;' \
	't->sched.runtime_ns = p->se.prev_sum_exec_runtime;'
mutate balance examples/balance/balance.bpf.h \
	'if (dom < 0 || (__u32)dom >= ndoms)' \
	'if (dom < 0)'
mutate balance examples/balance/balance.c \
	'		if (left + BAL_MIN_LOAD < best) {' \
	'		if (left < best + BAL_MIN_LOAD) {'

rm -rf "$work"
echo "$caught caught, $missed missed, $skipped skipped"
[ "$missed" = 0 ]
