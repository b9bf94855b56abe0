// SPDX-License-Identifier: Apache-2.0
// The file server's confinement kernel: every *at() and path call the server makes, each with
// one checked component beneath a directory fd (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
// or *at() with AT_SYMLINK_NOFOLLOW), or on a fid's own file through its fd. Nothing else in
// vmm/p9/ names a file to the host kernel.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../util.h"
#include "confine.h"

int confine_open_share(struct p9_share *s, const char *root, const char *fd_dir)
{
	fd_dir = fd_dir ? fd_dir : "/proc/self/fd";
	if (strlen(fd_dir) >= sizeof(s->fd_dir))
		return -ENAMETOOLONG;
	_cleanup_close_ int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return -errno;
	_cleanup_close_ int proc_fd = open(fd_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd < 0)
		return -errno;
	struct stat st;
	if (fstat(root_fd, &st) < 0)
		return -errno;
	s->root_fd = steal_fd(&root_fd);
	s->proc_fd = steal_fd(&proc_fd);
	snprintf(s->fd_dir, sizeof(s->fd_dir), "%s", fd_dir);
	s->root_dev = st.st_dev;
	s->root_ino = st.st_ino;
	s->host_uid = geteuid();
	s->host_gid = getegid();
	s->map_root = s->host_uid != 0;
	return 0;
}

void confine_close_share(struct p9_share *s)
{
	close(s->root_fd);
	close(s->proc_fd);
	s->root_fd = s->proc_fd = -1;
}

int confine_name(struct p9_str s, char buf[NAME_MAX + 1])
{
	if (s.len == 0 || s.len > NAME_MAX || memchr(s.s, '/', s.len) || memchr(s.s, '\0', s.len))
		return -EINVAL;
	memcpy(buf, s.s, s.len);
	buf[s.len] = '\0';
	if (!strcmp(buf, ".") || !strcmp(buf, ".."))
		return -EINVAL;
	return 0;
}

