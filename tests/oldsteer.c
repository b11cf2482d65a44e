// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * oldsteer PIN_DIR OBJECT ADDR:PORT PORTS: steering as an older sksteer left
 * it pinned, for the layout upgrade tests. It listens at ADDR:PORT itself,
 * steers PORTS (TCP) there with OBJECT's program, pins maps and link in
 * PIN_DIR, prints "ready", and then answers each connection with the port it
 * arrived on, until killed. The layout is OBJECT's, told by its maps:
 *   2: bench/sksteer-0.2.bpf.c (no "layout" map): the port table with an
 *      element per key, the trace ring buffer pinned too;
 *   3: tests/sksteer-layout3.bpf.c (no prefix lists): the packed port table of
 *      routes, the "layout" map;
 *   4: bench/sksteer-0.3.bpf.c: layout 3's maps and the empty prefix lists;
 *   5: tests/sksteer-layout5.bpf.c: layout 4's and the UDP client table;
 *      with OLDSTEER_DST="PREFIX PORT" (an IPv4 prefix), PORT bound for
 *      PREFIX to the same target, in scope table 1 (scope table 0 and the
 *      port table's mark as that sksteer made them).
 * For each, what that sksteer wrote for one target, nothing else: what it
 * recorded for the loader (target_info, the layout) too, so that the upgrade
 * reads what it would have read.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>
#include <arpa/inet.h>
#include "parse.h"
#include "sksteer_abi.h"

static void die(const char *what)
{
	fprintf(stderr, "oldsteer: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* As layouts 3 and 4 had them (src/sksteer.h then): these pins must read as theirs did. */
struct old_route {
	uint8_t slot;
	uint8_t owner[2]; /* the AF_INET and the AF_INET6 target */
	uint8_t pad;
};

struct old_target_info {
	uint32_t uid;
	uint32_t flags; /* 1: ports is set; 2: uid is set */
	uint64_t ports[65536 / 64];
};

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, name);

	return map ? bpf_map__fd(map) : -1;
}

/*
 * Layouts 3 and 4: PORTS (TCP keys: the port alone) take route 1, whose
 * entry for the target's family and the other one both go to slot 1, as a
 * lone socket's did; its ports and uid recorded, the layout last.
 */
static void steer_routes(struct bpf_object *obj, const struct sksteer_target *t,
			 const struct portset *ports, uint32_t layout)
{
	static uint8_t table[2 * 65536]; /* one byte per key, eight to an element */
	struct old_route route = { .slot = 1 };
	struct old_target_info info = { .uid = getuid(), .flags = 3 };
	uint32_t zero = 0, slot = 1;

	for (uint32_t port = 1; port <= 65535; port++)
		table[port] = portset_has(ports, port);
	for (uint32_t elem = 0; elem < sizeof(table) / 8; elem++) {
		uint64_t v;

		memcpy(&v, table + elem * 8, 8);
		if (v && bpf_map_update_elem(map_fd(obj, "ports"), &elem, &v, BPF_ANY))
			die("ports");
	}
	route.owner[t->family == AF_INET6] = 1;
	for (uint32_t r = 2; r <= 3; r++)
		if (bpf_map_update_elem(map_fd(obj, "routes"), &r, &route, BPF_ANY))
			die("routes");
	memcpy(info.ports, ports->bits, sizeof(info.ports));
	if (bpf_map_update_elem(map_fd(obj, "target_info"), &slot, &info, BPF_ANY) ||
	    bpf_map_update_elem(map_fd(obj, "layout"), &zero, &layout, BPF_ANY))
		die("target_info, layout");
}

/* An mmapable scope table as layouts 4 and 5 made them, mapped at *mem. */
static int scope_table(const char *name, uint8_t **mem)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, 8, 2 * 65536 / 8, &opts);

	*mem = fd < 0 ? MAP_FAILED :
			mmap(NULL, 2 * 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*mem == MAP_FAILED)
		die(name);
	return fd;
}

/*
 * Layout 5's prefix (OLDSTEER_DST): PORT bound for PREFIX to route 1, in scope
 * table 1; scope table 0 holds the port's unscoped route, the port table its
 * mark; the prefix list in use names scope 1. fds[0], fds[1]: the tables.
 */
