// SPDX-License-Identifier: Apache-2.0
// fsprobe: file system behaviour busybox cannot show, one deterministic line per fact, so
// that its output under clearvm and under chroot can be compared byte for byte.
//   fsprobe lock FILE     POSIX and flock locks conflict between two processes
//   fsprobe xattr FILE    user.* extended attributes: set, get, list, remove
//   fsprobe xattr-other FILE  trusted.* and security.* attributes: set
//   fsprobe xattr-names FILE  every attribute name, any namespace
//   fsprobe sparse FILE   a byte written past 4 GiB, the size, the hole reads as zeros
//   fsprobe append FILE   two O_APPEND descriptors interleave without overwriting
//   fsprobe fsync FILE    fsync and fdatasync succeed on a written file
//   fsprobe statfs DIR    statfs reports a block size and a block count
//   fsprobe copy FILE     copy_file_range of a part of FILE into FILE.copy at an offset
//   fsprobe seccomp -     the process installs a seccomp filter and a refused call fails
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static int open_or_die(const char *path, int flags)
{
	int fd = open(path, flags, 0644);
	if (fd < 0) {
		printf("open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static const char *result(int r)
{
	return r == 0 ? "ok" : strerror(errno);
}

// In a child (another process, so locks conflict): what a non-blocking attempt gets.
static void try_lock(const char *path, bool posix, const char *when)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open_or_die(path, O_RDWR);
		int r;
		if (posix) {
			struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
			r = fcntl(fd, F_SETLK, &fl);
			struct flock probe = fl;
			if (r != 0 && fcntl(fd, F_GETLK, &probe) == 0)
				printf("%s: F_GETLK sees a %s lock\n", when,
				       probe.l_type == F_WRLCK ? "write" : probe.l_type == F_RDLCK ? "read" : "no");
		} else {
			r = flock(fd, LOCK_EX | LOCK_NB);
		}
		printf("%s: %s: %s\n", when, posix ? "posix write lock" : "flock",
		       r == 0 ? "granted" : (errno == EAGAIN || errno == EACCES) ? "blocked" : strerror(errno));
		exit(0);
	}
	waitpid(pid, NULL, 0);
}

// POSIX locks, then flock, each held by this process while another tries. Not both at once:
// the Linux 9p client emulates flock with POSIX locks of another owner, so one process's
// flock and fcntl locks on one file conflict there, unlike on a local file system.
static int probe_lock(const char *path)
{
	int fd = open_or_die(path, O_RDWR | O_CREAT);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	printf("holder: posix write lock: %s\n", result(fcntl(fd, F_SETLK, &fl)));
	try_lock(path, true, "while held");
	fl.l_type = F_UNLCK;
	printf("holder: posix unlock: %s\n", result(fcntl(fd, F_SETLK, &fl)));
	try_lock(path, true, "after release");
	printf("holder: flock: %s\n", result(flock(fd, LOCK_EX)));
	try_lock(path, false, "while held");
	printf("holder: flock unlock: %s\n", result(flock(fd, LOCK_UN)));
	try_lock(path, false, "after release");
	return 0;
}

static int probe_xattr(const char *path)
{
	close(open_or_die(path, O_WRONLY | O_CREAT));
	printf("set user.colour: %s\n", result(setxattr(path, "user.colour", "blue", 4, 0)));
	printf("create again: %s\n", result(setxattr(path, "user.colour", "red", 3, XATTR_CREATE)));
	printf("replace missing: %s\n", result(setxattr(path, "user.none", "x", 1, XATTR_REPLACE)));
	char buf[256];
	ssize_t n = getxattr(path, "user.colour", buf, sizeof(buf));
	printf("get user.colour: %s\n", n >= 0 ? (buf[n] = 0, buf) : strerror(errno));
	n = getxattr(path, "user.colour", NULL, 0);
	printf("size of user.colour: %zd\n", n);
	n = getxattr(path, "user.colour", buf, 2);
	printf("get into a 2-byte buffer: %s\n", n >= 0 ? "fits" : strerror(errno));
	n = getxattr(path, "user.none", buf, sizeof(buf));
	printf("get user.none: %s\n", n >= 0 ? "present" : strerror(errno));
	n = listxattr(path, buf, sizeof(buf));
	printf("list:");
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
		if (!strncmp(buf + i, "user.", 5)) // other namespaces depend on the host's security modules
			printf(" %s", buf + i);
	printf("%s\n", n < 0 ? strerror(errno) : "");
	printf("remove user.colour: %s\n", result(removexattr(path, "user.colour")));
	n = getxattr(path, "user.colour", buf, sizeof(buf));
	printf("get after remove: %s\n", n >= 0 ? "present" : strerror(errno));
	return 0;
}

// Namespaces other than user.*: the file server refuses them (on a host as root they work).
static int probe_xattr_other(const char *path)
{
	close(open_or_die(path, O_WRONLY | O_CREAT));
	printf("set trusted.clearvm: %s\n", result(setxattr(path, "trusted.clearvm", "x", 1, 0)));
	printf("set security.clearvm: %s\n", result(setxattr(path, "security.clearvm", "x", 1, 0)));
	return 0;
}

// Every attribute name the file has, in every namespace.
static int probe_xattr_names(const char *path)
{
	char buf[4096];
	ssize_t n = listxattr(path, buf, sizeof(buf));
	printf("names:");
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
		printf(" %s", buf + i);
	printf("%s\n", n < 0 ? strerror(errno) : "");
	return 0;
}

static int probe_sparse(const char *path)
{
	int fd = open_or_die(path, O_RDWR | O_CREAT | O_TRUNC);
	off_t at = 5LL << 30;
	printf("pwrite at 5 GiB: %s\n", pwrite(fd, "end", 3, at) == 3 ? "ok" : strerror(errno));
	struct stat st;
	fstat(fd, &st);
	printf("size: %lld\n", (long long)st.st_size);
	char buf[8] = {1, 1, 1, 1, 1, 1, 1, 1};
	ssize_t n = pread(fd, buf, 4, at - 1);
	printf("bytes around it: %zd %d %.3s\n", n, buf[0], buf + 1);
	n = pread(fd, buf, 8, 4LL << 30);
	printf("the hole at 4 GiB reads %zd zero bytes: %s\n", n, memcmp(buf, "\0\0\0\0\0\0\0\0", 8) ? "no" : "yes");
	printf("ftruncate to 4 GiB + 1: %s\n", result(ftruncate(fd, (4LL << 30) + 1)));
	fstat(fd, &st);
	printf("size: %lld\n", (long long)st.st_size);
	close(fd);
	return 0;
}

static int probe_append(const char *path)
{
	int a = open_or_die(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND);
	int b = open_or_die(path, O_WRONLY | O_APPEND);
	for (int i = 0; i < 3; i++) {
		if (write(a, "a", 1) != 1 || write(b, "bb", 2) != 2)
			printf("write: %s\n", strerror(errno));
	}
	close(a);
	close(b);
	char buf[32] = {0};
	int fd = open_or_die(path, O_RDONLY);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	printf("content: %s (%zd bytes)\n", buf, n);
	close(fd);
	return 0;
}

static int probe_fsync(const char *path)
{
	int fd = open_or_die(path, O_WRONLY | O_CREAT | O_TRUNC);
	printf("write: %s\n", write(fd, "data", 4) == 4 ? "ok" : strerror(errno));
	printf("fsync: %s\n", result(fsync(fd)));
	printf("fdatasync: %s\n", result(fdatasync(fd)));
	close(fd);
	return 0;
}

static int probe_copy(const char *path)
{
	static char data[100000], back[50010];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 + i / 251);
	char copy[4096];
	snprintf(copy, sizeof(copy), "%s.copy", path);
	int in = open_or_die(path, O_RDWR | O_CREAT | O_TRUNC);
	int out = open_or_die(copy, O_RDWR | O_CREAT | O_TRUNC);
	printf("write: %s\n", write(in, data, sizeof(data)) == (ssize_t)sizeof(data) ? "ok" : strerror(errno));
	loff_t off_in = 1000, off_out = 10;
	size_t done = 0;
	while (done < 50000) { // a copy may be short; ask again for the rest, as cp does
		ssize_t n = copy_file_range(in, &off_in, out, &off_out, 50000 - done, 0);
		if (n <= 0) {
			printf("copy_file_range: %s\n", n < 0 ? strerror(errno) : "nothing copied");
			return 0;
		}
		done += (size_t)n;
	}
	printf("copied %zu, offsets now %lld and %lld\n", done, (long long)off_in, (long long)off_out);
	ssize_t got = pread(out, back, sizeof(back), 0);
	bool zeros = true;
	for (int i = 0; i < 10; i++)
		zeros = zeros && back[i] == 0;
	printf("read back %zd bytes, a hole of zeros first: %s, then the part: %s\n", got,
	       zeros ? "yes" : "no", got == 50010 && !memcmp(back + 10, data + 1000, 50000) ? "same" : "differs");
	close(in);
	close(out);
	return 0;
}

