# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
#   make            libtld.so, libtld.a, the BPF objects, tldtool, examples
#   make demo       threads publish hints, a BPF consumer shows what it saw
#   make test       the test suite, against the running kernel and, under
#                   qemu, Debian's 7.3 (sched_ext) and 6.12 (no UPTR) kernels
#   make check      build, and the tests against this kernel only: no ASan,
#                   valgrind, fuzzers or VMs (a couple of minutes, no apt)
#   make vm-demo    scx_tld, the example sched_ext scheduler, in the 7.3 kernel
#   make bench      tld against the alternatives, as ratios (bench/results)
#   make mutate     break the code on purpose; each test must notice
#   make install    PREFIX=/usr/local DESTDIR= (install-lib: the library alone)
#   make deb        Debian packages in build/deb
#
# `demo` and `test` install the toolchain first (scripts/deps.sh), as root.

VERSION		:= 0.1.0
SOVERSION	:= 0

O		?= build
PREFIX		?= /usr/local
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
UNITDIR		?= $(PREFIX)/lib/systemd/system
TLD_CACHE	?= /var/cache/tld
UPSTREAM	?= $(O)/upstream

CLANG		?= clang-19
CLANGXX		?= clang++-19
BPFTOOL		?= bpftool
CFLAGS		?= -O2 -g
LDFLAGS		?=
ASAN_FLAGS	:= -O1 -g -fsanitize=address -fno-omit-frame-pointer
WARN		:= -Wall -Wextra -Wno-missing-field-initializers
BASE_CFLAGS	:= -std=gnu11 -D_GNU_SOURCE $(WARN) -Iinclude -MMD -MP $(CPPFLAGS) $(CFLAGS)
LIB_CFLAGS	:= $(BASE_CFLAGS) -fPIC -fvisibility=hidden
BPF_CFLAGS	:= -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -MMD -MP -I$(O) -Iinclude
LIBBPF		= $(shell pkg-config --libs libbpf)
CXX_WARN	:= -std=c++17 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude
CXX_CFLAGS	:= $(CXX_WARN) -MMD -MP $(CFLAGS)

LIB_OBJS	:= $(patsubst src/%.c,$(O)/src/%.o,$(wildcard src/*.c))
BPF_OBJS	:= $(patsubst bpf/%.bpf.c,$(O)/bpf/%.bpf.o,$(wildcard bpf/*.bpf.c))
TOOL_OBJS	:= $(patsubst tools/%.c,$(O)/tools/%.o,$(wildcard tools/*.c))
TLDD_OBJS	:= $(patsubst tools/tldd/%.c,$(O)/tools/tldd/%.o,$(wildcard tools/tldd/*.c))
TEST_BPF	:= $(patsubst test/bpf/%.bpf.c,$(O)/test/%.skel.h,$(wildcard test/bpf/*.bpf.c)) \
		   $(O)/test/compat_scx.skel.h
TEST_LIBS	:= $(patsubst test/%.c,$(O)/test/%.so,$(wildcard test/lib*.c))
FUZZERS		:= $(patsubst test/fuzz/%.c,$(O)/fuzz/%,$(wildcard test/fuzz/*_fuzz.c))
TESTS		:= $(patsubst test/%.c,$(O)/test/%,$(filter-out test/harness%.c test/lib%.c,$(wildcard test/*.c))) \
		   $(O)/test/cxx $(O)/test/cxx_noexcept $(O)/test/abi $(O)/test/manlint \
		   $(O)/test/downstream
# Public headers a C++ program may include, compiled by g++ and clang++.
CXX_HEADERS	:= tld.h abi.h agent.h agent_abi.h cgroup.h loader.h tld.hpp
EXAMPLES	:= $(patsubst examples/%/,%,$(dir $(wildcard examples/*/Makefile.inc)))

LIBTLD_SO	:= $(O)/libtld.so.$(VERSION)
LIBTLD_A	:= $(O)/libtld.a
TLDTOOL		:= $(O)/tldtool
TLDD		:= $(O)/tldd

all: lib $(BPF_OBJS) $(TLDTOOL) $(TLDD) examples

lib: $(LIBTLD_SO) $(LIBTLD_A)

deps:
	@scripts/deps.sh build