static void steer_prefix(struct bpf_object *obj, const char *spec, int *fds)
{
	struct sksteer_prefixes list = { .n4 = 1 };
	char text[64], err[256];
	struct prefix p;
	unsigned int port;
	uint8_t *t0, *t1;
	uint32_t zero = 0, one = 1, elem;
	uint64_t v;

	if (sscanf(spec, "%63s %u", text, &port) != 2 || !port || port > 65535 ||
	    parse_prefix(text, &p, err, sizeof(err)) || p.family != AF_INET) {
		fprintf(stderr, "oldsteer: OLDSTEER_DST: \"IPV4-PREFIX PORT\"\n");
		exit(2);
	}
	fds[0] = scope_table("scope_0", &t0);
	fds[1] = scope_table("scope_1", &t1);
	elem = port / 8;
	if (bpf_map_lookup_elem(map_fd(obj, "ports"), &elem, &v))
		die("ports");
	t0[port] = ((uint8_t *)&v)[port % 8];
	t1[port] = 1;
	((uint8_t *)&v)[port % 8] = 255; /* SKSTEER_SCOPED */
	memcpy(&list.v4[0].addr, p.addr, 4);
	list.v4[0].mask = htonl(p.len ? ~0u << (32 - p.len) : 0);
	list.v4[0].scope = 1;
	if (bpf_map_update_elem(map_fd(obj, "scopes"), &zero, &fds[0], BPF_ANY) ||
	    bpf_map_update_elem(map_fd(obj, "scopes"), &one, &fds[1], BPF_ANY) ||
	    bpf_map_update_elem(map_fd(obj, "prefixes"), &zero, &list, BPF_ANY) ||
	    bpf_map_update_elem(map_fd(obj, "prefix_list"), &zero, &zero, BPF_ANY) ||
	    bpf_map_update_elem(map_fd(obj, "ports"), &elem, &v, BPF_ANY))
		die("prefix");
}

static int listener(const struct sksteer_target *t)
{
	struct sockaddr_storage ss = {};
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	int fd = socket(t->family, SOCK_STREAM, 0), one = 1;

	if (t->family == AF_INET6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(t->port);
		memcpy(&s6->sin6_addr, t->addr, 16);
	} else {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(t->port);
		memcpy(&s4->sin_addr, t->addr, 4);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sizeof(ss)) || listen(fd, 4096))
		die("listen");
	return fd;
}

int main(int argc, char **argv)
{
	struct sksteer_target t;
	struct portset ports;
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *link;
	struct bpf_map *map;
	struct statfs fs;
	char path[4096], err[256];
	uint32_t one = 1;
	uint8_t slot = 1;
	uint64_t sock;
	int fd, netns, scope_fds[2] = { -1, -1 };

	if (argc != 5 || parse_target(argv[3], &t, err, sizeof(err)) ||
	    parse_ports(argv[4], &ports, err, sizeof(err))) {
		fprintf(stderr, "usage: oldsteer PIN_DIR OBJECT ADDR:PORT PORTS\n");
		return 2;
	}
	/* 0.2 mounted bpffs itself too */
	if ((statfs("/sys/fs/bpf", &fs) || fs.f_type != BPF_FS_MAGIC) &&
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		die("mount bpffs");
	fd = listener(&t);
	sock = (uint64_t)fd;
	obj = bpf_object__open_file(argv[2], NULL);
	if (!obj)
		die("open");
	bpf_object__for_each_program(prog, obj)
		bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog), "sksteer"));
	if (bpf_object__load(obj))
		die("load");
	if (map_fd(obj, "udp_replies") >= 0) {
		steer_routes(obj, &t, &ports, 5);
		if (getenv("OLDSTEER_DST"))
			steer_prefix(obj, getenv("OLDSTEER_DST"), scope_fds);
	} else if (map_fd(obj, "layout") >= 0) {
		steer_routes(obj, &t, &ports, map_fd(obj, "prefixes") >= 0 ? 4 : 3);
	} else {
		for (uint32_t port = 1; port <= 65535; port++)
			if (portset_has(&ports, port) &&
			    bpf_map_update_elem(map_fd(obj, "ports"), &port, &slot, BPF_ANY))
				die("ports");
	}
	if (bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "targets")), &one,
				&sock, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "target_addrs")),
				&one, &t, BPF_ANY))
		die("target");
	if (mkdir("/sys/fs/bpf/sksteer", 0700) && errno != EEXIST)
		die("mkdir");
	if (mkdir(argv[1], 0700) && errno != EEXIST)
		die("mkdir");
	bpf_object__for_each_map(map, obj) {
		if (strchr(bpf_map__name(map), '.'))
			continue; /* .rodata and the like */
		if (map_fd(obj, "udp_replies") >= 0 && !strcmp(bpf_map__name(map), "events"))
			continue; /* layout 5 left the trace ring buffer to the tracer */
		snprintf(path, sizeof(path), "%s/%s", argv[1], bpf_map__name(map));
		if (bpf_map__pin(map, path))
			die(path);
	}
	for (int s = 0; s < 2 && scope_fds[s] >= 0; s++) {
		snprintf(path, sizeof(path), "%s/scope_%d", argv[1], s);
		if (bpf_obj_pin(scope_fds[s], path))
			die(path);
	}
	netns = open("/proc/self/ns/net", O_RDONLY);
	prog = bpf_object__find_program_by_name(obj, "sksteer");
	link = bpf_program__attach_netns(prog, netns);
	snprintf(path, sizeof(path), "%s/link", argv[1]);
	if (!link || bpf_link__pin(link, path))
		die("link");
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct sockaddr_storage local;
		socklen_t len = sizeof(local);
		char reply[16];
		int c = accept(fd, NULL, NULL);

		if (c < 0)
			continue;
		getsockname(c, (struct sockaddr *)&local, &len);
		snprintf(reply, sizeof(reply), "%u\n",
			 ntohs(((struct sockaddr_in *)&local)->sin_port));
		if (write(c, reply, strlen(reply)) < 0)
			perror("write");
		close(c);
	}
}
