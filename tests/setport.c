// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * setport PIN_DIR KEY ROUTE [TABLE]: writes KEY's route in the pinned port table
 * (or TABLE, a scope table such as scope_0) behind sksteer's back (byte KEY of
 * the packed table), for the tests of --check and of repairs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include "sksteer_abi.h"

int main(int argc, char **argv)
{
	uint8_t owners[SKSTEER_KEYS_PER_ELEM];
	uint32_t key, elem;
	char path[4096];
	int fd;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: setport PIN_DIR KEY ROUTE [TABLE]\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/%s", argv[1], argc == 5 ? argv[4] : "ports");
	key = (uint32_t)strtoul(argv[2], NULL, 0);
	elem = key / SKSTEER_KEYS_PER_ELEM;
	fd = bpf_obj_get(path);
	if (fd < 0 || bpf_map_lookup_elem(fd, &elem, owners))
		return perror(path), 1;
	owners[key % SKSTEER_KEYS_PER_ELEM] = (uint8_t)atoi(argv[3]);
	if (bpf_map_update_elem(fd, &elem, owners, BPF_ANY))
		return perror("update"), 1;
	return 0;
}
