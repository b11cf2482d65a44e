// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Whole array maps, read in one batch: see arrays.h. */
#include <errno.h>
#include <bpf/bpf.h>
#include "arrays.h"

/* One by one: a kernel without batches for arrays (EINVAL), or a map that refuses them */
static int one_by_one(int fd, uint32_t n, size_t elem_bytes, void *values)
{
	for (uint32_t i = 0; i < n; i++)
		if (bpf_map_lookup_elem(fd, &i, (char *)values + (size_t)i * elem_bytes))
			return -errno;
	return 0;
}

/* Elements a batch reads: their keys stay on the stack (no fresh pages a read) */
#define CHUNK 2048

int array_read(int fd, uint32_t n, size_t elem_bytes, void *values)
{
	uint32_t keys[CHUNK], out = 0, count = 0;
	void *in = NULL;
	int ret = 0;

	while (!ret && count < n) {
		__u32 got = n - count < CHUNK ? n - count : CHUNK;

		ret = bpf_map_lookup_batch(fd, in, &out, keys,
					   (char *)values + (size_t)count * elem_bytes, &got, NULL);
		ret = ret ? -errno : 0;
		if (ret && ret != -ENOENT)
			break; /* got is what was asked: keys and values are not filled */
		/* an array's batch gives keys in order: the values are in place */
		for (uint32_t i = 0; i < got; i++)
			if (keys[i] != count + i)
				ret = -EINVAL;
		count += got;
		in = &out;
		if (ret == -ENOENT) /* the end of the map */
			ret = count == n ? 0 : -ENOENT;
	}
	return ret && ret != -ENOENT ? one_by_one(fd, n, elem_bytes, values) : ret;
}
