# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# make            build ./sksteer (one static binary)
# make test       run the test suite (root; real kernel, throwaway namespaces)
# make bench      benchmarks, as ratios against baselines measured in the same run
# make demo       a short live demonstration in a throwaway namespace
# make deps       install build and test dependencies (Debian/Ubuntu, root)
# make vmtest     the suite in VMs on Debian's kernels: see vmtest/vmtest.mk
# make V=1        show full commands

OUTPUT := .output
CLANG ?= clang
CC ?= cc
LLVM_STRIP ?= llvm-strip
PREFIX ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0

ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/' \
	-e 's/riscv64/riscv/' -e 's/loongarch64/loongarch/' -e 's/s390x/s390/' -e 's/arm.*/arm/')
VMLINUX := vmlinux/$(ARCH)/vmlinux.h

ifeq ($(V),1)
	Q =
	msg =
else
	Q = @
	msg = @printf '  %-8s %s\n' "$(1)" "$(patsubst $(abspath $(OUTPUT))/%,%,$(2))";
	MAKEFLAGS += --no-print-directory
endif

# libbpf and bpftool come from the submodules when they are checked out
# (git clone --recurse-submodules), else from the system (libbpf-dev, bpftool).
ifneq ($(and $(wildcard libbpf/src/Makefile),$(wildcard bpftool/src/Makefile),$(wildcard bpftool/libbpf/src/Makefile)),)
BPF_SOURCE := submodules (libbpf/, bpftool/)
LIBBPF_OBJ := $(abspath $(OUTPUT))/libbpf.a
BPFTOOL := $(abspath $(OUTPUT))/bpftool/bootstrap/bpftool
BPF_INCLUDES := -I$(abspath $(OUTPUT))/include
LIBBPF_DEP := $(LIBBPF_OBJ)
BPFTOOL_DEP := $(BPFTOOL)
else
BPF_SOURCE := system (libbpf-dev, bpftool)
LIBBPF_OBJ = $(firstword $(wildcard $(shell pkg-config --variable=libdir libbpf 2>/dev/null)/libbpf.a \
	/usr/lib/$(shell $(CC) -print-multiarch 2>/dev/null)/libbpf.a /usr/lib64/libbpf.a /usr/lib/libbpf.a))
BPFTOOL = $(firstword $(wildcard /usr/sbin/bpftool /usr/local/sbin/bpftool) $(shell command -v bpftool))
BPF_INCLUDES :=
LIBBPF_DEP :=
BPFTOOL_DEP :=
endif

LIBS = $(LIBBPF_OBJ) $(shell pkg-config --static --libs libelf zlib 2>/dev/null || echo -lelf -lz)
CFLAGS ?= -g -O2
CFLAGS += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-format-truncation \
	-std=gnu11 \
	-D_GNU_SOURCE -DSKSTEER_VERSION='"$(VERSION)"'
INCLUDES := -I$(OUTPUT) -Isrc $(BPF_INCLUDES)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-function

# The loader's pure helpers are separate objects so that tests and fuzzers can link them alone.
TOOL_SRCS := sksteer.c steer.c trace.c status.c parse.c sockets.c pins.c
TOOL_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(TOOL_SRCS))
# Test and benchmark helpers: real sockets, a link swapper, and baseline programs.
TEST_PROGS := $(OUTPUT)/netpeer $(OUTPUT)/linkswap $(OUTPUT)/lookup $(OUTPUT)/floor.bpf.o \
	$(OUTPUT)/seed.bpf.o $(OUTPUT)/sksteer-other.bpf.o $(OUTPUT)/sksteer-notrace.bpf.o

.PHONY: all
all: sksteer $(TEST_PROGS)
	@:

.PHONY: info
info:
	@echo "libbpf/bpftool: $(BPF_SOURCE)"

$(OUTPUT) $(OUTPUT)/libbpf $(OUTPUT)/bpftool:
	$(call msg,MKDIR,$@)
	$(Q)mkdir -p $@

