# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# make            build ./sksteer (one static binary) and libsksteer (.output/libsksteer.*)
# make lib        the library alone: libsksteer.a, libsksteer.so.0
# make install    the tool, its man pages and units, and the library (DESTDIR, PREFIX, LIBDIR)
# make abi        compare libsksteer.so.0's ABI with src/lib/abi/ (abidiff); abi-update writes it
# make info       which libbpf and bpftool the build uses (submodules or system), and versions
# make test       run the test suite (root; real kernel, throwaway namespaces)
# make bench      benchmarks, as ratios against baselines measured in the same run
# make demo       a short live demonstration in a throwaway namespace
# make deb        Debian packages: sksteer, libsksteer0, libsksteer-dev (deb/)
# make release    source and static x86_64/aarch64 tarballs, SHA256SUMS, reproducible (release/)
# make fuzz       the fuzzers (clang's libFuzzer), FUZZ_TIME seconds each (default 20)
# make deps       install build and test dependencies (Debian/Ubuntu, root)
# make deps-cross the same, plus the arm64 cross toolchain and libraries
# make vmtest     the suite in VMs on Debian's kernels: see vmtest/vmtest.mk
# make V=1        show full commands
#
# Kernel conventions: ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- cross-builds (CC and
# PKG_CONFIG follow CROSS_COMPILE unless given); CFLAGS (which replaces the default -g -O2),
# LDFLAGS, EXTRA_CFLAGS and EXTRA_LDFLAGS add to what the build needs, never replace it.

OUTPUT := .output
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
PREFIX ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0

# --- target architecture and toolchain -------------------------------------------------------
# The target's tools are $(CROSS_COMPILE)gcc etc.; the host's (HOSTCC) build the skeleton
# generator, which runs here.
ifeq ($(origin CC),default)
CC := $(if $(CROSS_COMPILE),$(CROSS_COMPILE)gcc,cc)
endif
ifeq ($(origin AR),default)
AR := $(CROSS_COMPILE)ar
endif
OBJCOPY ?= $(CROSS_COMPILE)objcopy
PKG_CONFIG ?= $(if $(CROSS_COMPILE),$(CROSS_COMPILE)pkg-config,pkg-config)
HOSTCC ?= cc
HOSTAR ?= ar
HOSTPKG_CONFIG ?= pkg-config

# kernel names of architectures, from a machine name (uname -m, a GNU triplet's first part)
karch = $(shell echo '$(1)' | sed -e 's/^x86_64$$/x86/' -e 's/^i.86$$/x86/' -e 's/^aarch64.*/arm64/' \
	-e 's/^arm\(v.*\|eb\)\{0,1\}$$/arm/' -e 's/^ppc64.*/powerpc/' -e 's/^riscv64$$/riscv/' \
	-e 's/^loongarch64$$/loongarch/' -e 's/^s390x$$/s390/')
HOST_ARCH := $(call karch,$(shell uname -m))
# what $(CC) builds for: ARCH follows CROSS_COMPILE (or CC) when not given
CC_ARCH := $(call karch,$(firstword $(subst -, ,$(shell $(CC) -dumpmachine 2>/dev/null))))
ARCH ?= $(or $(CC_ARCH),$(HOST_ARCH))
override ARCH := $(call karch,$(ARCH))
VMLINUX := vmlinux/$(ARCH)/vmlinux.h

ifeq ($(V),1)
	Q =
	msg =
else
	Q = @
	msg = @printf '  %-8s %s\n' "$(1)" "$(patsubst $(abspath $(OUTPUT))/%,%,$(2))";
	MAKEFLAGS += --no-print-directory
endif

# --- libbpf and bpftool: the submodules, else the system --------------------------------------
# libbpf and bpftool come from the submodules when they are checked out
# (git clone --recurse-submodules), else from the system (libbpf-dev, bpftool).
ifneq ($(and $(wildcard libbpf/src/Makefile),$(wildcard bpftool/src/Makefile),$(wildcard bpftool/libbpf/src/Makefile)),)
BPF_SOURCE := submodules
# libbpf's install target puts its headers and UAPI headers (linux/bpf.h, ...) under one
# directory, which comes before the system's for the BPF object and for userspace alike.
LIBBPF_OBJ := $(abspath $(OUTPUT))/libbpf.a
LIBBPF_INCLUDE := $(abspath $(OUTPUT))/include
BPFTOOL := $(abspath $(OUTPUT))/bpftool/bootstrap/bpftool
BPF_INCLUDES := -I$(LIBBPF_INCLUDE)
LIBBPF_DEP := $(LIBBPF_OBJ)
BPFTOOL_DEP := $(BPFTOOL)
else
BPF_SOURCE := system
LIBBPF_OBJ = $(firstword $(wildcard $(shell $(PKG_CONFIG) --variable=libdir libbpf 2>/dev/null)/libbpf.a \
	/usr/lib/$(shell $(CC) -print-multiarch 2>/dev/null)/libbpf.a /usr/lib64/libbpf.a /usr/lib/libbpf.a))
