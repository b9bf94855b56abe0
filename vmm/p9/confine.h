// SPDX-License-Identifier: Apache-2.0
// The file server's confinement kernel (confine.c): the only code that hands a name to the host
// kernel. Every name is one component checked by confine_name(), resolved beneath a directory
// fd the server holds, never through a symlink; a fid's own file is reached through its fd.
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "wire.h"

// The share, as the server holds it.
struct p9_share {
	int root_fd; // O_PATH | O_DIRECTORY of the share
	dev_t root_dev;
	ino_t root_ino;
	int proc_fd; // the process's fd directory: an O_PATH fd becomes an I/O fd without a path
	char fd_dir[32]; // its path, for the calls that take only a path (xattrs, link of an fd)
	// Run by a user other than root, the server cannot give files away: the guest's root is
	// that user, as a rootless container's root is the user who started it.
	bool map_root;
	uid_t host_uid;
	gid_t host_gid;
};

// Opens root (a directory) and fd_dir (NULL: /proc/self/fd). 0 or -errno.
int confine_open_share(struct p9_share *s, const char *root, const char *fd_dir);
void confine_close_share(struct p9_share *s);

// One path component from the guest as a C string: never empty, ".", "..", or holding '/' or
// NUL. 0 or -EINVAL.
int confine_name(struct p9_str name, char buf[NAME_MAX + 1]);
// One step of a walk from directory fd cur: ".", ".." (the root's is the root) or a name, as a
// new O_PATH fd in *next. 0 or -errno.
int confine_walk(const struct p9_share *s, int cur, struct p9_str name, int *next);
// Another O_PATH fd for fd (a fid's copy). The fd or -errno.
int confine_dup(int fd);
// Whether st is the share's root.
bool confine_is_root(const struct p9_share *s, const struct stat *st);
int confine_stat(int fd, struct stat *st);
int confine_stat_at(int dirfd, const char *name, struct stat *st);
// An I/O fd with flags for the file O_PATH fd names. The fd or -errno.
int confine_reopen(const struct p9_share *s, int fd, int flags);
ssize_t confine_readlink(int fd, char *buf, size_t size);

// Making and removing names in directory fd dirfd (name from confine_name). 0 or -errno.
// A new regular file, opened with flags; never something already there (a device node). The
// fd or -errno.
int confine_create(int dirfd, const char *name, int flags, mode_t mode);
int confine_mkdir(int dirfd, const char *name, mode_t mode);
int confine_symlink(const char *target, int dirfd, const char *name);
// Only fifos and sockets: a device node made on the host would be a real host device (-EPERM).
int confine_mknod(int dirfd, const char *name, mode_t mode);
// A hard link to the file of O_PATH fd (is_link: that file is a symlink).
int confine_link(const struct p9_share *s, int fd, bool is_link, int dirfd, const char *name);
int confine_rename(int olddir, const char *oldname, int newdir, const char *newname);
// renameat2's flags (RENAME_NOREPLACE, RENAME_EXCHANGE; never RENAME_WHITEOUT, a device node).
int confine_rename2(int olddir, const char *oldname, int newdir, const char *newname,
		    unsigned flags);
int confine_unlink(int dirfd, const char *name, int flags);
// A name just made belongs to uid:gid when the server may give files away (root); else no-op.
void confine_give(int dirfd, const char *name, uid_t uid, gid_t gid);

// Attributes of the file of O_PATH fd (never a symlink's target).
int confine_chmod(const struct p9_share *s, int fd, mode_t mode);
// uid and gid as the guest names them ((uid_t)-1: unchanged); the guest's root is the host
// user when map_root.
int confine_chown(const struct p9_share *s, int fd, uid_t uid, gid_t gid);
// A host owner as the guest sees it.
uint32_t confine_uid_to_guest(const struct p9_share *s, uid_t u);
uint32_t confine_gid_to_guest(const struct p9_share *s, gid_t g);
int confine_utimens(const struct p9_share *s, int fd, const struct timespec ts[2]);
// Extended attributes of the file of O_PATH fd, through its fd link. name "": the list of
// names. The size (with buf NULL and size 0: the size needed) or -errno.
ssize_t confine_getxattr(const struct p9_share *s, int fd, const char *name, void *buf,
			 size_t size);
// Sets name to value, or removes it (size 0 and XATTR_REPLACE in flags, as Linux asks).
int confine_setxattr(const struct p9_share *s, int fd, const char *name, const void *value,
		     size_t size, int flags);
