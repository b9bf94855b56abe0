// SPDX-License-Identifier: Apache-2.0
// The file server's jail: a thread inside it reaches its share and the fd directory and no
// other host file, even by the plain path calls a server bug would make; the share is never a
// source of devices; a read-only share cannot be written; the rest of the process and the host
// keep their mounts. Needs root (CAP_SYS_ADMIN), as jailing does.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <sys/mount.h>

#include "../harness/tap.h"
#include "../../guest-init/abi.h"
#include "../../vmm/sandbox/jail.h"
#include "../../vmm/p9/server.h"

static char top[] = "/tmp/clearvm-jail.XXXXXX";
static char share[64], outside[64], file[64];

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = 0, c;
	while (f && (c = fgetc(f)) != EOF)
		n += c == '\n';
	if (f)
		fclose(f);
	return n;
}

// The entries of a directory, . and .. and hidden ones aside (-1: cannot be read).
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return d ? n : -1;
}

static int open_err(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return -errno;
}

static void *in_jail(void *arg)
{
	(void)arg;
	is(jail_enter(&(struct jail_share){.path = share}), 0, "a thread enters the jail of its share");
	char buf[16] = {0};
	int fd = open(JAIL_SHARE "/inside", O_RDONLY);
	ok(fd >= 0 && read(fd, buf, sizeof(buf)) == 7 && !memcmp(buf, "inside\n", 7),
	   "the share's file is read through " JAIL_SHARE);
	if (fd >= 0)
		close(fd);
	is(open_err(outside, O_RDONLY), -ENOENT, "the host file beside the share: not there (%s)", outside);
	is(open_err(JAIL_SHARE "/../outside", O_RDONLY), -ENOENT, ".. out of the share: not there");
	is(open_err("/etc/passwd", O_RDONLY), -ENOENT, "any other host path: not there");
	is(open_err("/proc/self/root/etc/passwd", O_RDONLY), -ENOENT, "no /proc to jump out through");
	is(count_entries("/"), 2, "the jail's root holds the share and the fd directory only");
	is(mkdir("/new", 0755) < 0 ? -errno : 0, -EROFS, "the jail's root cannot be written");
	is(open_err(JAIL_SHARE "/null", O_RDWR), -EACCES, "a device node in the share cannot be opened");
	struct p9_server *srv = NULL;
	is(p9_server_new(JAIL_SHARE, JAIL_FDS, false, &srv), 0, "the file server starts inside it");
	p9_server_free(srv);
	is(open_err(JAIL_SHARE "/written", O_WRONLY | O_CREAT), 0, "a writable share is written");
	is(open_err(JAIL_SHARE "/sub/beneath", O_RDONLY), 0, "a mount beneath the share is shared with it");
	return NULL;
}

static void *in_nonrecursive_jail(void *arg)
{
	(void)arg;
	is(jail_enter(&(struct jail_share){.path = share, .nonrecursive = true}), 0,
	   "a thread enters a non-recursive jail");
	is(open_err(JAIL_SHARE "/inside", O_RDONLY), 0, "its share is there");
	is(open_err(JAIL_SHARE "/sub/beneath", O_RDONLY), -ENOENT, "but not the mount beneath it");
	return NULL;
}

static void *in_file_jail(void *arg)
{
	(void)arg;
	is(jail_enter(&(struct jail_share){.path = file, .file = true}), 0, "a thread enters the jail of one file");
	char buf[16] = {0};
	int fd = open(JAIL_SHARE "/" ABI_FILE_VOLUME_ENTRY, O_RDWR);
	ok(fd >= 0 && read(fd, buf, sizeof(buf)) == 6 && !memcmp(buf, "a-file", 6) && write(fd, "+", 1) == 1,
	   "the file is read and written as " JAIL_SHARE "/" ABI_FILE_VOLUME_ENTRY);
	if (fd >= 0)
		close(fd);
	is(count_entries(JAIL_SHARE), 1, "the share holds that file only");
	is(open_err(JAIL_SHARE "/new", O_WRONLY | O_CREAT), -EROFS, "nothing can be made beside it");
	is(open_err(outside, O_RDONLY), -ENOENT, "and the rest of the host is not there");
	return NULL;
}

static void *in_file_jail_of_a_dir(void *arg)
{
	(void)arg;
	is(jail_enter(&(struct jail_share){.path = share, .file = true}), -EINVAL,
	   "a file jail of a directory is refused");
	return NULL;
}