.PHONY: all lib deps demo test check install-lib deb tests asan-tests clang-tests fuzzers mutate examples install clean bpffs \
	vm-tests vm-deps vm-demo bench
.SECONDARY:

# ---- libtld -------------------------------------------------------------

$(O)/src/%.o: src/%.c | $(O)/src
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(LIBTLD_SO): $(LIB_OBJS) src/libtld.map
	$(CC) -shared -Wl,-soname,libtld.so.$(SOVERSION) -Wl,--version-script=src/libtld.map \
		-Wl,-z,defs $(LDFLAGS) $(LIB_OBJS) -o $@ -lpthread
	ln -sf libtld.so.$(VERSION) $(O)/libtld.so.$(SOVERSION)
	ln -sf libtld.so.$(SOVERSION) $(O)/libtld.so

$(LIBTLD_A): $(LIB_OBJS)
	$(AR) rcs $@ $^

# ---- BPF ----------------------------------------------------------------

$(O)/vmlinux.h: | $(O)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp
	mv $@.tmp $@

BPF_HEADERS	:= $(wildcard include/tld/*.h) $(O)/vmlinux.h

$(O)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HEADERS) | $(O)/bpf
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/%.skel.h: $(O)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@

# ---- tldtool ------------------------------------------------------------

$(O)/tools/%.o: tools/%.c $(patsubst $(O)/bpf/%.bpf.o,$(O)/%.skel.h,$(BPF_OBJS)) | $(O)/tools
	$(CC) $(BASE_CFLAGS) -I$(O) -c $< -o $@

$(TLDTOOL): $(TOOL_OBJS) $(LIBTLD_A)
	$(CC) $(LDFLAGS) $(TOOL_OBJS) $(LIBTLD_A) -o $@ $(LIBBPF) -lpthread

# ---- tldd: libc and libtld.a only ---------------------------------------

$(O)/tools/tldd/%.o: tools/tldd/%.c | $(O)/tools/tldd
	$(CC) $(BASE_CFLAGS) -Isrc -c $< -o $@

$(TLDD): $(TLDD_OBJS) $(LIBTLD_A)
	$(CC) $(LDFLAGS) $(TLDD_OBJS) $(LIBTLD_A) -o $@ -lpthread

# ---- examples -----------------------------------------------------------
# Each examples/NAME/Makefile.inc adds its programs to EXAMPLE_BINS and
# names the sources of each object it builds.

$(O)/examples/%.bpf.o: $(BPF_HEADERS) | $(O)/examples
	$(CLANG) $(BPF_CFLAGS) -c $(filter %.bpf.c,$^) -o $@

$(O)/examples/%.skel.h: $(O)/examples/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@

include $(wildcard examples/*/Makefile.inc)

examples: $(EXAMPLE_BINS)

# ---- tests --------------------------------------------------------------

$(UPSTREAM)/task_local_data.bpf.h:
	scripts/upstream-tld.sh $(UPSTREAM)

# Users build tld.bpf.h with stricter warnings than ours; the upstream
# header, only compared against, is a system header here.
TEST_BPF_CFLAGS	:= $(BPF_CFLAGS) -Wsign-compare -Werror -Itest/bpf/shim -isystem $(UPSTREAM)

$(O)/test/%.bpf.o: test/bpf/%.bpf.c $(BPF_HEADERS) $(UPSTREAM)/task_local_data.bpf.h | $(O)/test
	$(CLANG) $(TEST_BPF_CFLAGS) -c $< -o $@

# The compat reader again, on the layout of scx's copy of the header.
$(O)/test/compat_scx.bpf.o: test/bpf/compat.bpf.c test/bpf/shim/scx_tld.bpf.h $(BPF_HEADERS) | $(O)/test
	$(CLANG) $(TEST_BPF_CFLAGS) -DTH_SCX_LAYOUT -c $< -o $@

$(O)/test/%.skel.h: $(O)/test/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@

$(O)/test/harness.o $(O)/test/harness_agent.o $(O)/test/harness_held.o: $(O)/test/%.o: test/%.c test/harness.h $(TEST_BPF) | $(O)/test
	$(CC) $(BASE_CFLAGS) -I$(O)/test -c $< -o $@

