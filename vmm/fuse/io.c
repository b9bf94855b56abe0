// SPDX-License-Identifier: Apache-2.0
// FUSE operations on open files and directories (handles), and extended attributes (user.*
// only, as the 9p server: the others carry host security state).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../util.h"
#include "ops.h"

// Linux open flags the guest may pass through; creation goes through CREATE (and MKNOD).
#define FUSE_OPEN_FLAGS (O_ACCMODE | O_APPEND | O_TRUNC | O_DIRECTORY | O_NONBLOCK | O_DSYNC | O_SYNC)
#define XATTR_MAX 65536 // XATTR_SIZE_MAX of Linux

static int open_flags(const struct fuse_server *srv, uint32_t flags, int *out)
{
	int f = (int)(flags & FUSE_OPEN_FLAGS);
	if (srv->readonly && ((f & O_ACCMODE) != O_RDONLY || (f & O_TRUNC)))
		return -EROFS;
	*out = f;
	return 0;
}

// The reply of OPEN and CREATE: the handle, and whether the guest may keep the file's pages
// from one open to the next (a container-owned share changes only through the guest).
static struct fuse_open_out opened(const struct fuse_server *srv, int fh)
{
	return (struct fuse_open_out){
	    .fh = (uint64_t)fh,
	    .open_flags = srv->cache == FUSE_CACHE_OWNED ? FOPEN_KEEP_CACHE : 0,
	};
}

static int open_node(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r, bool dir)
{
	struct fuse_open_in in;
	int err = fuse_take(r, &in, sizeof(in)), oflags;
	if (err < 0 || (err = open_flags(srv, dir ? O_RDONLY : in.flags, &oflags)) < 0)
		return err;
	if (dir ? !S_ISDIR(n->type) : !S_ISREG(n->type))
		return dir ? -ENOTDIR : -EPERM; // host device nodes, fifos and sockets are never opened
	if (dir)
		oflags |= O_DIRECTORY;
	int fd = confine_reopen(&srv->share, n->fd, oflags);
	if (fd < 0 || (fd = fuse_handle_add(srv, fd, dir)) < 0)
		return fd;
	struct fuse_open_out o = opened(srv, fd);
	if (dir)
		o.open_flags = srv->cache == FUSE_CACHE_OWNED ? FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE : 0;
	return fuse_put(r, &o, sizeof(o));
}

int fuse_op_open(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	return open_node(srv, n, r, false);
}

int fuse_op_opendir(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	return open_node(srv, n, r, true);
}

int fuse_op_create(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	struct fuse_create_in in;
	char name[NAME_MAX + 1];
	int err = fuse_take(r, &in, sizeof(in)), oflags;
	if (err < 0 || (err = fuse_take_name(r, name)) < 0 ||
	    (err = open_flags(srv, in.flags, &oflags)) < 0)
		return err;
	int fd = confine_create(n->fd, name, oflags, in.mode & 07777);
	if (fd < 0)
		return fd;
	fuse_give(n, name, r);
	if ((fd = fuse_handle_add(srv, fd, false)) < 0)
		return fd;
	struct fuse_open_out o = opened(srv, fd);
	if ((err = fuse_reply_entry(srv, n, name, r)) < 0 || (err = fuse_put(r, &o, sizeof(o))) < 0)
		fuse_handle_close(srv, (uint64_t)fd, false);
	return err;
}

int fuse_op_read(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	(void)n;
	struct fuse_read_in in;
	int err = fuse_take(r, &in, sizeof(in));
	int fd = err < 0 ? err : fuse_handle_fd(srv, in.fh, false);
	if (fd < 0)
		return fd;
	size_t want = MIN((size_t)in.size, (size_t)FUSE_MAX_WRITE);
	want = MIN(want, r->out->cap - r->out->len);
	ssize_t got = pread(fd, r->out->buf + r->out->len, want, (off_t)in.offset);
	if (got < 0)
		return -errno;
	r->out->len += (size_t)got;
	return 0;
}

int fuse_op_write(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	(void)n;
	struct fuse_write_in in;
	int err = fuse_take(r, &in, sizeof(in));
	int fd = err < 0 ? err : fuse_handle_fd(srv, in.fh, false);
	if (fd < 0)
		return fd;
	const uint8_t *data = p9_get_bytes(&r->in, in.size);
	if (!data)
		return -EINVAL;
	ssize_t put = pwrite(fd, data, in.size, (off_t)in.offset);
	if (put < 0)
		return -errno;
	struct fuse_write_out o = {.size = (uint32_t)put};
	return fuse_put(r, &o, sizeof(o));
}

