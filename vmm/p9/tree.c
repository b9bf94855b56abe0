// SPDX-License-Identifier: Apache-2.0
// 9p operations on names and attributes: walk, getattr, setattr, statfs, readlink, and making,
// linking, renaming and removing names. The dispatcher (server.c) has found each request's
// first fid and refused changes to a read-only share.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "../util.h"
#include "ops.h"

int p9_op_walk(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	uint32_t newfid = p9_get_u32(in);
	uint16_t n = p9_get_u16(in);
	if (in->err || n > P9_MAXWELEM)
		return -EINVAL;
	if (newfid != f - srv->fids.v && p9_fid_get(&srv->fids, newfid))
		return -EEXIST;
	_cleanup_close_ int cur = confine_dup(f->fd);
	if (cur < 0)
		return cur;
	uid_t uid = f->uid;
	mode_t type = f->type;
	p9_put_u16(out, 0); // nwqid, patched below
	uint16_t done = 0;
	for (; done < n; done++) {
		struct p9_str s = p9_get_str(in);
		if (in->err)
			return -EINVAL;
		int next = -1;
		int r = confine_walk(&srv->share, cur, s, &next);
		struct stat st;
		if (r == 0 && (r = confine_stat(next, &st)) < 0)
			close(next);
		if (r < 0) {
			if (done == 0)
				return r;
			break; // a partial walk: the qids so far, no new fid
		}
		close(cur);
		cur = next;
		type = st.st_mode & S_IFMT;
		struct p9_qid q = p9_qid_of(srv, &st);
		p9_put_qid(out, &q);
	}
	out->buf[P9_HDR_SIZE] = (uint8_t)done;
	out->buf[P9_HDR_SIZE + 1] = (uint8_t)(done >> 8);
	if (done < n)
		return 0;
	if (newfid == (uint32_t)(f - srv->fids.v))
		return p9_fid_rebind(f, steal_fd(&cur), type);
	return p9_fid_add(&srv->fids, newfid, steal_fd(&cur), uid, type);
}

int p9_op_getattr(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	p9_get_u64(in); // request mask: the basic set is always returned
	if (in->err)
		return -EINVAL;
	struct stat st;
	int r = confine_stat(f->fd, &st);
	if (r < 0)
		return r;
	struct p9_qid q = p9_qid_of(srv, &st);
	p9_put_u64(out, P9_GETATTR_BASIC);
	p9_put_qid(out, &q);
	p9_put_u32(out, st.st_mode);
	p9_put_u32(out, confine_uid_to_guest(&srv->share, st.st_uid));
	p9_put_u32(out, confine_gid_to_guest(&srv->share, st.st_gid));
	p9_put_u64(out, st.st_nlink);
	p9_put_u64(out, st.st_rdev);
	p9_put_u64(out, (uint64_t)st.st_size);
	p9_put_u64(out, (uint64_t)st.st_blksize);
	p9_put_u64(out, (uint64_t)st.st_blocks);
	p9_put_u64(out, (uint64_t)st.st_atim.tv_sec);
	p9_put_u64(out, (uint64_t)st.st_atim.tv_nsec);
	p9_put_u64(out, (uint64_t)st.st_mtim.tv_sec);
	p9_put_u64(out, (uint64_t)st.st_mtim.tv_nsec);
	p9_put_u64(out, (uint64_t)st.st_ctim.tv_sec);
	p9_put_u64(out, (uint64_t)st.st_ctim.tv_nsec);
	for (int i = 0; i < 4; i++) // btime sec/nsec, gen, data_version
		p9_put_u64(out, 0);
	return 0;
}