// Opens one component beneath dirfd, as O_PATH, never following a symlink or leaving dirfd.
static int open_child(int dirfd, const char *name)
{
	struct open_how how = {
	    .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

int confine_dup(int fd)
{
	int r = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	return r < 0 ? -errno : r;
}

bool confine_is_root(const struct p9_share *s, const struct stat *st)
{
	return st->st_dev == s->root_dev && st->st_ino == s->root_ino;
}

int confine_stat(int fd, struct stat *st)
{
	return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

int confine_stat_at(int dirfd, const char *name, struct stat *st)
{
	return fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

int confine_walk(const struct p9_share *s, int cur, struct p9_str name, int *next)
{
	struct stat st;
	int r;
	if (name.len == 2 && !memcmp(name.s, "..", 2)) {
		if ((r = confine_stat(cur, &st)) < 0)
			return r;
		if (confine_is_root(s, &st)) // ".." of the root is the root
			r = confine_dup(cur);
		else if ((r = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			r = -errno;
	} else if (name.len == 1 && name.s[0] == '.') {
		r = confine_dup(cur);
	} else {
		char buf[NAME_MAX + 1];
		if ((r = confine_name(name, buf)) < 0)
			return r;
		r = open_child(cur, buf);
	}
	if (r < 0)
		return r;
	*next = r;
	return 0;
}

int confine_reopen(const struct p9_share *s, int fd, int flags)
{
	char name[16];
	snprintf(name, sizeof(name), "%d", fd);
	int r = openat(s->proc_fd, name, flags | O_CLOEXEC | O_NOCTTY);
	return r < 0 ? -errno : r;
}

ssize_t confine_readlink(int fd, char *buf, size_t size)
{
	ssize_t n = readlinkat(fd, "", buf, size);
	return n < 0 ? -errno : n;
}

int confine_create(int dirfd, const char *name, int flags, mode_t mode)
{
	int fd =
	    openat(dirfd, name, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
	return fd < 0 ? -errno : fd;
}

int confine_mkdir(int dirfd, const char *name, mode_t mode)
{
	return mkdirat(dirfd, name, mode) < 0 ? -errno : 0;
}

int confine_symlink(const char *target, int dirfd, const char *name)
{
	// The link is stored as text; the host never follows it on the guest's behalf.
	return symlinkat(target, dirfd, name) < 0 ? -errno : 0;
}

int confine_mknod(int dirfd, const char *name, mode_t mode)
{
	if (!S_ISFIFO(mode) && !S_ISSOCK(mode))
		return -EPERM;
	return mknodat(dirfd, name, mode, 0) < 0 ? -errno : 0;
}

int confine_link(const struct p9_share *s, int fd, bool is_link, int dirfd, const char *name)
{
	if (linkat(fd, "", dirfd, name, AT_EMPTY_PATH) == 0)
		return 0;
	if ((errno != ENOENT && errno != EPERM) || is_link)
		return -errno;
	// Without CAP_DAC_READ_SEARCH: link the file the O_PATH fd names, via our fd directory.
	char path[48];
	snprintf(path, sizeof(path), "%s/%d", s->fd_dir, fd);
	return linkat(AT_FDCWD, path, dirfd, name, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
}

int confine_rename(int olddir, const char *oldname, int newdir, const char *newname)
{
	return renameat(olddir, oldname, newdir, newname) < 0 ? -errno : 0;
}

int confine_rename2(int olddir, const char *oldname, int newdir, const char *newname,
		    unsigned flags)
{
	if (flags & RENAME_WHITEOUT)
		return -EINVAL;
	return renameat2(olddir, oldname, newdir, newname, flags) < 0 ? -errno : 0;
}

int confine_unlink(int dirfd, const char *name, int flags)
{
	return unlinkat(dirfd, name, flags & AT_REMOVEDIR) < 0 ? -errno : 0;
}

void confine_give(int dirfd, const char *name, uid_t uid, gid_t gid)
{
	if (geteuid() == 0 && fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		log_debug("9p: chown %s: %s", name, strerror(errno));
}

int confine_chmod(const struct p9_share *s, int fd, mode_t mode)
{
	char name[16];
	snprintf(name, sizeof(name), "%d", fd);
	return fchmodat(s->proc_fd, name, mode, 0) < 0 ? -errno : 0;
}

int confine_chown(const struct p9_share *s, int fd, uid_t uid, gid_t gid)
{
	if (s->map_root && uid == 0)
		uid = s->host_uid;
	if (s->map_root && gid == 0)
		gid = s->host_gid;
	return fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0 ? -errno : 0;
}

uint32_t confine_uid_to_guest(const struct p9_share *s, uid_t u)
{
	return s->map_root && u == s->host_uid ? 0 : u;
}

uint32_t confine_gid_to_guest(const struct p9_share *s, gid_t g)
{
	return s->map_root && g == s->host_gid ? 0 : g;
}

int confine_utimens(const struct p9_share *s, int fd, const struct timespec ts[2])
{
	char name[16];
	snprintf(name, sizeof(name), "%d", fd);
	return utimensat(s->proc_fd, name, ts, 0) < 0 ? -errno : 0;
}

// Extended attributes go through the fid's fd link, which names exactly the fid's file and is
// never followed further.
static void fd_link(const struct p9_share *s, int fd, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%d", s->fd_dir, fd);
}

ssize_t confine_getxattr(const struct p9_share *s, int fd, const char *name, void *buf, size_t size)
{
	char path[48];
	fd_link(s, fd, path, sizeof(path));
	ssize_t n = name[0] ? getxattr(path, name, buf, size) : listxattr(path, buf, size);
	return n < 0 ? -errno : n;
}

int confine_setxattr(const struct p9_share *s, int fd, const char *name, const void *value,
		     size_t size, int flags)
{
	char path[48];
	fd_link(s, fd, path, sizeof(path));
	int r = size == 0 && (flags & XATTR_REPLACE) ? removexattr(path, name)
						     : setxattr(path, name, value, size, flags);
	return r < 0 ? -errno : 0;
}
