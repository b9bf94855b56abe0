// SPDX-License-Identifier: Apache-2.0
// The file server's jail: a private mount namespace for one thread whose root is a tmpfs with
// the share (or a directory holding the one file shared) and the process's fd directory, and
// nothing else of the host. A path bug in the
// server can then reach no host file outside the share: `..` stops at the tmpfs, which is
// read-only and holds only those two mount points.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../guest-init/abi.h"
#include "jail.h"
#include "../util.h"

// Where the tmpfs is assembled before it becomes the root: any directory will do that is not
// /proc or above it (the share and the fd directory are bound from /proc/self/fd paths, which
// must stay visible). The mount happens in the thread's own namespace: the host never sees it.
static const char *const staging[] = {"/tmp", "/mnt", "/run", "/dev"};

static int mount_at(const char *src, const char *dst, const char *type, unsigned long flags,
		    const char *data)
{
	return mount(src, dst, type, flags, data) < 0 ? -errno : 0;
}

// Binds what fd names (through its /proc/self/fd link) at dst, with the mounts beneath it
// unless nonrecursive, then applies flags to the bind.
static int bind_fd(int fd, const char *dst, bool nonrecursive, unsigned long flags)
{
	char src[32];
	snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
	int r = mount_at(src, dst, NULL, MS_BIND | (nonrecursive ? 0 : MS_REC), NULL);
	return r ?: mount_at(NULL, dst, NULL, MS_REMOUNT | MS_BIND | flags, NULL);
}

static int assemble(const char *stage, const struct jail_share *share)
{
	// Opened inside the new namespace: a bind's source must belong to it.
	_cleanup_close_ int share_fd = open(share->path, O_PATH | O_CLOEXEC | (share->file ? 0 : O_DIRECTORY));
	_cleanup_close_ int fds_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (share_fd < 0 || fds_fd < 0 || fstat(share_fd, &st) < 0)
		return -errno;
	if (share->file && !S_ISREG(st.st_mode))
		return -EINVAL;
	char dst[64];
	int r = mount_at("clearvm-jail", stage, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			 "size=16k,nr_inodes=8,mode=0555");
	if (r < 0)
		return r;
	snprintf(dst, sizeof(dst), "%s%s", stage, JAIL_SHARE);
	if (mkdir(dst, 0555) < 0)
		return -errno;
	if (share->file) { // the file is bound over an empty one of the same name on the tmpfs
		snprintf(dst, sizeof(dst), "%s%s/%s", stage, JAIL_SHARE, ABI_FILE_VOLUME_ENTRY);
		_cleanup_close_ int stub = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
		if (stub < 0)
			return -errno;
	}
	// A pod's share is the host's directory of bind mounts: the guest writes in those (each
	// with its own flags), never in the directory itself.
	unsigned long share_flags = MS_NOSUID | MS_NODEV | (share->readonly || share->propagate ? MS_RDONLY : 0);
	if ((r = bind_fd(share_fd, dst, share->nonrecursive, share_flags)) < 0)
		return r;
	snprintf(dst, sizeof(dst), "%s%s", stage, JAIL_FDS);
	if (mkdir(dst, 0555) < 0)
		return -errno;
	if ((r = bind_fd(fds_fd, dst, false, MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)) < 0)
		return r;
	return mount_at(NULL, stage, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			NULL);
}

// The tmpfs becomes "/" and the host's tree is detached from the namespace. Where the
// current root is not a mount (clearvm itself started in a chroot) pivot_root cannot work:
// chroot into the tmpfs instead (the thread keeps no capability to leave it).
static int make_root(const char *stage)
{
	if (chdir(stage) < 0)
		return -errno;
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH) < 0)
			return -errno;
	} else if (chroot(".") < 0) {
		return -errno;
	}
	return chdir("/") < 0 ? -errno : 0;
}

int jail_enter(const struct jail_share *share)
{
	if (unshare(CLONE_FS | CLONE_NEWNS) < 0)
		return -errno;
	// From here on a failure leaves the thread in a namespace of its own that it must not
	// serve from: the caller gives up the share. Nothing of it goes back to the host; what the
	// host mounts later reaches it only for a share that asks (the share's own bind, below,
	// then stays a slave of the host's mount).
	int r = mount_at(NULL, "/", NULL, MS_REC | (share->propagate ? MS_SLAVE : MS_PRIVATE), NULL);
	if (r < 0)
		return r;
	struct stat st;
	for (size_t i = 0; i < ARRAY_SIZE(staging); i++) {
		if (stat(staging[i], &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if ((r = assemble(staging[i], share)) < 0)
			return r;
		return make_root(staging[i]);
	}
	return -ENOENT;
}
