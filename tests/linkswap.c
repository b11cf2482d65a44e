// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * linkswap PIN_DIR OBJECT: loads the sk_lookup program in OBJECT against the
 * maps pinned in PIN_DIR (where their names match) and swaps it into the
 * pinned link, as an older or newer sksteer build would have. For upgrade tests.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

int main(int argc, char **argv)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct bpf_map *map;
	char path[4096];
	int link;

	if (argc != 3) {
		fprintf(stderr, "usage: linkswap PIN_DIR OBJECT\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[2], NULL);
	if (!obj)
		return perror("open"), 1;
	bpf_object__for_each_map(map, obj) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", argv[1], bpf_map__name(map));
		fd = bpf_obj_get(path);
		if (fd >= 0 && bpf_map__reuse_fd(map, fd))
			return perror("reuse"), 1;
	}
	if (bpf_object__load(obj))
		return perror("load"), 1;
	prog = bpf_object__next_program(obj, NULL);
	snprintf(path, sizeof(path), "%s/link", argv[1]);
	link = bpf_obj_get(path);
	if (link < 0 || bpf_link_update(link, bpf_program__fd(prog), NULL))
		return perror("link update"), 1;
	close(link);
	bpf_object__close(obj); /* the link holds the program now */
	return 0;
}
