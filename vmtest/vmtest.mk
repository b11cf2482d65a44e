# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The kernel matrix: the test suite in VMs running Debian's kernels (vmtest/run says how).
#
# make vmtest KERNEL=6.1 [TESTS=tests/10-steer.t] [ACCEL=kvm]   one kernel of vmtest/kernels
# make vmtest-all                                                 every kernel, one after another
# make vmtest ARCH=arm64 KERNEL=6.1    the arm64 smoke run (vmtest/arm64, vmtest/smoke), TCG
# make deps-vmtest                                                QEMU and the rest (root)

VMTEST_KERNELS ?= $(shell awk '!/^\#/ && NF { print $$1 }' vmtest/kernels)
VMTEST_INIT := .vmtest/init

# Static: it is the only program in the guest's initramfs.
$(VMTEST_INIT): vmtest/init.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) -Os -Wall -Wextra -static $< -o $@

.PHONY: vmtest vmtest-all
ifeq ($(ARCH),$(HOST_ARCH))
vmtest: all $(VMTEST_INIT)
	$(if $(KERNEL),,$(error make vmtest needs KERNEL=NAME: one of $(VMTEST_KERNELS)))
	$(Q)vmtest/run $(KERNEL) -- $(TESTS)

vmtest-all: all $(VMTEST_INIT)
	$(Q)vmtest/run $(VMTEST_KERNELS) -- $(TESTS)
else ifeq ($(ARCH),arm64)
# Another machine's kernel: the smoke subset, with busybox and the binaries it builds itself;
# this tree's native build is left alone.
vmtest vmtest-all:
	$(if $(or $(KERNEL),$(filter vmtest-all,$@)),,$(error make vmtest ARCH=arm64 needs \
		KERNEL=NAME: one of $(VMTEST_KERNELS)))
	$(if $(TESTS),$(error make $@ ARCH=arm64 runs vmtest/smoke and not TESTS=$(TESTS): \
		the suite needs this host's userland; drop TESTS))
	$(Q)vmtest/arm64 $(if $(filter vmtest-all,$@),$(VMTEST_KERNELS),$(KERNEL))
else
vmtest vmtest-all:
	$(error make $@ boots $(HOST_ARCH) kernels (the suite) and arm64 ones (the smoke run), \
		not ARCH=$(ARCH))
endif

.PHONY: deps-vmtest
deps-vmtest: deps
	$(Q)vmtest/deps

.PHONY: vmtest-clean
vmtest-clean:
	$(Q)rm -rf .vmtest
