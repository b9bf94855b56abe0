// SPDX-License-Identifier: Apache-2.0
// Replays every file of a target's seed corpus (which must exist and hold inputs) and of its
// regressions directory (the inputs that once crashed it, if any) through its fuzz target;
// TAP, one line per file. Inputs run in children (a batch per child, then one input per child
// if the batch failed), so each line says whether that input ended cleanly (a crash, an abort
// or a sanitizer report fails it, and only it).
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

// LeakSanitizer's check, where the build has one: each child checks what its inputs left.
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

// Inputs run in batches of this many per child: a leak check costs tens of milliseconds under
// ASan, and a batch that fails is replayed one input per child to name the input at fault.
#define BATCH 32

// Reads up to 1 MiB of path into exactly-sized memory, as libFuzzer gives an input.
static uint8_t *load(const char *path, size_t *n)
{
	static uint8_t buf[1 << 20];
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	*n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	uint8_t *exact = malloc(*n ? *n : 1);
	if (exact)
		memcpy(exact, buf, *n);
	return exact;
}

// Runs paths[0..count) through the target in one child; its wait status (0: all ended cleanly).
static int run_child(char **paths, int count)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		for (int j = 0; j < count; j++) {
			size_t n;
			uint8_t *in = load(paths[j], &n);
			if (!in)
				_exit(4);
			LLVMFuzzerTestOneInput(in, n);
			free(in);
		}
		int leaked = __lsan_do_recoverable_leak_check ? __lsan_do_recoverable_leak_check() : 0;
		_exit(leaked ? 3 : 0); // not exit(): the target's atexit cleanup is the parent's
	}
	int status = -1;
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		status = -1;
	return status;
}

static void report(const char *path, int status)
{
	ok(status == 0, "%s replayed%s", path,
	   status == 0 ? "" : WIFSIGNALED(status) ? ": it crashed" : ": it failed");
}

// Replays one batch (and frees its paths): one line per input, each from a child of its own if
// the batch failed.
static void replay(char **paths, int count)
{
	if (count == 0)
		return;
	if (run_child(paths, count) == 0) {
		for (int j = 0; j < count; j++)
			report(paths[j], 0);
	} else {
		for (int j = 0; j < count; j++)
			report(paths[j], run_child(&paths[j], 1));
	}
	for (int j = 0; j < count; j++)
		free(paths[j]);
}

// Every input of dir, in name order; returns how many there were (-1: no such directory).
static int replay_dir(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort), count = 0;
	char *batch[BATCH];
	for (int j = 0; j < n; j++) {
		if (names[j]->d_name[0] != '.') {
			if (asprintf(&batch[count % BATCH], "%s/%s", dir, names[j]->d_name) < 0)
				abort();
			if (++count % BATCH == 0)
				replay(batch, BATCH);
		}
		free(names[j]);
	}
	replay(batch, count % BATCH);
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