# An archive: a test links harness_agent.o and harness_held.o, and the
# libtld calls they make, only if it uses them.
$(O)/test/harness.a: $(O)/test/harness.o $(O)/test/harness_agent.o $(O)/test/harness_held.o
	rm -f $@
	$(AR) rcs $@ $^

$(O)/test/lib%.so: test/lib%.c $(LIBTLD_SO) | $(O)/test
	$(CC) $(BASE_CFLAGS) $(LDFLAGS) -fPIC -shared $< -o $@ -L$(O) -ltld

$(O)/test/%: test/%.c $(O)/test/harness.a $(TEST_BPF) $(LIBTLD_SO) | $(O)/test
	$(CC) $(BASE_CFLAGS) $(LDFLAGS) -I$(O)/test $< $(O)/test/harness.a -o $@ \
		-L$(O) -Wl,--as-needed -ltld -Wl,--no-as-needed -Wl,-rpath,'$$ORIGIN/..' \
		$(LIBBPF) -lpthread -ldl

# The balancer example's test builds its agent code and BPF in.
$(O)/test/balance: test/balance.c examples/balance/balance.c examples/balance/balance.h \
		$(O)/examples/balance_trace.skel.h $(O)/test/harness.a $(TEST_BPF) $(LIBTLD_SO)
	$(CC) $(BASE_CFLAGS) $(LDFLAGS) -I$(O)/test -I$(O)/examples -Iexamples/balance \
		$(filter %.c,$^) $(O)/test/harness.a -o $@ -L$(O) -ltld -Wl,-rpath,'$$ORIGIN/..' \
		$(LIBBPF) -lpthread

# Shell tests, told where the source tree is.
$(O)/test/%: test/%.sh | $(O)/test
	sed 's|@SRC@|$(CURDIR)|' $< > $@
	chmod +x $@

# tld.hpp with exceptions (g++) and without (clang++).
CXX_TEST_DEPS	:= test/cxx.cpp $(O)/test/harness.a $(TEST_BPF) $(LIBTLD_SO)
CXX_TEST_LIBS	:= -L$(O) -ltld -Wl,-rpath,'$$ORIGIN/..' $(LIBBPF) -lpthread

$(O)/test/cxx: $(CXX_TEST_DEPS) | $(O)/test
	$(CXX) $(CXX_CFLAGS) $(LDFLAGS) $< $(O)/test/harness.a -o $@ $(CXX_TEST_LIBS)

$(O)/test/cxx_noexcept: $(CXX_TEST_DEPS) | $(O)/test
	$(CLANGXX) $(CXX_CFLAGS) -fno-exceptions $(LDFLAGS) $< $(O)/test/harness.a \
		-o $@ $(CXX_TEST_LIBS)

$(O)/test/cxx_headers.stamp: $(addprefix include/tld/,$(CXX_HEADERS)) | $(O)/test
	for h in $(CXX_HEADERS); do \
		for cxx in $(CXX) $(CLANGXX); do \
			echo "#include <tld/$$h>" | $$cxx $(CXX_WARN) -x c++ -fsyntax-only - || exit 1; \
		done; \
	done
	touch $@

# tld::var's store compiles to C's (test/cxx_asm.sh), with each compiler.
$(O)/test/cxx_asm.stamp: test/cxx_asm.cpp test/cxx_asm.sh include/tld/tld.hpp include/tld/tld.h \
		| $(O)/test
	test/cxx_asm.sh $(CXX) -std=c++17 -Iinclude
	test/cxx_asm.sh $(CLANGXX) -std=c++17 -Iinclude
	touch $@

tests: $(TESTS) $(TEST_LIBS) $(TLDTOOL) $(TLDD) examples $(O)/test/cxx_headers.stamp \
	$(O)/test/cxx_asm.stamp