static void *in_readonly_jail(void *arg)
{
	(void)arg;
	is(jail_enter(&(struct jail_share){.path = share, .readonly = true}), 0, "a thread enters a read-only jail");
	is(open_err(JAIL_SHARE "/new", O_WRONLY | O_CREAT), -EROFS, "its share cannot be written");
	return NULL;
}

// A pod's share (propagate) sees what the host mounts beneath it after the jail was made; any
// other share does not. Each thread enters, waits for the host's mount, then looks.
static char pod[64];
static pthread_barrier_t entered, mounted;

static void *in_pod_jail(void *arg)
{
	bool propagate = arg != NULL;
	is(jail_enter(&(struct jail_share){.path = pod, .propagate = propagate}), 0, "a thread enters a %s jail",
	   propagate ? "propagating" : "private");
	pthread_barrier_wait(&entered);
	pthread_barrier_wait(&mounted);
	is(open_err(JAIL_SHARE "/late/marker", O_RDONLY), propagate ? 0 : -ENOENT,
	   propagate ? "a host mount made beneath its share later is seen in it"
		     : "and a private one does not see it");
	if (propagate) {
		is(open_err(JAIL_SHARE "/late/written", O_WRONLY | O_CREAT), 0, "written, as that mount allows");
		is(open_err(JAIL_SHARE "/new", O_WRONLY | O_CREAT), -EROFS, "but the share itself is read-only");
	}
	return NULL;
}

static void run_pod_jails(void)
{
	snprintf(pod, sizeof(pod), "%s/pod", top);
	char late[96], marker[128];
	snprintf(late, sizeof(late), "%s/late", pod);
	mkdir(pod, 0755);
	mkdir(late, 0755);
	ok(mount(pod, pod, NULL, MS_BIND, NULL) == 0 && mount(NULL, pod, NULL, MS_SHARED, NULL) == 0,
	   "a pod's share: a directory bound on itself, shared");
	pthread_barrier_init(&entered, NULL, 3);
	pthread_barrier_init(&mounted, NULL, 3);
	pthread_t t[2];
	pthread_create(&t[0], NULL, in_pod_jail, pod);
	pthread_create(&t[1], NULL, in_pod_jail, NULL);
	pthread_barrier_wait(&entered);
	ok(mount("late", late, "tmpfs", 0, "size=16k") == 0, "the host mounts beneath it");
	snprintf(marker, sizeof(marker), "%s/marker", late);
	close(open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	pthread_barrier_wait(&mounted);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	umount2(pod, MNT_DETACH);
}

static void run(void *(*fn)(void *))
{
	pthread_t t;
	pthread_create(&t, NULL, fn, NULL);
	pthread_join(t, NULL);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("1..0 # SKIP jailing needs root\n");
		return 0;
	}
	if (!mkdtemp(top))
		return 1;
	snprintf(share, sizeof(share), "%s/share", top);
	snprintf(outside, sizeof(outside), "%s/outside", top);
	mkdir(share, 0755);
	FILE *f = fopen(outside, "w");
	fputs("host-only\n", f);
	fclose(f);
	char path[96];
	snprintf(path, sizeof(path), "%s/inside", share);
	f = fopen(path, "w");
	fputs("inside\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/null", share);
	ok(mknod(path, S_IFCHR | 0666, makedev(1, 3)) == 0, "a device node in the share (made on the host)");
	snprintf(file, sizeof(file), "%s/one-file", top);
	f = fopen(file, "w");
	fputs("a-file", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/sub", share);
	mkdir(path, 0755);
	ok(mount("beneath", path, "tmpfs", 0, "size=16k") == 0, "a mount beneath the share");
	snprintf(path, sizeof(path), "%s/sub/beneath", share);
	close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));

	int mounts = count_lines("/proc/self/mountinfo");
	run(in_jail);
	run(in_readonly_jail);
	run(in_nonrecursive_jail);
	run(in_file_jail);
	run(in_file_jail_of_a_dir);
	is(count_lines("/proc/self/mountinfo"), mounts, "the process and the host keep their mounts");
	run_pod_jails();
	is(open_err(outside, O_RDONLY), 0, "the other threads still see the host");
	snprintf(path, sizeof(path), "%s/written", share);
	is(open_err(path, O_RDONLY), 0, "what the jailed thread wrote is in the share on the host");
	char buf[16] = {0};
	f = fopen(file, "r");
	ok(f && fread(buf, 1, sizeof(buf), f) == 7 && !strcmp(buf, "a-file+"), "and what it wrote to the file");
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "%s/sub", share);
	umount(path);

	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