static int release(struct fuse_server *srv, struct fuse_req *r, bool dir)
{
	struct fuse_release_in in;
	int err = fuse_take(r, &in, sizeof(in));
	return err < 0 ? err : fuse_handle_close(srv, in.fh, dir);
}

int fuse_op_release(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	(void)n;
	return release(srv, r, false);
}

int fuse_op_releasedir(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	(void)n;
	return release(srv, r, true);
}

static int sync_handle(struct fuse_server *srv, struct fuse_req *r, bool dir)
{
	struct fuse_fsync_in in;
	int err = fuse_take(r, &in, sizeof(in));
	int fd = err < 0 ? err : fuse_handle_fd(srv, in.fh, dir);
	if (fd < 0)
		return fd;
	return ((in.fsync_flags & 1) ? fdatasync(fd) : fsync(fd)) < 0 ? -errno : 0;
}

int fuse_op_fsync(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	(void)n;
	return sync_handle(srv, r, false);
}

int fuse_op_fsyncdir(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	(void)n;
	return sync_handle(srv, r, true);
}

// Directory entries from the handle's offset, as many as fit the reply: plain, or (n given)
// each with its looked-up entry (READDIRPLUS; "." and ".." are not looked up).
static int read_dir(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	struct fuse_read_in in;
	int err = fuse_take(r, &in, sizeof(in));
	int fd = err < 0 ? err : fuse_handle_fd(srv, in.fh, true);
	if (fd < 0)
		return fd;
	size_t cap = MIN((size_t)in.size, r->out->cap - r->out->len), start = r->out->len;
	if (lseek(fd, (off_t)in.offset, SEEK_SET) < 0)
		return -errno;
	char buf[8192] __attribute__((aligned(8)));
	for (;;) {
		long got = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		if (got < 0)
			return r->out->len > start ? 0 : -errno;
		if (got == 0)
			return 0;
		for (long off = 0; off < got;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			off += d->d_reclen;
			size_t namelen = strlen(d->d_name);
			size_t size = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + namelen);
			if (n)
				size = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET_DIRENTPLUS + namelen);
			if (r->out->len - start + size > cap)
				return 0; // the next call starts again at this entry
			struct fuse_entry_out e = {0};
			bool dots = !strcmp(d->d_name, ".") || !strcmp(d->d_name, "..");
			if (n && !dots) {
				size_t before = r->out->len;
				if (fuse_reply_entry(srv, n, d->d_name, r) < 0)
					continue; // gone in between: left out
				memcpy(&e, r->out->buf + before, sizeof(e));
				r->out->len = before;
			}
			uint8_t *p = p9_put_space(r->out, size);
			memset(p, 0, size);
			struct fuse_dirent de = {.ino = d->d_ino, .off = (uint64_t)d->d_off,
						 .namelen = (uint32_t)namelen, .type = d->d_type};
			if (n) {
				memcpy(p, &e, sizeof(e));
				p += sizeof(e);
			}
			memcpy(p, &de, FUSE_NAME_OFFSET);
			memcpy(p + FUSE_NAME_OFFSET, d->d_name, namelen);
		}
	}
}

int fuse_op_readdir(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	(void)n;
	return read_dir(srv, NULL, r);
}

int fuse_op_readdirplus(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	return read_dir(srv, n, r);
}

int fuse_op_fallocate(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	(void)n;
	struct fuse_fallocate_in in;
	int err = fuse_take(r, &in, sizeof(in));
	int fd = err < 0 ? err : fuse_handle_fd(srv, in.fh, false);
	if (fd < 0)
		return fd;
	if (in.offset > INT64_MAX || in.length > INT64_MAX)
		return -EINVAL;
	return fallocate(fd, (int)in.mode, (off_t)in.offset, (off_t)in.length) < 0 ? -errno : 0;
}

int fuse_op_lseek(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	(void)n;
	struct fuse_lseek_in in;
	int err = fuse_take(r, &in, sizeof(in));
	int fd = err < 0 ? err : fuse_handle_fd(srv, in.fh, false);
	if (fd < 0)
		return fd;
	if (in.whence != SEEK_DATA && in.whence != SEEK_HOLE)
		return -EINVAL; // the guest answers the others itself
	off_t o = lseek(fd, (off_t)in.offset, (int)in.whence);
	if (o < 0)
		return -errno;
	struct fuse_lseek_out out = {.offset = (uint64_t)o};
	return fuse_put(r, &out, sizeof(out));
}