# tld.bpf.h's reader compiled for user space, under libFuzzer.
$(O)/fuzz/%: test/fuzz/%.c test/fuzz/bpf_shim.h test/model.h $(wildcard include/tld/*.h tools/*.c tools/*.h) | $(O)/fuzz
	$(CLANG) -g -O1 -Wall -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Iinclude -Itest/fuzz $< -o $@

fuzzers: $(FUZZERS)

# The same tests against libtld built with AddressSanitizer, in $(O)/asan.
# g++ also for the no-exceptions C++ test there: one process cannot hold
# gcc's and clang's ASan runtimes.
asan-tests:
	@$(MAKE) --no-print-directory O=$(O)/asan UPSTREAM=$(abspath $(UPSTREAM)) \
		CFLAGS='$(ASAN_FLAGS)' LDFLAGS=-fsanitize=address CLANGXX='$(CXX)' tests

# Everything built by clang too, in $(O)/clang: test/run.sh runs its tests.
clang-tests:
	@$(MAKE) --no-print-directory O=$(O)/clang CC=$(CLANG) UPSTREAM=$(abspath $(UPSTREAM)) tests

bpffs:
	@mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

check: tests bpffs
	@O=$(O) PLAIN_ONLY=1 test/run.sh

test: deps vm-deps
	@$(MAKE) --no-print-directory tests asan-tests clang-tests fuzzers vm-tests bpffs deb
	@O=$(O) test/run.sh

# Break the code on purpose and check that the tests notice (minutes).
mutate: deps
	@$(MAKE) --no-print-directory tests bpffs
	@test/mutate.sh

demo: deps
	@$(MAKE) --no-print-directory all bpffs
	@O=$(O) examples/hints/demo.sh

# ---- VM tests: Debian's 7.3 kernel, with sched_ext, under qemu ----------
# BPF for the guest is compiled against the guest kernel's BTF.

VM_BPF_CFLAGS	:= $(patsubst -I$(O),-I$(O)/vm,$(BPF_CFLAGS)) -Wno-missing-declarations

$(O)/vm/vmlinux.h: | $(O)/vm
	cp "$$(test/vm/kernel.sh 7.3)/vmlinux.h" $@

$(O)/vm/%.bpf.o: $(wildcard include/tld/*.h) $(O)/vm/vmlinux.h | $(O)/vm
	$(CLANG) $(VM_BPF_CFLAGS) -Iexamples/sched -Iexamples/balance -Itest/bpf/shim -I$(UPSTREAM) -c $(filter %.bpf.c,$^) -o $@

# bpftool 7.5 points a skeleton field, new in libbpf 1.5, at each
# struct_ops map's link; with libbpf 1.4 the loaders attach those maps
# themselves (bpf_map__attach_struct_ops), so the line goes.
$(O)/vm/%.skel.h: $(O)/vm/%.bpf.o
	$(BPFTOOL) gen skeleton $< | sed '/map->link = /d' > $@

$(O)/vm/upstream_sched.bpf.o: test/vm/bpf/upstream_sched.bpf.c $(UPSTREAM)/task_local_data.bpf.h

VM_TEST_CFLAGS	:= $(BASE_CFLAGS) -I$(O)/test -I$(O)/vm -Itest -Itest/vm -Iexamples/sched \
	-Iexamples/balance
VM_TEST_LIBS	:= -L$(O) -ltld -Wl,-rpath,'$$ORIGIN/..' $(LIBBPF) -lpthread -ldl

$(O)/vm/sched: test/vm/sched.c test/vm/scx.c $(O)/test/harness.a $(O)/vm/scx_tld.skel.h \
		$(O)/vm/upstream_sched.skel.h $(LIBTLD_SO)
	$(CC) $(VM_TEST_CFLAGS) $(filter %.c %.a,$^) -o $@ $(VM_TEST_LIBS)

$(O)/vm/balance: test/vm/balance.c test/vm/scx.c examples/balance/balance.c $(O)/test/harness.a \
		$(O)/vm/scx_tld.skel.h $(LIBTLD_SO)
	$(CC) $(VM_TEST_CFLAGS) $(filter %.c %.a,$^) -o $@ $(VM_TEST_LIBS)

vm-tests: vm-deps tests $(VM_BINS) $(O)/vm/sched $(O)/vm/balance

vm-deps:
	@scripts/deps.sh vm

# scx_tld on a hinted workload, in the 7.3 guest, by hand.
vm-demo: deps vm-tests
	@test/vm/run.sh -k 7.3 -c 1 -- examples/sched/demo.sh $(O)

# ---- bench --------------------------------------------------------------

BENCH_BINS	:= $(patsubst bench/%.c,$(O)/bench/%,$(wildcard bench/*.c)) $(O)/bench/update_cxx
BENCH_HEADERS	:= bench/stats.h bench/threads.h

$(O)/bench/%.bpf.o: bench/bpf/%.bpf.c $(BPF_HEADERS) $(UPSTREAM)/task_local_data.bpf.h | $(O)/bench
	$(CLANG) $(BPF_CFLAGS) -Itest/bpf/shim -I$(UPSTREAM) -c $< -o $@

$(O)/bench/%.skel.h: $(O)/bench/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@

$(O)/bench/update_cxx: bench/update_cxx.cpp $(BENCH_HEADERS) $(LIBTLD_SO) | $(O)/bench
	$(CXX) $(CXX_CFLAGS) $< -o $@ -L$(O) -ltld -Wl,-rpath,'$$ORIGIN/..'

$(O)/bench/upstream: bench/upstream.c $(BENCH_HEADERS) $(UPSTREAM)/task_local_data.bpf.h | $(O)/bench
	$(CC) $(BASE_CFLAGS) -I$(UPSTREAM) $< -o $@ $(LIBBPF) -lpthread

$(O)/bench/bpfread: bench/bpfread.c $(BENCH_HEADERS) $(O)/bench/read.skel.h \
		$(O)/bench/read_upstream.skel.h $(LIBTLD_SO)
	$(CC) $(BASE_CFLAGS) -I$(O)/bench $< -o $@ -L$(O) -ltld -Wl,-rpath,'$$ORIGIN/..' \
		$(LIBBPF) -lpthread

$(O)/bench/switch: bench/switch.c $(BENCH_HEADERS) $(O)/bench/switch_floor.skel.h
	$(CC) $(BASE_CFLAGS) -I$(O)/bench $< -o $@ $(LIBBPF)

$(O)/bench/agent: bench/agent.c $(BENCH_HEADERS) $(O)/bench/agent_read.skel.h $(LIBTLD_SO)
	$(CC) $(BASE_CFLAGS) -I$(O)/bench $< -o $@ -L$(O) -ltld -Wl,-rpath,'$$ORIGIN/..' \
		$(LIBBPF) -lpthread

$(O)/bench/%: bench/%.c $(BENCH_HEADERS) $(LIBTLD_SO) | $(O)/bench
	$(CC) $(BASE_CFLAGS) $< -o $@ -L$(O) -ltld -Wl,-rpath,'$$ORIGIN/..' $(LIBBPF) -lpthread

# tld against the status quo and the physical limit, as ratios (minutes).
bench: deps
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory $(BENCH_BINS) $(TLDTOOL) $(TLDD) bpffs
	@O=$(O) bench/run.sh

# ---- install ------------------------------------------------------------

# Debian packages (libtld0, libtld-dev, tldtool) in $(O)/deb, lintian-clean.
deb: deps
	@scripts/deps.sh deb
	@scripts/deb.sh build $(O)/deb

# The library alone, with tldd and its systemd units, needs only a C
# compiler: no clang, bpftool or vmlinux.h.
install-lib: lib $(TLDD)
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/tld \
		$(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR)
	install -m 644 include/tld/*.h include/tld/*.hpp $(DESTDIR)$(INCLUDEDIR)/tld/
	install -m 644 $(LIBTLD_A) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(LIBTLD_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libtld.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libtld.so.$(SOVERSION)
	ln -sf libtld.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libtld.so
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' \
		libtld.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/libtld.pc
	install -m 644 man/*.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 man/*.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 755 $(TLDD) $(DESTDIR)$(SBINDIR)/
	install -m 644 man/tldd.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 tools/tldd/tldd.socket $(DESTDIR)$(UNITDIR)/
	sed 's|@SBINDIR@|$(SBINDIR)|' tools/tldd/tldd.service > $(DESTDIR)$(UNITDIR)/tldd.service

install: install-lib $(TLDTOOL)
	install -m 755 $(TLDTOOL) $(DESTDIR)$(SBINDIR)/
	install -m 644 man/tldtool.8 $(DESTDIR)$(MANDIR)/man8/

clean:
	rm -rf $(O)

$(O) $(O)/src $(O)/bpf $(O)/tools $(O)/tools/tldd $(O)/test $(O)/examples $(O)/fuzz $(O)/vm $(O)/bench:
	mkdir -p $@

-include $(wildcard $(O)/*/*.d $(O)/tools/tldd/*.d)