static int probe_statfs(const char *path)
{
	struct statfs sf;
	if (statfs(path, &sf) < 0) {
		printf("statfs: %s\n", strerror(errno));
		return 0;
	}
	printf("statfs: block size %s, blocks %s, free <= blocks %s\n", sf.f_bsize > 0 ? "ok" : "zero",
	       sf.f_blocks > 0 ? "ok" : "zero", sf.f_bfree <= sf.f_blocks ? "ok" : "no");
	return 0;
}

// Holds open as many of DIR/f0 .. DIR/f999 as it can for 3 s (many of these together exhaust
// the file server's fids), then says how many.
static int probe_fids(const char *dir)
{
	int n = 0;
	for (int i = 0; i < 1000; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		if (open(path, O_RDONLY) >= 0)
			n++;
	}
	sleep(3);
	printf("opened %d\n", n);
	return 0;
}

// A workload sandboxing itself, as under docker: its seccomp mode, a filter that refuses
// getppid with EPERM, the refused call, and the mode again.
static int probe_seccomp(const char *unused)
{
	(void)unused;
	printf("mode %d\n", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		printf("installing a filter: %s\n", strerror(errno));
		return 1;
	}
	printf("filter installed\n");
	long r = syscall(SYS_getppid);
	printf("getppid: %s\n", r < 0 ? strerror(errno) : "allowed");
	printf("mode %d\n", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(const char *);
	} probes[] = {{"lock", probe_lock},     {"xattr", probe_xattr}, {"sparse", probe_sparse},
		      {"xattr-other", probe_xattr_other}, {"xattr-names", probe_xattr_names},
		      {"append", probe_append}, {"fsync", probe_fsync}, {"statfs", probe_statfs}, {"copy", probe_copy},
		      {"fids", probe_fids}, {"seccomp", probe_seccomp}};
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; argc == 3 && i < sizeof(probes) / sizeof(probes[0]); i++)
		if (!strcmp(argv[1], probes[i].name))
			return probes[i].fn(argv[2]);
	fprintf(stderr, "usage: fsprobe lock|xattr|xattr-other|xattr-names|sparse|append|fsync|statfs|copy|fids|seccomp PATH\n");
	return 2;
}