BPFTOOL = $(firstword $(wildcard /usr/sbin/bpftool /usr/local/sbin/bpftool) $(shell command -v bpftool))
BPF_INCLUDES :=
LIBBPF_DEP :=
BPFTOOL_DEP :=
endif

# --- flags -----------------------------------------------------------------------------------
# Builds in different directories give the same bytes: no absolute path of the tree in the
# debug info (gcc's DW_AT_comp_dir, clang's BTF line info) nor in __FILE__.
PREFIX_MAP := -ffile-prefix-map=$(CURDIR)=.

# User CFLAGS replace the defaults; what the build needs is in SKSTEER_CFLAGS, always.
CFLAGS ?= -g -O2
SKSTEER_CFLAGS := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wno-format-truncation -std=gnu11 -D_GNU_SOURCE -DSKSTEER_VERSION='"$(VERSION)"' \
	$(PREFIX_MAP) -I$(OUTPUT) -Isrc/lib/include -Isrc/lib -Isrc/bpf $(BPF_INCLUDES)
# make SANITIZE=1: the tool and the test helpers built with AddressSanitizer and UBSan, every
# error fatal, and linked dynamically (the sanitizers' runtimes are shared libraries; -static is
# for the plain build only). `make SANITIZE=1 test` runs the suite on that build.
ifneq ($(SANITIZE),)
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
STATIC :=
else
SANITIZE_FLAGS :=
STATIC := -static
endif
ALL_CFLAGS = $(SKSTEER_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) $(SANITIZE_FLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(EXTRA_LDFLAGS) $(SANITIZE_FLAGS)
# The library's objects, which the sksteer binary links too, are compiled once for both
# libsksteer.a and libsksteer.so: position-independent, and with only what the public header
# marks SKSTEER_API visible. In the static binary -fPIC costs nothing measurable: the linker
# resolves every reference directly.
LIB_CFLAGS := -fPIC -fvisibility=hidden
LIBS = $(LIBBPF_OBJ) $(or $(shell $(PKG_CONFIG) --static --libs libelf zlib 2>/dev/null),-lelf -lz)
# The BPF side is compiled for the BPF target, never with the userspace CFLAGS.
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -Wno-unused-function \
	$(PREFIX_MAP) $(BPF_INCLUDES) -Isrc/bpf -Ivmlinux/$(ARCH)

# Everything built depends on this file, which changes only when the configuration does:
# switching ARCH, CC, CFLAGS or the libbpf source rebuilds instead of mixing objects.
BUILD_CONFIG := ARCH=$(ARCH) CROSS_COMPILE=$(CROSS_COMPILE) CC=$(CC) AR=$(AR) CLANG=$(CLANG) \
	PKG_CONFIG=$(PKG_CONFIG) libbpf=$(BPF_SOURCE) CFLAGS=$(CFLAGS) EXTRA_CFLAGS=$(EXTRA_CFLAGS) \
	LDFLAGS=$(LDFLAGS) EXTRA_LDFLAGS=$(EXTRA_LDFLAGS) SANITIZE=$(SANITIZE) LIB_CFLAGS=$(LIB_CFLAGS)
CONFIG := $(OUTPUT)/config

# src/bpf: the BPF programs and the headers they share with userspace; src/lib: the library
# (libsksteer); src/cli: the command line, its first client. Objects go flat in $(OUTPUT): no
# two sources share a basename. The pure helpers are objects of their own, so that tests and
# fuzzers link them alone.
LIB_SRCS := access.c applied.c records.c arrays.c apply.c dry.c bpffs.c planning.c config.c config_index.c config_text.c program.c view.c guard.c moves.c slots.c \
	layout.c status.c parse.c sockets.c pins.c find.c kernel.c cgroup.c clients.c follow.c \
	routes.c scopes.c scope_runs.c escape.c stop.c print.c ns.c plan.c sockfd.c tracing.c \
	change.c snapshot.c build.c scope_store.c bindings.c bindings_tree.c bindings_place.c \
	bindings_delta.c bindings_maps.c
CLI_SRCS := main.c options.c messages.c privileges.c cmd_change.c cmd_show.c list_view.c json.c all_netns.c \
	metrics.c serve.c watch.c trace.c usage.c input.c signals.c handover.c
TOOL_SRCS := $(addprefix src/lib/,$(LIB_SRCS)) $(addprefix src/cli/,$(CLI_SRCS))
TOOL_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(LIB_SRCS) $(CLI_SRCS))
# Test and benchmark helpers: real sockets, a link swapper, and baseline programs.
TEST_PROGS := $(OUTPUT)/netpeer $(OUTPUT)/linkswap $(OUTPUT)/lookup $(OUTPUT)/floor.bpf.o \
	$(OUTPUT)/seed.bpf.o $(OUTPUT)/twolpm.bpf.o $(OUTPUT)/sksteer-0.2.bpf.o $(OUTPUT)/sksteer-0.3.bpf.o $(OUTPUT)/sksteer-layout3.bpf.o $(OUTPUT)/sksteer-layout5.bpf.o $(OUTPUT)/sksteer-other.bpf.o $(OUTPUT)/sksteer-notrace.bpf.o \
	$(OUTPUT)/otherlookup $(OUTPUT)/otherlookup.bpf.o $(OUTPUT)/oldsteer $(OUTPUT)/setport
