// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Putting a chosen socket into the targets sockmap from inside the kernel; see find.h. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "find.h"
#include "find.skel.h"
#include "kernel.h"
#include "parse.h"

const char *const find_method_names[NR_FIND_METHODS] = {
	[FIND_ITER] = "iter",
	[FIND_LOOKUP] = "lookup",
	[FIND_PIDFD] = "pidfd",
};

/*
 * Before 6.5 (commit 9378096e8a65), iter/tcp runs its program with the
 * socket's lock held, and a sockmap update takes the same lock: a deadlock.
 */
static bool iter_is_safe(void)
{
	return kernel_at_least(6, 5);
}

/* The method to start from: forced by SKSTEER_FIND, else the best this kernel supports. */
static int first_method(bool *forced)
{
	const char *env = getenv("SKSTEER_FIND");

	*forced = false;
	for (int m = 0; env && m < NR_FIND_METHODS; m++) {
		if (!strcmp(env, find_method_names[m])) {
			*forced = true;
			return m;
		}
	}
	return iter_is_safe() ? FIND_ITER : FIND_LOOKUP;
}

static struct find_bpf *open_finder(int targets_fd, uint32_t slot, const struct sock_info *s,
				    enum find_method m)
{
	struct find_bpf *skel = find_bpf__open();

	if (!skel)
		return NULL;
	skel->rodata->want_cookie = s->cookie;
	memcpy((void *)skel->rodata->want_addr, s->addr.addr, sizeof(s->addr.addr));
	skel->rodata->want_slot = slot;
	skel->rodata->want_port = s->addr.port;
	skel->rodata->want_family = s->addr.family;
	skel->rodata->want_state = s->addr.proto == IPPROTO_TCP ? TCP_LISTEN : TCP_CLOSE;
	bpf_program__set_autoload(skel->progs.find_tcp,
				  m == FIND_ITER && s->addr.proto == IPPROTO_TCP);
	bpf_program__set_autoload(skel->progs.find_udp,
				  m == FIND_ITER && s->addr.proto == IPPROTO_UDP);
	bpf_program__set_autoload(skel->progs.find_by_lookup, m == FIND_LOOKUP);
	if (bpf_map__reuse_fd(skel->maps.targets, targets_fd) || find_bpf__load(skel)) {
		find_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

/* Walks the namespace's sockets once; the program puts the match into the sockmap. */
static int run_iter(struct find_bpf *skel, int proto)
{
	struct bpf_program *prog =
		proto == IPPROTO_TCP ? skel->progs.find_tcp : skel->progs.find_udp;
	struct bpf_link *link = bpf_program__attach_iter(prog, NULL);
	char buf[256];
	int fd, ret = 0;

	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		ret = -errno;
	while (fd >= 0 && (ret = (int)read(fd, buf, sizeof(buf))) > 0)
		;
	if (ret < 0)
		ret = -errno;
	if (fd >= 0)
		close(fd);
	bpf_link__destroy(link);
	return ret;
}

static int run_lookup(struct find_bpf *skel)
{
	char packet[64] = {}; /* the lookup needs an skb, not its contents */
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof(packet));

	return bpf_prog_test_run_opts(bpf_program__fd(skel->progs.find_by_lookup), &opts) ? -errno :
											    0;
}

/* 1: installed; 0: this method cannot run here (try the next); -1: failed, err set. */
static int install_with(enum find_method m, int targets_fd, uint32_t slot,
			const struct sock_info *s, char *err, size_t errlen)
{
	struct find_bpf *skel;
	int ret, fd;

	if (m == FIND_PIDFD) {
		uint64_t value;

		fd = socket_dup(s, err, errlen);
		if (fd < 0)
			return -1;
		value = (uint64_t)fd;
		ret = bpf_map_update_elem(targets_fd, &slot, &value, BPF_ANY) ? -errno : 1;
		close(fd);
		return ret;
	}
	skel = open_finder(targets_fd, slot, s, m);
	if (!skel)
		return 0;
	ret = m == FIND_ITER ? run_iter(skel, s->addr.proto) : run_lookup(skel);
	if (ret)
		ret = 0; /* it loaded, but cannot run here: the next way */
	else if (skel->bss->update_err)
		ret = skel->bss->update_err;
	else if (skel->bss->found)
		ret = 1;
	else /* an iterator sees every socket; the lookup may miss a member of a large group */
		ret = m == FIND_ITER ? -ENOENT : 0;
	find_bpf__destroy(skel);
	return ret;
}

int target_install(int targets_fd, uint32_t slot, const struct sock_info *s, char *err,
		   size_t errlen)
{
	char name[TARGET_STRLEN];
	bool forced;
	int m = first_method(&forced), ret = 0;

	format_target(&s->addr, name, sizeof(name));
	err[0] = '\0';
	if (s->held) { /* our own descriptor (--fd, --listen): nothing to find */
		uint64_t value = (uint64_t)s->fd;

		if (!bpf_map_update_elem(targets_fd, &slot, &value, BPF_ANY))
			return 0;
		snprintf(err, errlen, "cannot steer to %s: the kernel refused its socket (%s)",
			 name, strerror(errno));
		return -1;
	}
	if (m == FIND_ITER && forced && !iter_is_safe()) {
		snprintf(err, errlen,
			 "SKSTEER_FIND=iter: before Linux 6.5 a socket iterator cannot update a "
			 "sockmap without deadlocking: unset SKSTEER_FIND");
		return -1;
	}
	for (; m < NR_FIND_METHODS && !ret; m = forced ? NR_FIND_METHODS : m + 1)
		ret = install_with(m, targets_fd, slot, s, err, errlen);
	if (ret == 1)
		return 0;
	if (err[0])
		return -1;
	if (ret == -ENOENT)
		snprintf(err, errlen,
			 "the socket at %s changed while sksteer looked at it; run again", name);
	else if (ret)
		snprintf(err, errlen, "cannot steer to %s: the kernel refused its socket (%s)",
			 name, strerror(-ret));
	else
		snprintf(
			err, errlen,
			"cannot steer to %s: no way to reach its socket on this kernel (%s%s); run "
			"with -v to see why",
			name, forced ? "SKSTEER_FIND=" : "", forced ? getenv("SKSTEER_FIND") : "");
	return -1;
}