// A copy between two open files done on the host (cp, or copy_file_range in the guest): the
// data never crosses the queue. At most FUSE_MAX_COPY a request; the guest asks again for the
// rest, and falls back to reading and writing itself on EXDEV or EOPNOTSUPP.
int fuse_op_copy_file_range(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	(void)n;
	struct fuse_copy_file_range_in in;
	int err = fuse_take(r, &in, sizeof(in));
	int from = err < 0 ? err : fuse_handle_fd(srv, in.fh_in, false);
	int to = from < 0 ? from : fuse_handle_fd(srv, in.fh_out, false);
	if (to < 0)
		return to;
	if (in.flags || in.off_in > INT64_MAX || in.off_out > INT64_MAX)
		return -EINVAL;
	off_t off_in = (off_t)in.off_in, off_out = (off_t)in.off_out;
	ssize_t done = copy_file_range(from, &off_in, to, &off_out, MIN(in.len, FUSE_MAX_COPY), 0);
	if (done < 0)
		return -errno;
	struct fuse_write_out o = {.size = (uint32_t)done};
	return fuse_put(r, &o, sizeof(o));
}

// ---- extended attributes ----

static int xattr_name(struct fuse_req *r, const char **name)
{
	*name = fuse_take_str(r);
	if (!*name)
		return -EINVAL;
	size_t len = strlen(*name);
	return len > 5 && len < 256 && !memcmp(*name, "user.", 5) ? 0 : -EOPNOTSUPP;
}

// The reply of GETXATTR and LISTXATTR: the size when asked with size 0, else the bytes.
static int reply_xattr(struct fuse_req *r, uint32_t size, const void *buf, size_t len)
{
	if (size == 0) {
		struct fuse_getxattr_out o = {.size = (uint32_t)len};
		return fuse_put(r, &o, sizeof(o));
	}
	return len > size ? -ERANGE : fuse_put(r, buf, len);
}

int fuse_op_getxattr(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	struct fuse_getxattr_in in;
	const char *name;
	int err = fuse_take(r, &in, sizeof(in));
	if (err < 0 || (err = xattr_name(r, &name)) < 0)
		return err;
	uint8_t *buf = malloc(XATTR_MAX);
	if (!buf)
		return -ENOMEM;
	ssize_t len = confine_getxattr(&srv->share, n->fd, name, buf, XATTR_MAX);
	err = len < 0 ? (int)len : reply_xattr(r, in.size, buf, (size_t)len);
	free(buf);
	return err;
}

int fuse_op_listxattr(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	struct fuse_getxattr_in in;
	int err = fuse_take(r, &in, sizeof(in));
	if (err < 0)
		return err;
	char *buf = malloc(XATTR_MAX);
	if (!buf)
		return -ENOMEM;
	ssize_t len = confine_getxattr(&srv->share, n->fd, "", buf, XATTR_MAX);
	if (len == -ENOTSUP || len == -EPERM)
		len = 0; // no xattrs at all (a symlink's, a file system without them): an empty list
	size_t keep = 0; // the list: user.* names only
	for (size_t i = 0; len > 0 && i < (size_t)len;) {
		size_t l = strnlen(buf + i, (size_t)len - i) + 1;
		if (l > 5 && !memcmp(buf + i, "user.", 5)) {
			memmove(buf + keep, buf + i, l);
			keep += l;
		}
		i += l;
	}
	err = len < 0 ? (int)len : reply_xattr(r, in.size, buf, keep);
	free(buf);
	return err;
}

int fuse_op_setxattr(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	struct fuse_setxattr_in in; // the short form: FUSE_SETXATTR_EXT is not offered
	const char *name;
	int err = fuse_take(r, &in, FUSE_COMPAT_SETXATTR_IN_SIZE);
	if (err < 0 || (err = xattr_name(r, &name)) < 0)
		return err;
	const uint8_t *value = p9_get_bytes(&r->in, in.size);
	if (!value || in.size > XATTR_MAX)
		return -EINVAL;
	if (in.flags & ~(uint32_t)(XATTR_CREATE | XATTR_REPLACE))
		return -EINVAL;
	int flags = (int)in.flags;
	if (in.size == 0) // an empty value is set, never a removal
		flags &= ~XATTR_REPLACE;
	return confine_setxattr(&srv->share, n->fd, name, value, in.size, flags);
}

int fuse_op_removexattr(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	const char *name;
	int err = xattr_name(r, &name);
	return err < 0 ? err : confine_setxattr(&srv->share, n->fd, name, NULL, 0, XATTR_REPLACE);
}
