// SPDX-License-Identifier: Apache-2.0
// The container's file systems: 9p roots with the initramfs's /etc files bound over theirs,
// what a container expects mounted (proc, sys, dev, pts, shm, tmp, run), volumes (directory
// and single-file), and a pod's app roots under /apps.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"

// Mounts fstype at target inside the new root when the rootfs has that directory; the
// rootfs is never written to make one.
static void mount_if_dir(const char *src, const char *target, const char *fstype,
			 unsigned long flags, const char *data)
{
	struct stat st;
	if (stat(target, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	if (mount(src, target, fstype, flags, data) < 0)
		say("clearvm: guest-init: mount %s on %s: %s", fstype, target, strerror(errno));
}

static const char p9_opts[] = "trans=virtio,version=9p2000.L,msize=524288,cache=mmap";

// The files of the initramfs bound over a root's /etc files of the same name, where the spec
// gave them (the hostname always).
const char *const etc_files[3] = {"hostname", "resolv.conf", "hosts"};
bool etc_given[3] = {true, false, false};

// A virtio-fs root reads ahead in large requests: each costs a round trip to the VMM, and the
// first run of a program reads all of it (python3's 8 MB in 128 KiB requests by default). Run
// from the initramfs (before any chroot), whose /sys is mounted for this only: the container
// gets its own.
static void set_readahead(const char *dir)
{
	struct stat st;
	char path[64];
	if (stat(dir, &st) < 0 || mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return;
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", major(st.st_dev), minor(st.st_dev));
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, ABI_FS_READAHEAD_KB, strlen(ABI_FS_READAHEAD_KB)) < 0)
		say("clearvm: guest-init: %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	umount("/sys");
}

// Mounts the share `tag` (9p, or virtio-fs) at dir, with the initramfs's /hostname (and /resolv.conf and
// /hosts when given) bound over its regular files in /etc of those names, as docker shows
// them; the rootfs's own files are never written.
void mount_share_root(const char *tag, bool readonly, bool virtiofs, const char *dir)
{
	char path[300], src[32];
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		fail("mkdir for a root");
	if (virtiofs ? mount(tag, dir, "virtiofs", readonly ? MS_RDONLY : 0, NULL) < 0
		     : mount(tag, dir, "9p", readonly ? MS_RDONLY : 0, p9_opts) < 0)
		fail(virtiofs ? "mounting the container's root over virtio-fs"
			      : "mounting the container's root over 9p");
	if (virtiofs)
		set_readahead(dir);
	for (size_t i = 0; i < ARRAY_LEN(etc_files); i++) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/etc/%s", dir, etc_files[i]);
		snprintf(src, sizeof(src), "/%s", etc_files[i]);
		if (etc_given[i] && lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    mount(src, path, NULL, MS_BIND | MS_RDONLY, NULL) < 0)
			say("clearvm: guest-init: /etc/%s: %s", etc_files[i], strerror(errno));
	}
}

// A pty instance of its own at dir, which /dev/ptmx opens.
void mount_devpts(const char *dir)
{
	mkdir(dir, 0755);
	mount_if_dir("devpts", dir, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620");
}

// What a container expects to find mounted, from inside its root (after chroot).
void mount_basics(void)
{
	unsigned long nodev = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	mount_if_dir("proc", "/proc", "proc", nodev, NULL);
	mount_if_dir("sysfs", "/sys", "sysfs", nodev, NULL);
	mount_if_dir("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	mount_devpts("/dev/pts");
	mkdir("/dev/shm", 01777);
	mount_if_dir("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_if_dir("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_if_dir("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	symlink("/proc/self/fd", "/dev/fd");
	symlink("/proc/self/fd/0", "/dev/stdin");
	symlink("/proc/self/fd/1", "/dev/stdout");
	symlink("/proc/self/fd/2", "/dev/stderr");
}

// A file in the initramfs that is bound over a root's own (/hostname, /resolv.conf, /hosts).
void write_initramfs_file(const char *path, const char *text, const char *end)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) < 0 || write(fd, end, strlen(end)) < 0)
		fail(path);
	close(fd);
}

// A single container: its root becomes PID 1's root too.
void mount_root(const struct launch_workload *w)
{
	mount_share_root(w->root_tag, w->root_readonly, w->root_virtiofs, "/newroot");
	if (chdir("/newroot") < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)
		fail("switching to the container's root");
	mount_basics();
}

// mkdir -p inside the (new) root: a volume's mount point, made when the rootfs lacks it.
static int mkdir_p(const char *path)
{
	char buf[4096];
	if (strlen(path) >= sizeof(buf))
		return -1;
	strcpy(buf, path);
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -1;
			*p = c;
			if (!c)
				return 0;
		}
	}
}

// A volume's share at dir: over virtio-fs or 9p, nothing cached in the guest either way (the
// VMM's virtio-fs server gives a volume no cache time).
static int mount_volume(const struct launch_volume *v, const char *dir)
{
	unsigned long flags = v->readonly ? MS_RDONLY : 0;
	return v->virtiofs ? mount(v->tag, dir, "virtiofs", flags, NULL) : mount(v->tag, dir, "9p", flags, p9_opts);
}

int pod_fd = -1;

