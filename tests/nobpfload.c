// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nobpfload CMD [ARGS...]: runs CMD where bpf() can neither load a program
 * nor a BTF, nor create a map (EPERM, through a seccomp filter that CMD and
 * its children inherit). A run that succeeds under it touched only maps that
 * existed: the tests of runs that must load nothing. On a shared host, where
 * other processes load programs all the time, program ids cannot tell.
 *
 * nobpfload --membarrier CMD [ARGS...]: runs CMD where membarrier() alone is
 * refused (EPERM), as a container's seccomp profile may: the kernel cannot be
 * asked to wait for a grace period.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "nobpfload: add this architecture's AUDIT_ARCH_*"
#endif

#define DATA(field) offsetof(struct seccomp_data, field)
/* another architecture's system call numbers mean other calls: refused; then load the number */
#define THIS_ARCH                                                    \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, DATA(arch)),              \
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),     \
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS), \
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, DATA(nr))

int main(int argc, char **argv)
{
	struct sock_filter filter[] = {
		THIS_ARCH,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_bpf, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* bpf(cmd, ...): cmd is an int, the argument's low 32 bits (little endian) */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, DATA(args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, BPF_PROG_LOAD, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, BPF_BTF_LOAD, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, BPF_MAP_CREATE, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_filter membarrier[] = {
		THIS_ARCH,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_membarrier, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };

	if (argc > 1 && !strcmp(argv[1], "--membarrier")) {
		prog = (struct sock_fprog){ .len = sizeof(membarrier) / sizeof(membarrier[0]),
					    .filter = membarrier };
		argv++, argc--;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: nobpfload [--membarrier] CMD [ARGS...]\n");
		return 2;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0))
		return perror("nobpfload: seccomp"), 1;
	execvp(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}
