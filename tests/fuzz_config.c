// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target for the configuration file parser (make fuzz). Besides
 * crashes it checks what --save and --config promise: a file that parses,
 * written out and parsed again, is the same configuration and the same bytes;
 * a configuration differs from itself in nothing, and from nothing in every
 * target.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

static char *write_config(const struct config *cfg, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		abort();
	config_write(cfg, f);
	fclose(f);
	return text;
}

static bool same(const struct config *a, const struct config *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++)
		if (!target_equal(&a->t[i].addr, &b->t[i].addr) ||
		    memcmp(&a->t[i].ports, &b->t[i].ports, sizeof(a->t[i].ports)) ||
		    (a->t[i].options & CONFIG_FAIL_CLOSED) !=
			    (b->t[i].options & CONFIG_FAIL_CLOSED))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct config cfg, again, none = { .name = "none" };
	char err[1024], *text, *text2;
	size_t len, len2;

	if (config_parse(&cfg, "fuzz", (const char *)data, size, err, sizeof(err))) {
		if (strncmp(err, "fuzz:", 5) || strchr(err, '\n')) {
			fprintf(stderr, "an error that is not one 'FILE:LINE: ...' line: %s\n",
				err);
			abort();
		}
		return 0;
	}
	text = write_config(&cfg, &len);
	if (config_parse(&again, "saved", text, len, err, sizeof(err)) || !same(&cfg, &again)) {
		fprintf(stderr, "saved as\n%s\ndoes not parse back the same: %s\n", text, err);
		abort();
	}
	text2 = write_config(&again, &len2);
	if (len != len2 || memcmp(text, text2, len)) {
		fprintf(stderr, "saving twice gives different bytes:\n%s\n%s\n", text, text2);
		abort();
	}
	if (config_diff(&cfg, &again, NULL) != 0 || config_diff(&none, &cfg, NULL) != cfg.n ||
	    config_diff(&cfg, &none, NULL) != cfg.n) {
		fprintf(stderr, "the diff is wrong for\n%s\n", text);
		abort();
	}
	free(text);
	free(text2);
	config_free(&cfg);
	config_free(&again);
	return 0;
}