// The pod share at ABI_POD_DIR in the initramfs, where the container's root, mounted over it
// next, hides it from the container; PID 1 and its enter helpers reach it through pod_fd.
static void mount_pod(const struct launch_volume *v)
{
	if ((mkdir("/clearvm", 0755) < 0 && errno != EEXIST) || (mkdir(ABI_POD_DIR, 0755) < 0 && errno != EEXIST) ||
	    mount_volume(v, ABI_POD_DIR) < 0 ||
	    (pod_fd = open(ABI_POD_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		say("clearvm: guest-init: the pod's share: %s", strerror(errno));
		report(ABI_STATUS_INIT_FAILED);
	}
}

// A workload's file volumes, before it enters its root: each share is mounted in the
// initramfs and its one file cloned into a detached mount, trees[i], to be moved onto the
// target from inside the root (-1 for directory volumes). The pod share is mounted here too.
void open_file_volumes(const struct launch_workload *w, int *trees)
{
	for (size_t i = 0; i < w->nvolumes; i++) {
		const struct launch_volume *v = &w->volumes[i];
		char dir[96], path[128];
		trees[i] = -1;
		if (v->pod)
			mount_pod(v);
		if (!v->file)
			continue;
		snprintf(dir, sizeof(dir), "/clearvm/%s", v->tag);
		snprintf(path, sizeof(path), "%s/" ABI_FILE_VOLUME_ENTRY, dir);
		if ((mkdir("/clearvm", 0755) < 0 && errno != EEXIST) || (mkdir(dir, 0755) < 0 && errno != EEXIST) ||
		    mount_volume(v, dir) < 0 ||
		    (trees[i] = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)) < 0) {
			say("clearvm: guest-init: volume at %s: %s", v->target, strerror(errno));
			report(ABI_STATUS_INIT_FAILED);
		}
	}
}

// A file volume's mount point: its directory made and an empty file there if the root lacks
// one, as for a directory volume's.
static int make_file_target(const char *target)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", target);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir) < 0)
			return -1;
	}
	int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

// Volumes, mounted from inside their root: those with a tree (from open_file_volumes, or a
// pod container's) moved onto their target, the others' shares mounted there. 0, or -1 (said).
int mount_volumes(const struct launch_volume *vols, size_t n, const int *trees)
{
	for (size_t i = 0; i < n; i++) {
		const struct launch_volume *v = &vols[i];
		if (v->pod)
			continue;
		int r = trees[i] < 0 ? mkdir_p(v->target) ?: mount_volume(v, v->target)
				     : (v->file ? make_file_target(v->target) : mkdir_p(v->target))
					   ?: move_mount(trees[i], "", AT_FDCWD, v->target, MOVE_MOUNT_F_EMPTY_PATH);
		if (r < 0) {
			say("clearvm: guest-init: volume at %s: %s", v->target, strerror(errno));
			return -1;
		}
	}
	return 0;
}

// A pod's later container `name` (ABI_ENTER_CONTAINER), in the pod share: the host has bound
// its root at NAME and its volumes at .NAME/N. Its root is bound on itself (so that its world
// comes down in one umount), then a child chrooted there mounts the basics and moves each
// volume onto its target, as for a pod's app. All of it in PID 1's namespace, beneath the
// share, which the other containers do not see. 0, or -1 (said).
int container_up(const char *name, const struct launch_volume *vols, size_t n)
{
	int trees[LAUNCH_MAX_VOLUMES], r = 0;
	size_t opened = 0;
	char path[256];
	if (fchdir(pod_fd) < 0 || mount(name, name, NULL, MS_BIND | MS_REC, NULL) < 0) {
		say("clearvm: guest-init: container %s: its root: %s", name, strerror(errno));
		return -1;
	}
	for (; opened < n && r == 0; opened++) {
		snprintf(path, sizeof(path), ".%s/%zu", name, opened);
		if ((trees[opened] = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE)) < 0)
			r = -1, say("clearvm: guest-init: container %s: volume at %s: %s", name, vols[opened].target,
				    strerror(errno));
	}
	pid_t pid = r < 0 ? 0 : fork();
	if (pid == 0 && r == 0) {
		if (chroot(name) < 0 || chdir("/") < 0) {
			say("clearvm: guest-init: container %s: entering its root: %s", name, strerror(errno));
			_exit(1);
		}
		mount_basics();
		_exit(mount_volumes(vols, n, trees) < 0);
	}
	int ws;
	if (r == 0 && (pid < 0 || waitpid(pid, &ws, 0) < 0 || !WIFEXITED(ws) || WEXITSTATUS(ws)))
		r = -1; // the child said why
	for (size_t i = 0; i < opened; i++)
		if (trees[i] >= 0)
			close(trees[i]);
	if (r < 0)
		container_down(name);
	return r;
}

void container_down(const char *name)
{
	if (fchdir(pod_fd) < 0 || umount2(name, MNT_DETACH) < 0)
		say("clearvm: guest-init: container %s: its mounts: %s", name, strerror(errno));
}

// A pod: each app's root at /apps/N, with the basics and its volumes mounted from inside it
// (a child chrooted there, so its symlinks resolve as the app will see them).
void mount_apps(const struct launch_spec *ls, struct workload *ws)
{
	mkdir("/apps", 0755);
	for (unsigned i = 0; i < ls->napps; i++) {
		const struct launch_workload *lw = &ls->apps[i];
		struct workload *w = &ws[i];
		snprintf(w->root, sizeof(w->root), "/apps/%u", i);
		mount_share_root(lw->root_tag, lw->root_readonly, lw->root_virtiofs, w->root);
		int trees[LAUNCH_MAX_VOLUMES];
		open_file_volumes(lw, trees);
		pid_t pid = fork();
		if (pid < 0)
			fail("fork");
		if (pid == 0) {
			if (chroot(w->root) < 0 || chdir("/") < 0)
				fail("entering an app's root");
			mount_basics();
			_exit(mount_volumes(lw->volumes, lw->nvolumes, trees) < 0);
		}
		for (size_t v = 0; v < lw->nvolumes; v++)
			if (trees[v] >= 0)
				close(trees[v]);
		int wstatus;
		if (waitpid(pid, &wstatus, 0) < 0 || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus))
			report(ABI_STATUS_INIT_FAILED); // the child said why
		load_workload(lw, w);
	}
}
