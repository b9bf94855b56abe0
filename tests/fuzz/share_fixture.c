// SPDX-License-Identifier: Apache-2.0
// The share the file server fuzz targets (9p, FUSE) serve: a small tree with symlinks that point
// out, beside a file that must never change, rebuilt for every input; and the checks that
// nothing an input sent reached outside it or left an fd open.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "share_fixture.h"

static char base[] = "/tmp/clearvm-fuzz-share-XXXXXX";
static char root[64], outside[80];
static bool before[4096]; // fds open before this input's server existed: not its own

// Empties a directory without long paths or deep recursion (an input can nest directories past
// PATH_MAX): files go at once, a directory that is not empty has its entries moved up to dir.
static int empty_dir(int dir)
{
	for (unsigned moved = 0;;) {
		DIR *d = fdopendir(dup(dir));
		if (!d)
			return -1;
		rewinddir(d); // the dup shares the offset the last pass left at the end
		bool any = false;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			any = true;
			if (unlinkat(dir, e->d_name, 0) == 0 || unlinkat(dir, e->d_name, AT_REMOVEDIR) == 0)
				continue;
			// A directory that is not empty (the input made it): never follow a symlink here,
			// nor chmod through one, since the input's links may name anything on the host.
			int sub = openat(dir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0 && fchmod(sub, 0700) < 0) // a guest's chmod 0 must not stop this (not root)
				return -1;
			DIR *sd = sub < 0 ? NULL : fdopendir(sub);
			struct dirent *c;
			while (sd && (c = readdir(sd))) {
				if (!strcmp(c->d_name, ".") || !strcmp(c->d_name, ".."))
					continue;
				char up[32];
				int r;
				do
					snprintf(up, sizeof(up), "~%u", moved++);
				while ((r = renameat2(sub, c->d_name, dir, up, RENAME_NOREPLACE)) < 0 && errno == EEXIST);
				if (r < 0) {
					closedir(sd);
					return -1;
				}
			}
			if (sd)
				closedir(sd);
			else
				return -1; // neither removable nor a directory to empty
		}
		closedir(d);
		if (!any)
			return 0;
	}
}

static void cleanup(void)
{
	int fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && empty_dir(fd) == 0)
		rmdir(base);
	close(fd);
}

static void setup(void)
{
	if (!mkdtemp(base))
		abort();
	atexit(cleanup);
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	if (mkdir(root, 0755) < 0)
		abort();
	FILE *f = fopen(outside, "w");
	if (!f || fputs("untouched", f) < 0 || fclose(f) || chmod(outside, 0600) < 0)
		abort();
}

// The share each input starts from, with one-letter names a mutation can hit: a directory, files,
// and symlinks that point out of the share (relative, absolute, through a magic link) or loop.
static void populate(void)
{
	char p[128], abs_outside[128];
	snprintf(abs_outside, sizeof(abs_outside), "/proc/self/root%s", outside);
	struct {
		const char *name, *link;
	} links[] = {{"u", "../outside"}, {"a", outside}, {"m", abs_outside}, {"l", "."}, {"d/p", "../.."}};
	char names[4096]; // the share's root itself stays: put back its mode, owner and xattrs
	ssize_t n = listxattr(root, names, sizeof(names));
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1)
		removexattr(root, names + i);
	if (chmod(root, 0755) < 0 || chown(root, getuid(), getgid()) < 0)
		abort();
	snprintf(p, sizeof(p), "%s/d", root);
	if (mkdir(p, 0755) < 0)
		abort();
	const char *files[] = {"f", "d/g"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, files[i]);
		FILE *f = fopen(p, "w");
		if (!f || fputs("inside", f) < 0 || fclose(f))
			abort();
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, links[i].name);
		if (symlink(links[i].link, p) < 0)
			abort();
	}
}

// Calls fn for each fd this process has open (a listing of /proc/self/fd: far cheaper than
// probing every possible number).
static void each_fd(void (*fn)(int fd))
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		abort();
	struct dirent *e;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] != '.' && fd != dirfd(d) && fd < 4096)
			fn(fd);
	}
	closedir(d);
}

static void mark_before(int fd)
{
	before[fd] = true;
}

// Every fd the server opened names the share, something in it, or our /proc/self/fd.
static void check_fd(int fd)
{
	if (before[fd])
		return;
	char link[64], target[4096];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n < 0) // gone, or a path longer than a page (only deep inside the share, nested by the input)
		return;
	target[n] = '\0';
	size_t rl = strlen(root);
	bool inside = !strncmp(target, root, rl) && (target[rl] == '\0' || target[rl] == '/');
	char proc_fd[64]; // this process's, which may be a replay's child of the one that set up
	snprintf(proc_fd, sizeof(proc_fd), "/proc/%d/fd", getpid());
	if (!inside && strcmp(target, proc_fd)) {
		fprintf(stderr, "fd %d names %s, outside the share %s\n", fd, target, root);
		abort();
	}
}

// Once the server is freed, every fd it opened is closed: none may leak, whatever the input.
static void check_released(int fd)
{
	if (!before[fd]) {
		char link[64], target[4096] = "?";
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		target[n < 0 ? 1 : n] = '\0';
		fprintf(stderr, "fd %d (%s) is still open after the server was freed\n", fd, target);
		abort();
	}
}

// ... and the file beside the share keeps its content and its mode (also through the reset
// between inputs, which must never act through the input's symlinks).
static void check_confined(void)
{
	each_fd(check_fd);
	char buf[16] = {0};
	struct stat st;
	FILE *f = fopen(outside, "r");
	if (!f || !fgets(buf, sizeof(buf), f) || strcmp(buf, "untouched") || fstat(fileno(f), &st) < 0 ||
	    (st.st_mode & 07777) != 0600) {
		fprintf(stderr, "the file beside the share changed: %s\n", buf);
		abort();
	}
	fclose(f);
}

const char *fixture_begin(void)
{
	static bool ready;
	if (!ready) {
		setup();
		populate();
		ready = true;
	}
	memset(before, 0, sizeof(before)); // libFuzzer and the sanitizers open their own as they go
	each_fd(mark_before);
	return root;
}

void fixture_check(void)
{
	check_confined();
}

void fixture_end(void)
{
	each_fd(check_released);
	// The next input starts from the same share. Done here, so that an input that leaves
	// something this cannot undo is the one reported.
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || empty_dir(fd) < 0) {
		perror("emptying the share");
		abort();
	}
	close(fd);
	populate();
	check_confined();
}
