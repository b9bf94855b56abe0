// SPDX-License-Identifier: Apache-2.0
// Replays every file of a target's seed corpus (which must exist and hold inputs) and of its
// regressions directory (the inputs that once crashed it, if any) through its fuzz target;
// TAP, one line per file. Each input runs in a child of its own, so its line says whether
// that input ended cleanly (a crash, an abort or a sanitizer report fails it, and only it).
// Usage: replay-TARGET CORPUS_DIR [REGRESSIONS_DIR]
#define _GNU_SOURCE
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness/tap.h"
#include "fuzz.h"

// LeakSanitizer's check, where the build has one: each child checks its own input.
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

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
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		uint8_t *exact = malloc(n ? n : 1); // exactly n bytes, as libFuzzer gives them
		memcpy(exact, buf, n);
		LLVMFuzzerTestOneInput(exact, n);
		free(exact);
		int leaked = __lsan_do_recoverable_leak_check ? __lsan_do_recoverable_leak_check() : 0;
		_exit(leaked ? 3 : 0); // not exit(): the target's atexit cleanup is the parent's
	}
	int status = -1;
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		status = -1;
	ok(status == 0, "%s (%zu bytes) replayed%s", path, n,
	   status == 0 ? "" : WIFSIGNALED(status) ? ": it crashed" : ": it failed");
}

// Every input of dir, in name order; returns how many there were (-1: no such directory).
static int replay_dir(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort), count = 0;
	for (int j = 0; j < n; j++) {
		if (names[j]->d_name[0] != '.') {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", dir, names[j]->d_name);
			replay(path);
			count++;
		}
		free(names[j]);
	}
	free(n >= 0 ? names : NULL);
	return n < 0 ? -1 : count;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s CORPUS_DIR [REGRESSIONS_DIR]\n", argv[0]);
		return 2;
	}
	// The target's one-time set-up happens here, once (libFuzzer also starts with an empty
	// input), so that every child starts from it.
	LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
	int seeds = replay_dir(argv[1]);
	ok(seeds > 0, "the seed corpus %s holds inputs (%d)", argv[1], seeds);
	if (argc == 3 && replay_dir(argv[2]) < 0)
		printf("# no regressions directory %s\n", argv[2]);
	return tap_done();
}