# the bindings table's differential check: the lookup alone, and its driver
TEST_PROGS += $(OUTPUT)/bindings.bpf.o $(OUTPUT)/bindings_check $(OUTPUT)/steer_check
# make bench's scale table: sksteer's path on the bindings table, and its driver
TEST_PROGS += $(OUTPUT)/scaled.bpf.o $(OUTPUT)/scale
# runs a command that may not load BPF programs: the tests of runs that must load nothing
TEST_PROGS += $(OUTPUT)/nobpfload
# The library's own tests (tests/libtest*.c): its public API, linked with its objects alone.
LIBTEST_SRCS := tests/libtest.c tests/libtest_util.c tests/libtest_threads.c \
	tests/libtest_callbacks.c
LIBTEST_OBJS = $(patsubst %.c,$(OUTPUT)/%.o,$(LIB_SRCS))
TEST_PROGS += $(OUTPUT)/libtest

.PHONY: all
all: sksteer lib $(TEST_PROGS)
	@:

.PHONY: info
info:
	@echo "libbpf, bpftool: $(BPF_SOURCE)"
ifeq ($(BPF_SOURCE),submodules)
	@echo "libbpf:  $$(sed -n 's/^LIBBPF_\(MAJOR\|MINOR\|PATCH\)_VERSION := //p' libbpf/src/Makefile | paste -sd.)" \
		"(libbpf/, $(LIBBPF_OBJ))"
	@v=$$(sed -n 's/^LIBBPF_\(MAJOR\|MINOR\|PATCH\)_VERSION := //p' bpftool/libbpf/src/Makefile | paste -sd' '); \
		set -- $$v; echo "bpftool: $$(($$1 + 6)).$$2.$$3 (bpftool/, $(BPFTOOL), built for the host)"
else
	@echo "libbpf:  $$($(PKG_CONFIG) --modversion libbpf 2>/dev/null || echo '?')" \
		"($(or $(LIBBPF_OBJ),libbpf.a not found))"
	@echo "bpftool: $$($(BPFTOOL) version 2>/dev/null | sed -n '1s/^[^ ]* v//p') ($(or $(BPFTOOL),not found))"
endif
	@echo "clang:   $$($(CLANG) --version 2>/dev/null | head -1) ($(CLANG))"
	@echo "cc:      $$($(CC) --version 2>/dev/null | head -1) ($(CC))"
	@echo "ARCH:    $(ARCH) ($(VMLINUX)), CROSS_COMPILE=$(CROSS_COMPILE), PKG_CONFIG=$(PKG_CONFIG)"
	@echo "linking: $(if $(SANITIZE),dynamic: SANITIZE=1 builds with $(SANITIZE_FLAGS),static)"

$(OUTPUT) $(OUTPUT)/libbpf $(OUTPUT)/bpftool:
	$(call msg,MKDIR,$@)
	$(Q)mkdir -p $@

# A compiler that does not build for ARCH would give a binary of the wrong architecture:
# refuse (when the configuration changes), before anything is built.
ifneq ($(strip $(BUILD_CONFIG)),$(strip $(file <$(CONFIG))))
$(CONFIG): FORCE
endif
$(CONFIG): | $(OUTPUT)
	$(if $(filter $(ARCH),$(CC_ARCH)),,$(error ARCH=$(ARCH), but $(CC) builds for \
		'$(or $(CC_ARCH),nothing: not found)': set CROSS_COMPILE (e.g. aarch64-linux-gnu-) or CC))
	$(call msg,CONFIG,ARCH=$(ARCH) CC=$(CC) libbpf: $(BPF_SOURCE))
	$(file >$@,$(BUILD_CONFIG))

