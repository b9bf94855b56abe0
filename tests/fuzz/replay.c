// SPDX-License-Identifier: Apache-2.0
// Replays every file of the directories given (a target's seed corpus and the inputs that once
// crashed it) through its fuzz target; TAP, one line per file. A crash fails the test by
// dying; a sanitizer build reports what it saw.
#define _GNU_SOURCE
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/tap.h"
#include "fuzz.h"

static void replay(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		ok(0, "open %s", path);
		return;
	}
	static uint8_t buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	uint8_t *exact = malloc(n ? n : 1); // exactly n bytes, as libFuzzer gives them
	memcpy(exact, buf, n);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	ok(1, "%s (%zu bytes) replayed", path, n);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct dirent **names;
		int n = scandir(argv[i], &names, NULL, alphasort);
		for (int j = 0; j < n; j++) {
			if (names[j]->d_name[0] != '.') {
				char path[4096];
				snprintf(path, sizeof(path), "%s/%s", argv[i], names[j]->d_name);
				replay(path);
			}
			free(names[j]);
		}
		free(n >= 0 ? names : NULL);
	}
	return tap_done();
}
