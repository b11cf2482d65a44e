// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The harness floor: an sk_lookup program that does nothing. Never used by the tool. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("sk_lookup")
int floor_prog(struct bpf_sk_lookup *ctx)
{
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