# --- vendored libbpf and bpftool -------------------------------------------------------------
# libbpf for the target, with the target's compiler; its objects are removed first, since a
# rebuild means the configuration changed (libbpf's make would keep the old ones). -fPIC: the
# same libbpf.a goes into libsksteer.so too (see the library, below).
$(abspath $(OUTPUT))/libbpf.a: $(wildcard libbpf/src/*.[ch] libbpf/src/Makefile libbpf/include/uapi/linux/*.h) \
		$(CONFIG) | $(OUTPUT)/libbpf
	$(call msg,LIB,$@)
	$(Q)rm -rf $(OUTPUT)/libbpf/* $(OUTPUT)/include
	$(Q)$(MAKE) -C libbpf/src BUILD_STATIC_ONLY=1 OBJDIR=$(abspath $(OUTPUT))/libbpf \
		CC="$(CC)" AR="$(AR)" PKG_CONFIG="$(PKG_CONFIG)" \
		EXTRA_CFLAGS="-fPIC $(PREFIX_MAP) $(EXTRA_CFLAGS)" EXTRA_LDFLAGS="$(EXTRA_LDFLAGS)" \
		DESTDIR= PREFIX= LIBDIR=$(abspath $(OUTPUT)) \
		INCLUDEDIR=$(LIBBPF_INCLUDE) UAPIDIR=$(LIBBPF_INCLUDE) \
		install install_uapi_headers $(if $(Q),>/dev/null)

# bpftool only generates the skeleton, here: a bootstrap build for the host, with none of the
# target's compiler or flags (they reach a sub-make through the environment and MAKEFLAGS).
$(abspath $(OUTPUT))/bpftool/bootstrap/bpftool: MAKEOVERRIDES :=
$(abspath $(OUTPUT))/bpftool/bootstrap/bpftool: $(wildcard bpftool/src/*.[ch] bpftool/src/Makefile* \
		bpftool/libbpf/src/*.[ch] bpftool/libbpf/src/Makefile) | $(OUTPUT)/bpftool
	$(call msg,BPFTOOL,$@)
	$(Q)env -u CFLAGS -u LDFLAGS -u CPPFLAGS -u EXTRA_CFLAGS -u EXTRA_LDFLAGS \
		$(MAKE) -C bpftool/src ARCH= CROSS_COMPILE= CC="$(HOSTCC)" HOSTCC="$(HOSTCC)" \
		AR="$(HOSTAR)" HOSTAR="$(HOSTAR)" PKG_CONFIG="$(HOSTPKG_CONFIG)" V=$(V) \
		OUTPUT=$(abspath $(OUTPUT))/bpftool/ bootstrap $(if $(Q),>/dev/null 2>&1)

# --- BPF object and skeleton -----------------------------------------------------------------
# vmlinux.h comes from the running kernel only when it is the target's architecture.
$(VMLINUX):
	$(Q)test "$(ARCH)" = "$(HOST_ARCH)" || { echo "$@ is missing: a build for $(ARCH) cannot" \
		"dump it from this $(HOST_ARCH) kernel (see vmlinux/README)" >&2; exit 1; }
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

.PHONY: vmlinux
vmlinux: $(BPFTOOL_DEP)
	$(Q)test "$(ARCH)" = "$(HOST_ARCH)" || { echo "make vmlinux: this kernel is $(HOST_ARCH)," \
		"not $(ARCH): see vmlinux/README for $(VMLINUX)" >&2; exit 1; }
	$(Q)rm -f $(VMLINUX)
	$(Q)$(MAKE) $(VMLINUX)

$(OUTPUT)/%.bpf.o: src/bpf/%.bpf.c $(VMLINUX) $(CONFIG) $(LIBBPF_DEP) $(BPFTOOL_DEP) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MD -MP -MF $(@:.o=.d) -MT $@ -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

# the baselines for tests and benchmarks, never used by the tool
$(OUTPUT)/%.bpf.o: bench/%.bpf.c $(VMLINUX) $(CONFIG) $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MD -MP -c $< -o $@

# another program's sk_lookup hook, and the frozen lookup program of layout 3, for the tests
$(OUTPUT)/otherlookup.bpf.o $(OUTPUT)/sksteer-layout3.bpf.o $(OUTPUT)/sksteer-layout5.bpf.o \
		$(OUTPUT)/bindings.bpf.o: $(OUTPUT)/%.bpf.o: tests/%.bpf.c $(VMLINUX) $(CONFIG) $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MD -MP -c $< -o $@

# the same program built differently (another tag): stands for another sksteer build in tests
$(OUTPUT)/sksteer-other.bpf.o: src/bpf/sksteer.bpf.c $(VMLINUX) $(CONFIG) $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -mcpu=v3 -MD -MP -c $< -o $@

$(OUTPUT)/sksteer-notrace.bpf.o: src/bpf/sksteer.bpf.c $(VMLINUX) $(CONFIG) $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DSKSTEER_NO_TRACE -MD -MP -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o $(BPFTOOL_DEP) | $(OUTPUT)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# --- userspace -------------------------------------------------------------------------------
$(OUTPUT)/program.o: $(OUTPUT)/sksteer.skel.h
$(OUTPUT)/find.o: $(OUTPUT)/find.skel.h
$(OUTPUT)/clients.o: $(OUTPUT)/clients.skel.h
$(OUTPUT)/follow.o: $(OUTPUT)/follow.skel.h

# -MD: every header, the system's included, so that the dependency files show where each
# came from (tests/02-builds.t reads them) and a libbpf upgrade rebuilds.
$(OUTPUT)/%.o: src/lib/%.c $(CONFIG) $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LIB_CFLAGS) -MD -MP -c $< -o $@

$(OUTPUT)/%.o: src/cli/%.c $(CONFIG) $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Isrc/cli -MD -MP -c $< -o $@

sksteer: $(TOOL_OBJS) $(CONFIG) $(LIBBPF_DEP)
	$(call msg,LINK,$@ [libbpf: $(BPF_SOURCE) $(ARCH)])
	$(Q)test -n "$(LIBBPF_OBJ)" || { echo "libbpf.a not found: run 'sudo make deps' or check out the submodules" >&2; exit 1; }
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(STATIC) $(TOOL_OBJS) $(LIBS) -o $@

# --- the library: libsksteer.a, libsksteer.so.0 ------------------------------------------
# Both from the objects the sksteer binary links (LIB_CFLAGS, above). The BPF skeletons are
# inside those objects: the .so needs nothing but libbpf, libelf and zlib.
LIB_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(LIB_SRCS))
LIB_A := $(OUTPUT)/libsksteer.a
LIB_SONAME := libsksteer.so.$(firstword $(subst ., ,$(VERSION)))
LIB_SO := $(OUTPUT)/libsksteer.so.$(VERSION)
LIB_LINKS := $(OUTPUT)/$(LIB_SONAME) $(OUTPUT)/libsksteer.so
ifeq ($(BPF_SOURCE),submodules)
# The submodule's libbpf (built -fPIC for this) goes into the .so, made local by the version
# script: it may be newer than any libbpf.so.1 where the .so runs. A program that also uses
# libbpf has its own copy then, with its own libbpf_set_print().
LIB_SO_LIBS = $(LIBBPF_OBJ) $(or $(shell $(PKG_CONFIG) --libs libelf zlib 2>/dev/null),-lelf -lz)
LIB_REQUIRES := libelf zlib
else
LIB_SO_LIBS = $(or $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null),-lbpf)
LIB_REQUIRES := libbpf libelf zlib
endif

.PHONY: lib
lib: $(LIB_A) $(LIB_SO) $(LIB_LINKS)
	@:

# One relocatable object, every symbol but the public ones made local: a program linking the
# archive sees sksteer_* only, as with the .so, not the library's internal names.
$(LIB_A): $(LIB_OBJS) $(CONFIG)
	$(call msg,AR,$@)
	$(Q)rm -f $@ $(@:.a=.o)
	$(Q)$(CC) -r -nostdlib $(LIB_OBJS) -o $(@:.a=.o)
	$(Q)$(OBJCOPY) --localize-hidden $(@:.a=.o)
	$(Q)$(AR) rcs $@ $(@:.a=.o)

# -z defs: the library must need nothing from the CLI
$(LIB_SO): $(LIB_OBJS) src/lib/libsksteer.map $(CONFIG) $(LIBBPF_DEP)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -shared -Wl,-soname,$(LIB_SONAME) \
		-Wl,--version-script=src/lib/libsksteer.map -Wl,-z,defs $(LIB_OBJS) $(LIB_SO_LIBS) -o $@

$(OUTPUT)/$(LIB_SONAME): $(LIB_SO)
	$(Q)ln -sf $(notdir $<) $@
$(OUTPUT)/libsksteer.so: $(OUTPUT)/$(LIB_SONAME)
	$(Q)ln -sf $(notdir $<) $@

# The ABI of the .so, the public header's types only, against the committed baseline: a
# function removed or changed (the types it reaches included) fails, one added warns that the
# baseline wants updating (scripts/abi.sh). Needs the debug info of the default CFLAGS (-g)
# and abigail-tools (make deps).
ABI_BASELINE := src/lib/abi/libsksteer.$(ARCH).abi
ABIDW := abidw --headers-dir src/lib/include/sksteer --drop-private-types --exported-interfaces-only \
	--no-corpus-path --no-comp-dir-path --no-show-locs
$(OUTPUT)/libsksteer.abi: $(LIB_SO) FORCE
	$(call msg,ABIDW,$@)
	$(Q)command -v abidw >/dev/null || { echo "make abi: no abidw: run 'sudo make deps'" \
		"(abigail-tools)" >&2; exit 1; }
	$(Q)$(ABIDW) --out-file $@ $<

.PHONY: abi abi-update
abi: $(OUTPUT)/libsksteer.abi
	$(call msg,ABIDIFF,$(ABI_BASELINE))
	$(Q)scripts/abi.sh $(ABI_BASELINE) $<

abi-update: $(OUTPUT)/libsksteer.abi
	$(Q)mkdir -p $(dir $(ABI_BASELINE))
	$(Q)cp $< $(ABI_BASELINE)

$(OUTPUT)/netpeer: tests/netpeer.c $(OUTPUT)/parse.o $(CONFIG) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(filter %.c %.o,$^) -o $@

$(OUTPUT)/linkswap: tests/linkswap.c $(CONFIG) $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< $(STATIC) $(LIBS) -o $@

$(OUTPUT)/oldsteer: tests/oldsteer.c $(OUTPUT)/parse.o $(CONFIG) $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(filter %.c %.o,$^) $(STATIC) $(LIBS) -o $@

$(OUTPUT)/steer_check: tests/steer_check.c $(OUTPUT)/parse.o $(CONFIG) $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(filter %.c %.o,$^) $(STATIC) $(LIBS) -o $@

$(OUTPUT)/setport: tests/setport.c src/bpf/sksteer_abi.h $(CONFIG) $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< $(STATIC) $(LIBS) -o $@

$(OUTPUT)/nobpfload: tests/nobpfload.c $(CONFIG) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -o $@

$(OUTPUT)/otherlookup: tests/otherlookup.c $(CONFIG) $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< $(STATIC) $(LIBS) -o $@

BINDINGS_OBJS := $(addprefix $(OUTPUT)/,bindings.o bindings_tree.o bindings_place.o bindings_delta.o \
	bindings_maps.o kernel.o parse.o)
$(OUTPUT)/bindings_check: tests/bindings_check.c tests/bindings_model.c tests/bindings_model.h \
		$(BINDINGS_OBJS) $(CONFIG) $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests $(ALL_LDFLAGS) $(filter %.c %.o,$^) $(STATIC) $(LIBS) -lpthread -o $@

$(OUTPUT)/scale: bench/scale.c $(BINDINGS_OBJS) $(CONFIG) $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(filter %.c %.o,$^) $(STATIC) $(LIBS) -o $@

$(OUTPUT)/lookup: bench/lookup.c src/bpf/sksteer_abi.h $(BINDINGS_OBJS) $(CONFIG) $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(filter %.c %.o,$^) $(STATIC) $(LIBS) -o $@

# With ALL_CFLAGS and ALL_LDFLAGS: under make SANITIZE=1 the sanitizers cover the library's
# objects it links, as they do the tool's (and the link is dynamic then: STATIC is empty).
$(OUTPUT)/libtest: $(LIBTEST_SRCS) tests/libtest.h src/lib/include/sksteer/sksteer.h \
		$(LIBTEST_OBJS) $(CONFIG) $(LIBBPF_DEP) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(filter %.c %.o,$^) $(STATIC) $(LIBS) -lpthread -o $@

-include $(wildcard $(OUTPUT)/*.d)

# --- checks ----------------------------------------------------------------------------------
.PHONY: test
# halt_on_error: a sanitizer's report fails the run that made it, and so the test
test: all
	$(Q)$(if $(SANITIZE),ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:exitcode=86 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=86 SKSTEER_SANITIZED=1) tests/run

# everything make test needs built, and nothing run
.PHONY: test-build
test-build: all

.PHONY: bench
bench: all
	$(Q)bench/run

.PHONY: demo
demo: all
	$(Q)scripts/demo.sh

# make deb: the Debian packages sksteer, libsksteer0 and libsksteer-dev (dpkg-buildpackage,
# the system's libbpf) in DEB_DIR (deb/). See scripts/deb.sh and debian/.
.PHONY: deb
deb:
	$(Q)DEB_DIR=$(or $(DEB_DIR),deb) scripts/deb.sh

# make release: the source tarball (with the submodules'), static x86_64 and aarch64 binary
# tarballs built from it, and SHA256SUMS, byte-reproducible, in RELEASE_DIR (release/); from a
# clean tree, with the cross toolchain (make deps-cross). See scripts/release.sh.
.PHONY: release
release:
	$(Q)RELEASE_DIR=$(or $(RELEASE_DIR),release) scripts/release.sh

# --- fuzzers ---------------------------------------------------------------------------------
# libFuzzer targets (tests/fuzz_NAME.c) for the parts of the loader that read what users and
# service managers give: built with clang, ASan and UBSan, every report fatal (a UBSan report
# that only printed would pass). make fuzz-build builds them; make fuzz runs each for FUZZ_TIME
# seconds; make test replays the committed corpus through them (tests/03-fuzz-corpus.t).
FUZZERS := parse config handover escape bindings
FUZZ_BINS := $(addprefix $(OUTPUT)/fuzz_,$(FUZZERS))
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-D_GNU_SOURCE $(PREFIX_MAP) -Isrc/lib -Isrc/bpf -Isrc/cli -Itests
# what each links of the library
$(OUTPUT)/fuzz_parse: src/lib/parse.c
$(OUTPUT)/fuzz_config: src/lib/config.c src/lib/config_index.c src/lib/config_text.c \
	src/lib/parse.c
$(OUTPUT)/fuzz_handover: src/cli/handover.c src/lib/parse.c
$(OUTPUT)/fuzz_escape: src/lib/escape.c
$(OUTPUT)/fuzz_bindings: src/lib/bindings.c src/lib/bindings_tree.c src/lib/bindings_place.c \
	src/lib/bindings_delta.c src/lib/parse.c tests/bindings_model.c
# Not on $(CONFIG): neither CC nor CFLAGS nor SANITIZE reaches them, and a switch of those must
# not rebuild them.
$(OUTPUT)/fuzz_%: tests/fuzz_%.c $(wildcard src/*/*.h) | $(OUTPUT)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@

