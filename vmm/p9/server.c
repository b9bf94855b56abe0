// SPDX-License-Identifier: Apache-2.0
// 9P2000.L server: decodes each request through a bounded cursor and serves it through the
// confinement kernel (confine.c), so no path string from the guest is ever resolved by the
// host beyond one component, no symlink is followed, and ".." stops at the root. This file
// holds the session (version, attach, flush, clunk) and the dispatch table; the operations
// live in tree.c, io.c and xattr.c.
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util.h"
#include "ops.h"

#define P9_VERSION "9P2000.L"

int p9_server_new(const char *root, const char *fd_dir, bool readonly, struct p9_server **out)
{
	struct p9_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	int r = confine_open_share(&srv->share, root, fd_dir);
	if (r < 0) {
		free(srv);
		return r;
	}
	srv->readonly = readonly;
	srv->msize = P9_MSIZE_MAX;
	*out = srv;
	return 0;
}

void p9_server_free(struct p9_server *srv)
{
	if (!srv)
		return;
	p9_fids_free(&srv->fids);
	confine_close_share(&srv->share);
	free(srv);
}

// ---- shared by the operations ----

struct p9_qid p9_qid_of(const struct p9_server *srv, const struct stat *st)
{
	struct p9_qid q = {.type = P9_QTFILE, .version = 0, .path = st->st_ino};
	if (S_ISDIR(st->st_mode))
		q.type = P9_QTDIR;
	else if (S_ISLNK(st->st_mode))
		q.type = P9_QTSYMLINK;
	if (st->st_dev != srv->share.root_dev) // keep inodes of nested host mounts apart
		q.path ^= (uint64_t)st->st_dev << 44;
	return q;
}

int p9_reply_qid_at(struct p9_server *srv, struct p9_out *out, int dirfd, const char *name)
{
	struct stat st;
	int r = confine_stat_at(dirfd, name, &st);
	if (r < 0)
		return r;
	struct p9_qid q = p9_qid_of(srv, &st);
	p9_put_qid(out, &q);
	return 0;
}

struct p9_fid *p9_take_fid(struct p9_server *srv, struct p9_in *in)
{
	uint32_t id = p9_get_u32(in);
	return in->err ? NULL : p9_fid_get(&srv->fids, id);
}

int p9_take_name(const struct p9_in *in, struct p9_str s, char name[NAME_MAX + 1])
{
	return in->err ? -EINVAL : confine_name(s, name);
}

// ---- session ----

static int op_version(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	(void)f;
	uint32_t msize = p9_get_u32(in);
	struct p9_str ver = p9_get_str(in);
	if (in->err)
		return -EINVAL;
	// Refused before it is stored: every I/O size is msize less a header.
	if (msize < 4096)
		return -EINVAL;
	p9_fids_free(&srv->fids);
	srv->msize = MIN(msize, P9_MSIZE_MAX);
	p9_put_u32(out, srv->msize);
	if (ver.len == strlen(P9_VERSION) && !memcmp(ver.s, P9_VERSION, ver.len))
		p9_put_str(out, P9_VERSION, strlen(P9_VERSION));
	else
		p9_put_str(out, "unknown", 7);
	return 0;
}

static int op_attach(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	(void)f;
	uint32_t fid = p9_get_u32(in);
	p9_get_u32(in); // afid: no authentication
	p9_get_str(in); // uname
	p9_get_str(in); // aname: a share is one directory
	uint32_t n_uname = p9_get_u32(in);
	if (in->err)
		return -EINVAL;
	int fd = confine_dup(srv->share.root_fd);
	if (fd < 0)
		return fd;
	uid_t uid = n_uname == P9_NOFID ? 0 : n_uname;
	int r = p9_fid_add(&srv->fids, fid, fd, uid, S_IFDIR);
	if (r < 0)
		return r;
	struct stat st;
	if ((r = confine_stat(srv->share.root_fd, &st)) < 0)
		return r;
	struct p9_qid q = p9_qid_of(srv, &st);
	p9_put_qid(out, &q);
	return 0;
}

static int op_flush(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	(void)srv;
	(void)f;
	(void)out;
	p9_get_u16(in); // requests are served one at a time: nothing is ever in flight
	return in->err ? -EINVAL : 0;
}

static int op_clunk(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	(void)f;
	(void)out;
	uint32_t id = p9_get_u32(in);
	if (in->err)
		return -EINVAL;
	struct p9_fid *c = p9_fid_get(&srv->fids, id);
	int r = c && c->xattr && c->xattr->create ? p9_xattr_commit(srv, c) : 0;
	int rr = p9_fid_remove(&srv->fids, id);
	return r ?: rr;
}