// A size change through the fid's open file when it can write, else through a new one.
static int truncate_fid(struct p9_server *srv, struct p9_fid *f, uint64_t size)
{
	if (!S_ISREG(f->type))
		return -EINVAL;
	if (size > INT64_MAX)
		return -EFBIG;
	int fd = f->io_fd;
	_cleanup_close_ int tmp = -1;
	if (fd < 0 || (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY) {
		if ((tmp = confine_reopen(&srv->share, f->fd, O_WRONLY)) < 0)
			return tmp;
		fd = tmp;
	}
	return ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
}

int p9_op_setattr(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	(void)out;
	uint32_t valid = p9_get_u32(in);
	uint32_t mode = p9_get_u32(in);
	uint32_t uid = p9_get_u32(in);
	uint32_t gid = p9_get_u32(in);
	uint64_t size = p9_get_u64(in);
	struct timespec ts[2];
	ts[0].tv_sec = (time_t)p9_get_u64(in);
	ts[0].tv_nsec = (long)p9_get_u64(in);
	ts[1].tv_sec = (time_t)p9_get_u64(in);
	ts[1].tv_nsec = (long)p9_get_u64(in);
	if (in->err)
		return -EINVAL;
	bool link = S_ISLNK(f->type);
	int r;
	if ((valid & P9_SETATTR_MODE) && !link &&
	    (r = confine_chmod(&srv->share, f->fd, mode & 07777)) < 0)
		return r;
	if (valid & (P9_SETATTR_UID | P9_SETATTR_GID)) {
		uid_t u = (valid & P9_SETATTR_UID) ? uid : (uid_t)-1;
		gid_t g = (valid & P9_SETATTR_GID) ? gid : (gid_t)-1;
		if ((r = confine_chown(&srv->share, f->fd, u, g)) < 0)
			return r;
	}
	if ((valid & P9_SETATTR_SIZE) && (r = truncate_fid(srv, f, size)) < 0)
		return r;
	if ((valid & (P9_SETATTR_ATIME | P9_SETATTR_MTIME)) && !link) {
		if (!(valid & P9_SETATTR_ATIME))
			ts[0].tv_nsec = UTIME_OMIT;
		else if (!(valid & P9_SETATTR_ATIME_SET))
			ts[0].tv_nsec = UTIME_NOW;
		if (!(valid & P9_SETATTR_MTIME))
			ts[1].tv_nsec = UTIME_OMIT;
		else if (!(valid & P9_SETATTR_MTIME_SET))
			ts[1].tv_nsec = UTIME_NOW;
		if ((r = confine_utimens(&srv->share, f->fd, ts)) < 0)
			return r;
	}
	return 0;
}

int p9_op_statfs(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	(void)srv;
	(void)in;
	struct statfs sf;
	if (fstatfs(f->fd, &sf) < 0)
		return -errno;
	uint64_t fsid;
	memcpy(&fsid, &sf.f_fsid, sizeof(fsid));
	p9_put_u32(out, (uint32_t)sf.f_type);
	p9_put_u32(out, (uint32_t)sf.f_bsize);
	p9_put_u64(out, sf.f_blocks);
	p9_put_u64(out, sf.f_bfree);
	p9_put_u64(out, sf.f_bavail);
	p9_put_u64(out, sf.f_files);
	p9_put_u64(out, sf.f_ffree);
	p9_put_u64(out, fsid);
	p9_put_u32(out, (uint32_t)sf.f_namelen);
	return 0;
}

int p9_op_readlink(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	(void)srv;
	(void)in;
	char buf[PATH_MAX];
	ssize_t n = confine_readlink(f->fd, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	p9_put_str(out, buf, (size_t)n);
	return 0;
}

// A name made in directory fid d: given to the fid's user, its qid the reply.
static int made(struct p9_server *srv, struct p9_out *out, struct p9_fid *d, const char *name,
		uint32_t gid)
{
	confine_give(d->fd, name, d->uid, gid);
	return p9_reply_qid_at(srv, out, d->fd, name);
}

int p9_op_mkdir(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	struct p9_str s = p9_get_str(in);
	uint32_t mode = p9_get_u32(in);
	uint32_t gid = p9_get_u32(in);
	char name[NAME_MAX + 1];
	int r = p9_take_name(in, s, name);
	r = r ?: confine_mkdir(f->fd, name, mode & 07777);
	return r ?: made(srv, out, f, name, gid);
}

int p9_op_symlink(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	struct p9_str s = p9_get_str(in);
	struct p9_str t = p9_get_str(in);
	uint32_t gid = p9_get_u32(in);
	char name[NAME_MAX + 1];
	int r = p9_take_name(in, s, name);
	if (r < 0)
		return r;
	if (t.len == 0 || memchr(t.s, '\0', t.len))
		return -EINVAL;
	char target[UINT16_MAX + 1];
	memcpy(target, t.s, t.len);
	target[t.len] = '\0';
	r = confine_symlink(target, f->fd, name);
	return r ?: made(srv, out, f, name, gid);
}

int p9_op_mknod(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	struct p9_str s = p9_get_str(in);
	uint32_t mode = p9_get_u32(in);
	p9_get_u32(in); // major
	p9_get_u32(in); // minor: no device node is ever made
	uint32_t gid = p9_get_u32(in);
	char name[NAME_MAX + 1];
	int r = p9_take_name(in, s, name);
	r = r ?: confine_mknod(f->fd, name, mode & (S_IFMT | 07777));
	return r ?: made(srv, out, f, name, gid);
}

int p9_op_link(struct p9_server *srv, struct p9_fid *d, struct p9_in *in, struct p9_out *out)
{
	(void)out;
	struct p9_fid *f = p9_take_fid(srv, in);
	struct p9_str s = p9_get_str(in);
	char name[NAME_MAX + 1];
	int r = p9_take_name(in, s, name);
	if (r < 0)
		return r;
	if (!f)
		return -EBADF;
	if (S_ISDIR(f->type))
		return -EPERM;
	return confine_link(&srv->share, f->fd, S_ISLNK(f->type), d->fd, name);
}

int p9_op_renameat(struct p9_server *srv, struct p9_fid *od, struct p9_in *in, struct p9_out *out)
{
	(void)out;
	struct p9_str os = p9_get_str(in);
	struct p9_fid *nd = p9_take_fid(srv, in);
	struct p9_str ns = p9_get_str(in);
	char oname[NAME_MAX + 1], nname[NAME_MAX + 1];
	int r;
	if ((r = p9_take_name(in, os, oname)) < 0 || (r = p9_take_name(in, ns, nname)) < 0)
		return r;
	if (!nd)
		return -EBADF;
	return confine_rename(od->fd, oname, nd->fd, nname);
}

int p9_op_unlinkat(struct p9_server *srv, struct p9_fid *d, struct p9_in *in, struct p9_out *out)
{
	(void)srv;
	(void)out;
	struct p9_str s = p9_get_str(in);
	uint32_t flags = p9_get_u32(in);
	char name[NAME_MAX + 1];
	int r = p9_take_name(in, s, name);
	return r ?: confine_unlink(d->fd, name, (int)flags);
}