.PHONY: fuzz-build
fuzz-build: $(FUZZ_BINS)
	@:

# Each fuzzer starts from its committed corpus (parse: the whole tree, every subdirectory too)
# and what its earlier runs found, and writes what it finds to the first directory given,
# .output/fuzz-corpus-NAME: never into tests/fuzz-corpus, which changes only by commit. A
# crash stops make with an error, its input in .output/fuzz-crashes/, not in the tree.
FUZZ_TIME ?= 20
fuzz_seeds_parse := tests/fuzz-corpus
fuzz_seeds_config := tests/fuzz-corpus/config
fuzz_seeds_handover := tests/fuzz-corpus/handover
fuzz_seeds_escape := tests/fuzz-corpus/escape
fuzz_seeds_bindings := tests/fuzz-corpus/bindings
fuzz_max_len_parse := 256
fuzz_max_len_config := 1024
fuzz_max_len_handover := 256
fuzz_max_len_escape := 512
fuzz_max_len_bindings := 768
define fuzz_run
$(call msg,FUZZ,$(1) for $(FUZZ_TIME)s)
$(Q)mkdir -p $(OUTPUT)/fuzz-corpus-$(1) $(OUTPUT)/fuzz-crashes
$(Q)$(OUTPUT)/fuzz_$(1) -max_total_time=$(FUZZ_TIME) -max_len=$(fuzz_max_len_$(1)) \
	-artifact_prefix=$(OUTPUT)/fuzz-crashes/$(1)- $(OUTPUT)/fuzz-corpus-$(1) $(fuzz_seeds_$(1))

