# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The kernel matrix: the test suite in VMs running Debian's kernels (vmtest/run says how).
#
# make vmtest KERNEL=6.1 [TESTS=tests/10-steer.t] [ACCEL=kvm]   one kernel of vmtest/kernels
# make vmtest-all                                                 every kernel, one after another
# make deps-vmtest                                                QEMU and the rest (root)

VMTEST_KERNELS ?= $(shell awk '!/^\#/ && NF { print $$1 }' vmtest/kernels)
VMTEST_INIT := .vmtest/init

# Static: it is the only program in the guest's initramfs.
$(VMTEST_INIT): vmtest/init.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) -Os -Wall -Wextra -static $< -o $@

.PHONY: vmtest
vmtest: all $(VMTEST_INIT)
	$(Q)test -n "$(KERNEL)" || \
		{ echo "make vmtest KERNEL=NAME, NAME one of: $(VMTEST_KERNELS)" >&2; exit 1; }
	$(Q)vmtest/run $(KERNEL) -- $(TESTS)

.PHONY: vmtest-all
vmtest-all: all $(VMTEST_INIT)
	$(Q)vmtest/run $(VMTEST_KERNELS) -- $(TESTS)

.PHONY: deps-vmtest
deps-vmtest: deps
	$(Q)vmtest/deps

.PHONY: vmtest-clean
vmtest-clean:
	$(Q)rm -rf .vmtest