// Tremove needs the parent, which a fid does not keep: Linux uses Tunlinkat instead. The fid
// is clunked either way, as the protocol requires.
static int op_remove(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	op_clunk(srv, f, in, out);
	return -EOPNOTSUPP;
}

static int op_unsupported(struct p9_server *srv, struct p9_fid *f, struct p9_in *in,
			  struct p9_out *out)
{
	(void)srv;
	(void)f;
	(void)in;
	(void)out;
	return -EOPNOTSUPP;
}

// ---- dispatch ----

enum {
	FID = 1,    // the request starts with a fid that must exist (else EBADF)
	OPEN = 2,   // ... and be open (else EBADF)
	WRITES = 4, // it changes the share: refused on a read-only one (EROFS)
};

static const struct {
	p9_op run;
	uint8_t needs;
} ops[256] = {
    [P9_TVERSION] = {op_version, 0},
    [P9_TATTACH] = {op_attach, 0},
    [P9_TFLUSH] = {op_flush, 0},
    [P9_TCLUNK] = {op_clunk, 0},
    [P9_TREMOVE] = {op_remove, 0},
    [P9_TAUTH] = {op_unsupported, 0},	// no authentication: the transport is private to one guest
    [P9_TRENAME] = {op_unsupported, 0}, // Linux uses Trenameat
    [P9_TWALK] = {p9_op_walk, FID},
    [P9_TGETATTR] = {p9_op_getattr, FID},
    [P9_TSETATTR] = {p9_op_setattr, FID | WRITES},
    [P9_TSTATFS] = {p9_op_statfs, FID},
    [P9_TREADLINK] = {p9_op_readlink, FID},
    [P9_TMKDIR] = {p9_op_mkdir, FID | WRITES},
    [P9_TSYMLINK] = {p9_op_symlink, FID | WRITES},
    [P9_TMKNOD] = {p9_op_mknod, FID | WRITES},
    [P9_TLINK] = {p9_op_link, FID | WRITES},
    [P9_TRENAMEAT] = {p9_op_renameat, FID | WRITES},
    [P9_TUNLINKAT] = {p9_op_unlinkat, FID | WRITES},
    [P9_TLOPEN] = {p9_op_lopen, FID},
    [P9_TLCREATE] = {p9_op_lcreate, FID | WRITES},
    [P9_TREAD] = {p9_op_read, FID},
    [P9_TWRITE] = {p9_op_write, FID},
    [P9_TREADDIR] = {p9_op_readdir, FID | OPEN},
    [P9_TFSYNC] = {p9_op_fsync, FID},
    [P9_TLOCK] = {p9_op_lock, FID | OPEN},
    [P9_TGETLOCK] = {p9_op_getlock, FID | OPEN},
    [P9_TXATTRWALK] = {p9_op_xattrwalk, FID},
    [P9_TXATTRCREATE] = {p9_op_xattrcreate, FID},
};

// The checks of the op's table entry, then the op.
static int dispatch(struct p9_server *srv, uint8_t type, struct p9_in *in, struct p9_out *out)
{
	uint8_t needs = ops[type].needs;
	struct p9_fid *f = NULL;
	if (needs & FID) {
		f = p9_take_fid(srv, in);
		if (in->err)
			return -EINVAL;
		if (!f || ((needs & OPEN) && f->io_fd < 0))
			return -EBADF;
	}
	if ((needs & WRITES) && srv->readonly)
		return -EROFS;
	return ops[type].run(srv, f, in, out);
}

size_t p9_server_handle(struct p9_server *srv, const uint8_t *req, size_t len, uint8_t *resp,
			size_t cap)
{
	struct p9_in in;
	struct p9_out out;
	struct p9_hdr hdr;
	p9_in_init(&in, req, len);
	p9_out_init(&out, resp, MIN(cap, (size_t)srv->msize));
	int r = p9_parse_hdr(&in, &hdr);
	if (r == 0 && hdr.type == P9_TVERSION)
		p9_out_init(&out, resp, MIN(cap, (size_t)P9_MSIZE_MAX));
	if (r == 0 && !ops[hdr.type].run)
		r = -EOPNOTSUPP;
	if (r == 0 && (hdr.type & 1)) // replies and odd numbers are never requests
		r = -EINVAL;
	if (r == 0) {
		p9_out_begin(&out, (uint8_t)(hdr.type + 1), hdr.tag);
		r = dispatch(srv, hdr.type, &in, &out);
		if (r == 0)
			r = p9_out_finish(&out);
	}
	if (r < 0) {
		p9_out_begin(&out, P9_RLERROR, r == -EBADMSG ? P9_NOTAG : hdr.tag);
		p9_put_u32(&out, (uint32_t)-r);
		p9_out_finish(&out);
	}
	return out.len;
}
