// SPDX-License-Identifier: Apache-2.0
// FUSE operations on names and attributes: lookup, getattr, setattr, readlink, statfs, and
// making, linking, renaming and removing names. The dispatcher (server.c) has found each
// request's node and refused changes to a read-only share.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "../util.h"
#include "ops.h"

int fuse_op_lookup(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	char name[NAME_MAX + 1];
	int err = fuse_take_name(r, name);
	return err < 0 ? err : fuse_reply_entry(srv, n, name, r);
}

static int reply_attr(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	struct stat st;
	int err = confine_stat(n->fd, &st);
	if (err < 0)
		return err;
	struct fuse_attr_out o = {0};
	fuse_timeout(srv, &o.attr_valid, &o.attr_valid_nsec);
	fuse_fill_attr(srv, &st, &o.attr);
	return fuse_put(r, &o, sizeof(o));
}

int fuse_op_getattr(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	return reply_attr(srv, n, r);
}

// A new size for a regular file: through the guest's open handle when it can write, else a
// write fd of its own.
static int truncate_node(struct fuse_server *srv, struct fuse_node *n, const struct fuse_setattr_in *in)
{
	if (!S_ISREG(n->type))
		return -EINVAL;
	if (in->size > INT64_MAX)
		return -EFBIG;
	int fd = (in->valid & FATTR_FH) ? fuse_handle_fd(srv, in->fh, false) : -1;
	_cleanup_close_ int tmp = -1;
	if (fd < 0 || (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY) {
		if ((tmp = confine_reopen(&srv->share, n->fd, O_WRONLY)) < 0)
			return tmp;
		fd = tmp;
	}
	return ftruncate(fd, (off_t)in->size) < 0 ? -errno : 0;
}

int fuse_op_setattr(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	struct fuse_setattr_in in;
	int err = fuse_take(r, &in, sizeof(in));
	if (err < 0)
		return err;
	bool link = S_ISLNK(n->type);
	if ((in.valid & FATTR_MODE) && !link &&
	    (err = confine_chmod(&srv->share, n->fd, in.mode & 07777)) < 0)
		return err;
	if (in.valid & (FATTR_UID | FATTR_GID)) {
		uid_t u = (in.valid & FATTR_UID) ? in.uid : (uid_t)-1;
		gid_t g = (in.valid & FATTR_GID) ? in.gid : (gid_t)-1;
		if ((err = confine_chown(&srv->share, n->fd, u, g)) < 0)
			return err;
	}
	if ((in.valid & FATTR_SIZE) && (err = truncate_node(srv, n, &in)) < 0)
		return err;
	if ((in.valid & (FATTR_ATIME | FATTR_MTIME)) && !link) {
		struct timespec ts[2] = {{(time_t)in.atime, in.atimensec}, {(time_t)in.mtime, in.mtimensec}};
		if (!(in.valid & FATTR_ATIME))
			ts[0].tv_nsec = UTIME_OMIT;
		else if (in.valid & FATTR_ATIME_NOW)
			ts[0].tv_nsec = UTIME_NOW;
		if (!(in.valid & FATTR_MTIME))
			ts[1].tv_nsec = UTIME_OMIT;
		else if (in.valid & FATTR_MTIME_NOW)
			ts[1].tv_nsec = UTIME_NOW;
		if ((err = confine_utimens(&srv->share, n->fd, ts)) < 0)
			return err;
	}
	return reply_attr(srv, n, r);
}

int fuse_op_readlink(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	(void)srv;
	char buf[PATH_MAX];
	ssize_t len = confine_readlink(n->fd, buf, sizeof(buf));
	return len < 0 ? (int)len : fuse_put(r, buf, (size_t)len);
}

// A name just made in directory d: given to the caller, and its entry the reply.
static int made(struct fuse_server *srv, struct fuse_node *d, const char *name, struct fuse_req *r)
{
	fuse_give(d, name, r);
	return fuse_reply_entry(srv, d, name, r);
}

int fuse_op_symlink(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	char name[NAME_MAX + 1];
	int err = fuse_take_name(r, name);
	const char *target = err < 0 ? NULL : fuse_take_str(r);
	if (!target)
		return -EINVAL;
	if (!target[0] || strlen(target) >= PATH_MAX)
		return -ENAMETOOLONG;
	return (err = confine_symlink(target, n->fd, name)) < 0 ? err : made(srv, n, name, r);
}

int fuse_op_mknod(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	struct fuse_mknod_in in;
	char name[NAME_MAX + 1];
	int err = fuse_take(r, &in, sizeof(in));
	if (err < 0 || (err = fuse_take_name(r, name)) < 0)
		return err;
	if (S_ISREG(in.mode)) {
		int fd = confine_create(n->fd, name, O_RDONLY, in.mode & 07777);
		if (fd < 0)
			return fd;
		close(fd);
	} else if ((err = confine_mknod(n->fd, name, in.mode & (S_IFMT | 07777))) < 0) {
		return err;
	}
	return made(srv, n, name, r);
}

int fuse_op_mkdir(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	struct fuse_mkdir_in in;
	char name[NAME_MAX + 1];
	int err = fuse_take(r, &in, sizeof(in));
	if (err < 0 || (err = fuse_take_name(r, name)) < 0)
		return err;
	return (err = confine_mkdir(n->fd, name, in.mode & 07777)) < 0 ? err : made(srv, n, name, r);
}

static int remove_name(struct fuse_node *n, struct fuse_req *r, int flags)
{
	char name[NAME_MAX + 1];
	int err = fuse_take_name(r, name);
	return err < 0 ? err : confine_unlink(n->fd, name, flags);
}

int fuse_op_unlink(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	(void)srv;
	return remove_name(n, r, 0);
}

int fuse_op_rmdir(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	(void)srv;
	return remove_name(n, r, AT_REMOVEDIR);
}

static int rename_names(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r,
			uint64_t newdir, uint32_t flags)
{
	char oldname[NAME_MAX + 1], newname[NAME_MAX + 1];
	int err = fuse_take_name(r, oldname);
	if (err < 0 || (err = fuse_take_name(r, newname)) < 0)
		return err;
	struct fuse_node *d = fuse_node_get(srv, newdir);
	if (!d)
		return -ESTALE;
	if (flags & ~(uint32_t)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL; // RENAME_WHITEOUT makes a device node
	return confine_rename2(n->fd, oldname, d->fd, newname, flags);
}

int fuse_op_rename(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	struct fuse_rename_in in;
	int err = fuse_take(r, &in, sizeof(in));
	return err < 0 ? err : rename_names(srv, n, r, in.newdir, 0);
}

int fuse_op_rename2(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	struct fuse_rename2_in in;
	int err = fuse_take(r, &in, sizeof(in));
	return err < 0 ? err : rename_names(srv, n, r, in.newdir, in.flags);
}

int fuse_op_link(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	struct fuse_link_in in;
	char name[NAME_MAX + 1];
	int err = fuse_take(r, &in, sizeof(in));
	if (err < 0 || (err = fuse_take_name(r, name)) < 0)
		return err;
	struct fuse_node *old = fuse_node_get(srv, in.oldnodeid);
	if (!old)
		return -ESTALE;
	if (S_ISDIR(old->type))
		return -EPERM;
	err = confine_link(&srv->share, old->fd, S_ISLNK(old->type), n->fd, name);
	return err < 0 ? err : fuse_reply_entry(srv, n, name, r);
}

int fuse_op_statfs(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	(void)srv;
	struct statfs sf;
	if (fstatfs(n->fd, &sf) < 0)
		return -errno;
	struct fuse_statfs_out o = {.st = {
					.blocks = sf.f_blocks,
					.bfree = sf.f_bfree,
					.bavail = sf.f_bavail,
					.files = sf.f_files,
					.ffree = sf.f_ffree,
					.bsize = (uint32_t)sf.f_bsize,
					.namelen = (uint32_t)sf.f_namelen,
					.frsize = (uint32_t)sf.f_frsize,
				    }};
	return fuse_put(r, &o, sizeof(o));
}