endef
.PHONY: fuzz
fuzz: fuzz-build
	$(foreach f,$(FUZZERS),$(call fuzz_run,$(f)))

# Formatting (clang-format, as make format does it), then static analysis of the loader, after a
# build (it needs the skeletons bpftool generates):
# clang's analyzer (core, unix, security and dead-store checkers, every report an error; not
# its malloc checker, which misreads the skeletons' error paths: LeakSanitizer checks leaks in
# make SANITIZE=1 test) and cppcheck (its
# warnings, portability and performance checks, every finding an error). The BPF side is
# built with -Wall -Werror.
LINT_SRCS := $(TOOL_SRCS) examples/selfsteer.c
FORMAT_SRCS := $(wildcard src/*/*.c src/*/*.h tests/*.c bench/*.c examples/*.c)
.PHONY: lint
lint: all
	$(call msg,LINT,clang-format)
	$(Q)clang-format --dry-run --Werror $(FORMAT_SRCS) || \
		{ echo "make lint: the files above are not formatted as .clang-format says: make format" >&2; exit 1; }
	$(call msg,LINT,clang --analyze)
	$(Q)for f in $(LINT_SRCS); do \
		$(CLANG) --analyze -Xanalyzer -analyzer-output=text \
			-Xanalyzer -analyzer-checker=core,unix,deadcode,security.insecureAPI.UncheckedReturn \
			-Xanalyzer -analyzer-disable-checker=unix.Malloc \
			-Xclang -analyzer-werror -isystem $(OUTPUT) \
			$(filter-out -g -O2 -I$(OUTPUT),$(ALL_CFLAGS)) -Isrc/cli "$$f" -o /dev/null || exit 1; \
	done
	$(call msg,LINT,include and call circles)
	$(Q)scripts/cycles.sh $(OUTPUT)
	$(call msg,LINT,cppcheck)
	$(Q)cppcheck --quiet --error-exitcode=1 --inline-suppr --std=c11 \
		--enable=warning,portability,performance --suppress=missingIncludeSystem \
		--include=scripts/cppcheck.h \
		-D__linux__ -D__x86_64__ -I src/lib/include -I src/lib -I src/bpf -I src/cli -I $(OUTPUT) $(LINT_SRCS)

.PHONY: format
format:
	$(Q)clang-format -i $(FORMAT_SRCS)

.PHONY: deps deps-cross
deps:
	$(Q)scripts/deps.sh
deps-cross:
	$(Q)scripts/deps.sh --cross

SBINDIR := $(PREFIX)/sbin
UNITS := sksteer@.service sksteer-follow@.service sksteer-metrics.service
UNITDIR ?= $(PREFIX)/lib/systemd/system
# the library: LIBDIR=$(PREFIX)/lib/$(cc -print-multiarch) for a Debian-style layout
INCLUDEDIR ?= $(PREFIX)/include
LIBDIR ?= $(PREFIX)/lib
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# in the .pc, a directory under PREFIX as ${prefix}/...: pkg-config --define-prefix can move it
under_prefix = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
LIB_INSTALLED := $(INCLUDEDIR)/sksteer/sksteer.h $(LIBDIR)/libsksteer.a $(LIBDIR)/$(notdir $(LIB_SO)) \
	$(LIBDIR)/$(LIB_SONAME) $(LIBDIR)/libsksteer.so $(PKGCONFIGDIR)/libsksteer.pc

.PHONY: install
install: sksteer lib
	$(Q)install -D -m 0755 sksteer $(DESTDIR)$(SBINDIR)/sksteer
	$(Q)install -D -m 0644 sksteer.8 $(DESTDIR)$(PREFIX)/share/man/man8/sksteer.8
	$(Q)install -D -m 0644 sksteer.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/sksteer.conf.5
	$(Q)install -D -m 0644 contrib/bash-completion/sksteer.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/sksteer
	$(Q)install -d $(DESTDIR)$(UNITDIR)
	$(Q)for u in $(UNITS); do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' contrib/$$u > $(DESTDIR)$(UNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	$(Q)install -D -m 0644 src/lib/include/sksteer/sksteer.h $(DESTDIR)$(INCLUDEDIR)/sksteer/sksteer.h
	$(Q)install -D -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libsksteer.a
	$(Q)install -D -m 0755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/$(notdir $(LIB_SO))
	$(Q)ln -sf $(notdir $(LIB_SO)) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	$(Q)ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libsksteer.so
	$(Q)install -d $(DESTDIR)$(PKGCONFIGDIR)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(call under_prefix,$(LIBDIR))|' \
		-e 's|@INCLUDEDIR@|$(call under_prefix,$(INCLUDEDIR))|' \
		-e 's|@VERSION@|$(VERSION)|' -e 's|@REQUIRES_PRIVATE@|$(LIB_REQUIRES)|' \
		src/lib/libsksteer.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/libsksteer.pc

.PHONY: uninstall
uninstall:
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/sksteer $(DESTDIR)$(PREFIX)/share/man/man8/sksteer.8 \
		$(DESTDIR)$(PREFIX)/share/man/man5/sksteer.conf.5 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/sksteer \
		$(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS)) $(addprefix $(DESTDIR),$(LIB_INSTALLED))
	$(Q)rmdir $(DESTDIR)$(INCLUDEDIR)/sksteer 2>/dev/null || true

.PHONY: clean
clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT) sksteer

.PHONY: FORCE
FORCE:
include vmtest/vmtest.mk

# Keep intermediate files (the BPF object and the skeleton) for inspection.
.SECONDARY:
.DELETE_ON_ERROR:
