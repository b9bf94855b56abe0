// SPDX-License-Identifier: Apache-2.0
// 9p operations on open files: open, create, read, write, readdir, fsync and POSIX locks (OFD
// locks on the fid's own file, never blocking the server).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../util.h"
#include "ops.h"

// Linux open flags the guest may pass through; creation goes through Tlcreate only.
#define P9_OPEN_FLAGS (O_ACCMODE | O_APPEND | O_TRUNC | O_DIRECTORY | O_NONBLOCK | O_DSYNC | O_SYNC)

static int open_flags(const struct p9_server *srv, uint32_t flags, int *out)
{
	int f = (int)(flags & P9_OPEN_FLAGS);
	if (srv->readonly && ((f & O_ACCMODE) != O_RDONLY || (f & O_TRUNC)))
		return -EROFS;
	*out = f;
	return 0;
}

// The reply of Tlopen and Tlcreate: the file's qid and the largest I/O the client may ask.
static void reply_opened(const struct p9_server *srv, struct p9_out *out, const struct stat *st)
{
	struct p9_qid q = p9_qid_of(srv, st);
	p9_put_qid(out, &q);
	p9_put_u32(out, srv->msize - P9_IOHDRSZ);
}

int p9_op_lopen(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	uint32_t flags = p9_get_u32(in);
	if (in->err)
		return -EINVAL;
	if (f->io_fd >= 0)
		return -EBUSY;
	int oflags, r;
	if ((r = open_flags(srv, flags, &oflags)) < 0)
		return r;
	if (S_ISLNK(f->type))
		return -ELOOP;
	if (!S_ISREG(f->type) && !S_ISDIR(f->type))
		return -EPERM; // host device nodes, fifos and sockets are never opened for the
			       // guest
	struct stat st;
	if ((r = confine_stat(f->fd, &st)) < 0)
		return r;
	if ((st.st_mode & S_IFMT) != f->type)
		return -ESTALE;
	if ((r = confine_reopen(&srv->share, f->fd, oflags)) < 0 || (r = p9_fid_open(f, r)) < 0)
		return r;
	reply_opened(srv, out, &st);
	return 0;
}

int p9_op_lcreate(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	struct p9_str s = p9_get_str(in);
	uint32_t flags = p9_get_u32(in);
	uint32_t mode = p9_get_u32(in);
	uint32_t gid = p9_get_u32(in);
	char name[NAME_MAX + 1];
	int oflags, r;
	if ((r = p9_take_name(in, s, name)) < 0 || (r = open_flags(srv, flags, &oflags)) < 0)
		return r;
	if (f->io_fd >= 0 || f->xattr)
		return -EBUSY; // the fid's open file would be lost (a host fd leaked per request)
	_cleanup_close_ int io = confine_create(f->fd, name, oflags, mode & 07777);
	if (io < 0)
		return io;
	confine_give(f->fd, name, f->uid, gid);
	struct p9_str n = {.s = name, .len = (uint16_t)strlen(name)};
	int path_fd = -1;
	if ((r = confine_walk(&srv->share, f->fd, n, &path_fd)) < 0)
		return r;
	struct stat st;
	if (fstat(io, &st) < 0) {
		close(path_fd);
		return -errno;
	}
	if ((r = p9_fid_rebind(f, path_fd, S_IFREG)) < 0 || (r = p9_fid_open(f, steal_fd(&io))) < 0)
		return r;
	reply_opened(srv, out, &st);
	return 0;
}

int p9_op_read(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	uint64_t off = p9_get_u64(in);
	uint32_t count = p9_get_u32(in);
	if (in->err)
		return -EINVAL;
	if (f->xattr)
		return p9_xattr_read(srv, f->xattr, off, count, out);
	if (f->io_fd < 0)
		return -EBADF;
	count = MIN(count, srv->msize - P9_IOHDRSZ);
	if (off > INT64_MAX)
		return -EINVAL;
	size_t at = out->len;
	p9_put_u32(out, 0);
	uint8_t *data = p9_put_space(out, count);
	if (!data)
		return -ENOSPC;
	ssize_t n = pread(f->io_fd, data, count, (off_t)off);
	if (n < 0)
		return -errno;
	out->len = at;
	p9_put_u32(out, (uint32_t)n);
	out->len += (size_t)n;
	return 0;
}

int p9_op_write(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	uint64_t off = p9_get_u64(in);
	uint32_t count = p9_get_u32(in);
	const uint8_t *data = p9_get_bytes(in, count);
	if (in->err || off > INT64_MAX)
		return -EINVAL;
	if (f->xattr)
		return p9_xattr_write(f->xattr, off, data, count, out);
	if (f->io_fd < 0)
		return -EBADF;
	if (srv->readonly)
		return -EROFS;
	ssize_t n = pwrite(f->io_fd, data, count, (off_t)off);
	if (n < 0)
		return -errno;
	p9_put_u32(out, (uint32_t)n);
	return 0;
}

static uint8_t dirent_qtype(unsigned char d_type)
{
	return d_type == DT_DIR ? P9_QTDIR : d_type == DT_LNK ? P9_QTSYMLINK : P9_QTFILE;
}

int p9_op_readdir(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	uint64_t off = p9_get_u64(in);
	uint32_t count = p9_get_u32(in);
	if (in->err || off > INT64_MAX)
		return -EINVAL;
	count = MIN(count, srv->msize - 11);
	if (lseek(f->io_fd, (off_t)off, SEEK_SET) < 0)
		return -errno;
	size_t at = out->len;
	p9_put_u32(out, 0);
	size_t start = out->len;
	char buf[16384];
	bool full = false;
	while (!full) {
		long n = syscall(SYS_getdents64, f->io_fd, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		for (long pos = 0; pos < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + pos);
			size_t nlen = strlen(d->d_name);
			size_t need = P9_QID_SIZE + 8 + 1 + 2 + nlen;
			if (out->len - start + need > count) {
				full = true;
				break;
			}
			struct p9_qid q = {.type = dirent_qtype(d->d_type), .path = d->d_ino};
			p9_put_qid(out, &q);
			p9_put_u64(out, (uint64_t)d->d_off);
			p9_put_u8(out, d->d_type);
			p9_put_str(out, d->d_name, nlen);
			pos += d->d_reclen;
		}
	}
	if (out->err)
		return -ENOSPC;
	uint32_t len = (uint32_t)(out->len - start);
	for (unsigned i = 0; i < 4; i++)
		out->buf[at + i] = (uint8_t)(len >> (8 * i));
	return 0;
}

int p9_op_fsync(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	(void)srv;
	(void)out;
	uint32_t datasync = p9_get_u32(in);
	if (in->err)
		return -EINVAL;
	if (f->io_fd < 0)
		return 0;
	return (datasync ? fdatasync(f->io_fd) : fsync(f->io_fd)) < 0 ? -errno : 0;
}

// A Tlock's or Tgetlock's range as an OFD lock request; -EINVAL when it cannot be one.
static int lock_request(const struct p9_in *in, uint8_t type, uint64_t start, uint64_t length,
			struct flock *fl)
{
	if (in->err || type > P9_LOCK_TYPE_UNLCK || start > INT64_MAX || length > INT64_MAX)
		return -EINVAL;
	*fl = (struct flock){.l_type = type == P9_LOCK_TYPE_RDLCK   ? F_RDLCK
				       : type == P9_LOCK_TYPE_WRLCK ? F_WRLCK
								    : F_UNLCK,
			     .l_whence = SEEK_SET,
			     .l_start = (off_t)start,
			     .l_len = (off_t)length};
	return 0;
}

int p9_op_lock(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	(void)srv;
	uint8_t type = p9_get_u8(in);
	p9_get_u32(in); // flags: the server never blocks, the client retries
	uint64_t start = p9_get_u64(in);
	uint64_t length = p9_get_u64(in);
	p9_get_u32(in); // proc_id
	p9_get_str(in); // client_id
	struct flock fl;
	int r = lock_request(in, type, start, length, &fl);
	if (r < 0)
		return r;
	uint8_t status = P9_LOCK_SUCCESS;
	if (fcntl(f->io_fd, F_OFD_SETLK, &fl) < 0)
		status = (errno == EAGAIN || errno == EACCES) ? P9_LOCK_BLOCKED : P9_LOCK_ERROR;
	p9_put_u8(out, status);
	return 0;
}

int p9_op_getlock(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	(void)srv;
	uint8_t type = p9_get_u8(in);
	uint64_t start = p9_get_u64(in);
	uint64_t length = p9_get_u64(in);
	uint32_t proc_id = p9_get_u32(in);
	struct p9_str client = p9_get_str(in);
	struct flock fl;
	int r = lock_request(in, type, start, length, &fl);
	if (r < 0)
		return r;
	if (fcntl(f->io_fd, F_OFD_GETLK, &fl) < 0)
		return -errno;
	p9_put_u8(out, fl.l_type == F_RDLCK   ? P9_LOCK_TYPE_RDLCK
		       : fl.l_type == F_WRLCK ? P9_LOCK_TYPE_WRLCK
					      : P9_LOCK_TYPE_UNLCK);
	p9_put_u64(out, (uint64_t)fl.l_start);
	p9_put_u64(out, (uint64_t)fl.l_len);
	p9_put_u32(out, fl.l_type == F_UNLCK ? proc_id : 0);
	p9_put_str(out, client.s, client.len);
	return 0;
}