# --- vendored libbpf and bpftool -------------------------------------------------------------
$(abspath $(OUTPUT))/libbpf.a: $(wildcard libbpf/src/*.[ch] libbpf/src/Makefile) | $(OUTPUT)/libbpf
	$(call msg,LIB,$@)
	$(Q)$(MAKE) -C libbpf/src BUILD_STATIC_ONLY=1 OBJDIR=$(abspath $(OUTPUT))/libbpf \
		DESTDIR=$(abspath $(OUTPUT)) INCLUDEDIR= LIBDIR= UAPIDIR= install $(if $(Q),>/dev/null)

$(abspath $(OUTPUT))/bpftool/bootstrap/bpftool: | $(OUTPUT)/bpftool
	$(call msg,BPFTOOL,$@)
	$(Q)$(MAKE) ARCH= CROSS_COMPILE= OUTPUT=$(abspath $(OUTPUT))/bpftool/ -C bpftool/src \
		bootstrap $(if $(Q),>/dev/null 2>&1)

# --- BPF object and skeleton -----------------------------------------------------------------
$(VMLINUX):
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

.PHONY: vmlinux
vmlinux: $(BPFTOOL_DEP)
	$(Q)rm -f $(VMLINUX)
	$(Q)$(MAKE) $(VMLINUX)

$(OUTPUT)/%.bpf.o: src/%.bpf.c src/sksteer.h $(VMLINUX) $(LIBBPF_DEP) $(BPFTOOL_DEP) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(BPF_INCLUDES) -Isrc -Ivmlinux/$(ARCH) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

# the baselines for tests and benchmarks, never used by the tool
$(OUTPUT)/%.bpf.o: bench/%.bpf.c $(VMLINUX) $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(BPF_INCLUDES) -Isrc -Ivmlinux/$(ARCH) -c $< -o $@

# the same program built differently (another tag): stands for another sksteer build in tests
$(OUTPUT)/sksteer-other.bpf.o: src/sksteer.bpf.c src/sksteer.h $(VMLINUX) $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -mcpu=v3 $(BPF_INCLUDES) -Isrc -Ivmlinux/$(ARCH) -c $< -o $@

$(OUTPUT)/sksteer-notrace.bpf.o: src/sksteer.bpf.c src/sksteer.h $(VMLINUX) $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DSKSTEER_NO_TRACE $(BPF_INCLUDES) -Isrc -Ivmlinux/$(ARCH) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o $(BPFTOOL_DEP) | $(OUTPUT)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# --- userspace -------------------------------------------------------------------------------
$(OUTPUT)/sksteer.o: $(OUTPUT)/sksteer.skel.h

$(OUTPUT)/%.o: src/%.c $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -MMD -MP -c $< -o $@

sksteer: $(TOOL_OBJS) $(LIBBPF_DEP)
	$(call msg,LINK,$@ [libbpf: $(BPF_SOURCE)])
	$(Q)test -n "$(LIBBPF_OBJ)" || { echo "libbpf.a not found: run 'sudo make deps' or check out the submodules" >&2; exit 1; }
	$(Q)$(CC) $(CFLAGS) -static $(TOOL_OBJS) $(LIBS) -o $@

$(OUTPUT)/netpeer: tests/netpeer.c $(OUTPUT)/parse.o | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $^ -o $@

$(OUTPUT)/linkswap: tests/linkswap.c $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $< -static $(LIBS) -o $@

$(OUTPUT)/lookup: bench/lookup.c src/sksteer.h $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) $< -static $(LIBS) -o $@

-include $(wildcard $(OUTPUT)/*.d)

# --- checks ----------------------------------------------------------------------------------
.PHONY: test
test: all
	$(Q)tests/run

.PHONY: bench
bench: all
	$(Q)bench/run

.PHONY: demo
demo: all
	$(Q)scripts/demo.sh

FUZZ_TIME ?= 20
.PHONY: fuzz
fuzz: | $(OUTPUT)
	$(call msg,FUZZ,parse.c for $(FUZZ_TIME)s)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
		tests/fuzz_parse.c src/parse.c -o $(OUTPUT)/fuzz_parse
	$(Q)mkdir -p $(OUTPUT)/fuzz-corpus
	$(Q)$(OUTPUT)/fuzz_parse -max_total_time=$(FUZZ_TIME) -max_len=256 \
		$(OUTPUT)/fuzz-corpus tests/fuzz-corpus

.PHONY: format
format:
	$(Q)clang-format -i $(wildcard src/*.c src/*.h tests/*.c bench/*.c)

.PHONY: deps
deps:
	$(Q)scripts/deps.sh

SBINDIR := $(PREFIX)/sbin
UNITDIR ?= $(PREFIX)/lib/systemd/system

.PHONY: install
install: sksteer
	$(Q)install -D -m 0755 sksteer $(DESTDIR)$(SBINDIR)/sksteer
	$(Q)install -D -m 0644 sksteer.8 $(DESTDIR)$(PREFIX)/share/man/man8/sksteer.8
	$(Q)install -d $(DESTDIR)$(UNITDIR)
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' contrib/sksteer@.service \
		> $(DESTDIR)$(UNITDIR)/sksteer@.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/sksteer@.service

.PHONY: uninstall
uninstall:
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/sksteer $(DESTDIR)$(PREFIX)/share/man/man8/sksteer.8 \
		$(DESTDIR)$(UNITDIR)/sksteer@.service

.PHONY: clean
clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT) sksteer

include vmtest/vmtest.mk

# Keep intermediate files (the BPF object and the skeleton) for inspection.
.SECONDARY:
.DELETE_ON_ERROR:
