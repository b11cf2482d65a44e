// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What a command needs, checked before anything is opened; see privileges.h. */
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <bpf/libbpf.h>
#include "kernel.h"
#include "privileges.h"

#ifndef CAP_SYS_RESOURCE
#define CAP_SYS_RESOURCE 24
#endif
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1U << (cap % 32));
}

/* "A", "A and B", "A, B and C" */
static const char *join(const char *const *names, int n, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			 !i	    ? "" :
			 i == n - 1 ? " and " :
				      ", ",
			 names[i]);
	return buf;
}

/*
 * Before 5.11, BPF maps and programs count against RLIMIT_MEMLOCK, and libbpf
 * raises it, which needs CAP_SYS_RESOURCE unless it is unlimited already.
 */
static bool memlock_limits_bpf(void)
{
	struct rlimit r;

	return !kernel_at_least(5, 11) && !getrlimit(RLIMIT_MEMLOCK, &r) &&
	       r.rlim_cur != RLIM_INFINITY;
}

/* What each command needs, checked up front for one clear line. */
int privileges_check(const struct args *a, const struct cmd *cmd)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};
	struct {
		int cap;
		const char *name;
		bool needed;
	} caps[] = {
		/* a reader's pins may be its group's (access.h): they tell, with one line */
		{ CAP_BPF, "CAP_BPF", !(cmd->flags & CMD_READ_ONLY) },
		{ CAP_NET_ADMIN, "CAP_NET_ADMIN", cmd->flags & CMD_CHANGES },
		/* loading: the verifier wants it for the program's pointer arithmetic */
		{ CAP_PERFMON, "CAP_PERFMON", cmd->flags & CMD_LOADS },
		{ CAP_SYS_RESOURCE, "CAP_SYS_RESOURCE",
		  (cmd->flags & CMD_LOADS) && memlock_limits_bpf() },
		{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN", a->netns_arg && !(cmd->flags & CMD_READ_ONLY) },
		/* giving the pins to a group (access.h) */
		{ CAP_CHOWN, "CAP_CHOWN", a->group_arg && !a->dry_run },
	};
	const char *needs[6], *lacks[6];
	int nneeds = 0, nlacks = 0;
	char need[128], lack[128];

	if (syscall(SYS_capget, &h, d))
		return 0; /* let the operations themselves tell */
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		/* as the kernel's bpf_capable() and perfmon_capable() */
		bool held = has_cap(d, caps[i].cap) ||
			    ((caps[i].cap == CAP_BPF || caps[i].cap == CAP_PERFMON) &&
			     has_cap(d, CAP_SYS_ADMIN));

		if (!caps[i].needed)
			continue;
		needs[nneeds++] = caps[i].name;
		if (!held)
			lacks[nlacks++] = caps[i].name;
	}
	if (!nlacks)
		return 0;
	join(needs, nneeds, need, sizeof(need));
	join(lacks, nlacks, lack, sizeof(lack));
	return cli_fail("%s%s needs %s, and this process lacks %s: run it with sudo%s", cmd->name,
			a->netns_arg && !(cmd->flags & CMD_READ_ONLY) ? " with --netns" : "", need,
			lack,
			strstr(lack, "CAP_SYS_RESOURCE") ?
				" (before Linux 5.11, BPF memory counts against RLIMIT_MEMLOCK: "
				"CAP_SYS_RESOURCE, or 'ulimit -l unlimited')" :
				"");
}

int privileges_kernel(bool steering)
{
	int ret;

	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return cli_fail(
			"this kernel has no BTF (/sys/kernel/btf/vmlinux): sksteer needs a kernel "
			"built with CONFIG_DEBUG_INFO_BTF=y");
	if (steering) /* the namespace's attached link proves it, with no program loaded to ask */
		return 0;
	ret = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SK_LOOKUP, NULL);
	if (ret < 0)
		return cli_fail("cannot ask the kernel whether it runs sk_lookup programs: %s",
				strerror(-ret));
	if (!ret)
		return cli_fail(
			"this kernel cannot run sk_lookup programs: sksteer needs Linux 5.9 or "
			"later with CONFIG_BPF_SYSCALL=y and CONFIG_NET=y");
	return 0;
}

static bool permitted(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].permitted & (1U << (cap % 32));
}

int privileges_keep_bpf(char *err, size_t errlen)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};
	int keep;

	if (syscall(SYS_capget, &h, d)) {
		snprintf(err, errlen, "cannot read this process's capabilities: %s",
			 strerror(errno));
		return -1;
	}
	keep = permitted(d, CAP_BPF) ? CAP_BPF : permitted(d, CAP_SYS_ADMIN) ? CAP_SYS_ADMIN : -1;
	/* the bounding set first: dropping from it takes CAP_SETPCAP, which goes next */
	if (has_cap(d, CAP_SETPCAP))
		for (int cap = 0; cap <= CAP_LAST_CAP || prctl(PR_CAPBSET_READ, cap) >= 0; cap++)
			if (cap != keep)
				prctl(PR_CAPBSET_DROP, cap);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(d, 0, sizeof(d));
	if (keep >= 0)
		d[keep / 32].effective = d[keep / 32].permitted = 1U << (keep % 32);
	if (syscall(SYS_capset, &h, d) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "cannot drop this process's other capabilities: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}
