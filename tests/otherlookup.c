// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * otherlookup OBJECT PORT LISTEN: another program with an sk_lookup hook, for
 * tests. Listens on 127.0.0.1:LISTEN, attaches OBJECT's program to this network
 * namespace to assign that socket for local port PORT, prints "ready", and
 * answers each connection with "other:LOCALPORT" until killed.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static int listener(unsigned int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64))
		return -1;
	return fd;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_link *link;
	__u32 zero = 0, port;
	__u64 value;
	int fd, netns;

	if (argc != 4)
		return fprintf(stderr, "usage: otherlookup OBJECT PORT LISTEN\n"), 2;
	port = (__u32)atoi(argv[2]);
	fd = listener((unsigned int)atoi(argv[3]));
	obj = bpf_object__open_file(argv[1], NULL);
	if (fd < 0 || !obj || bpf_object__load(obj))
		return perror("otherlookup: load"), 1;
	value = (__u64)fd;
	netns = open("/proc/self/ns/net", O_RDONLY);
	if (bpf_map_update_elem(bpf_object__find_map_fd_by_name(obj, "sock"), &zero, &value, 0) ||
	    bpf_map_update_elem(bpf_object__find_map_fd_by_name(obj, "port"), &zero, &port, 0))
		return perror("otherlookup: maps"), 1;
	link = bpf_program__attach_netns(bpf_object__next_program(obj, NULL), netns);
	if (!link)
		return perror("otherlookup: attach"), 1;
	puts("ready");
	fflush(stdout);
	for (;;) {
		struct sockaddr_in local;
		socklen_t len = sizeof(local);
		char reply[32];
		int c = accept(fd, NULL, NULL);

		if (c < 0)
			continue;
		getsockname(c, (struct sockaddr *)&local, &len);
		snprintf(reply, sizeof(reply), "other:%u\n", ntohs(local.sin_port));
		if (write(c, reply, strlen(reply)) < 0)
			perror("write");
		close(c);
	}
}
