// SPDX-License-Identifier: Apache-2.0
// The FUSE server's session and dispatch: each request's header checked, its node found, the
// operation run, the reply's header written. A malformed request fails with its own error;
// nothing a request says can make the server read or write outside its two buffers.
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util.h"
#include "ops.h"

#define FUSE_OWNED_TIMEOUT 86400 // seconds the guest may trust a container-owned share

int fuse_server_new(const char *root, const char *fd_dir, bool readonly, enum fuse_cache cache,
		    struct fuse_server **out)
{
	struct fuse_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	int r = confine_open_share(&srv->share, root, fd_dir);
	if (r < 0) {
		free(srv);
		return r;
	}
	if ((r = fuse_nodes_init(srv, srv->share.root_fd)) < 0) {
		fuse_server_free(srv);
		return r;
	}
	srv->readonly = readonly;
	srv->cache = cache;
	*out = srv;
	return 0;
}

void fuse_server_free(struct fuse_server *srv)
{
	if (!srv)
		return;
	fuse_nodes_free(srv);
	confine_close_share(&srv->share);
	free(srv);
}

// ---- shared by the operations ----

int fuse_take(struct fuse_req *r, void *dst, size_t size)
{
	const uint8_t *p = p9_get_bytes(&r->in, size);
	if (!p)
		return -EINVAL;
	memcpy(dst, p, size);
	return 0;
}

const char *fuse_take_str(struct fuse_req *r)
{
	const uint8_t *start = r->in.buf + r->in.off;
	size_t left = r->in.len - r->in.off;
	const uint8_t *nul = memchr(start, '\0', left);
	if (r->in.err || !nul)
		return NULL;
	r->in.off += (size_t)(nul - start) + 1;
	return (const char *)start;
}

int fuse_take_name(struct fuse_req *r, char name[NAME_MAX + 1])
{
	const char *s = fuse_take_str(r);
	size_t len = s ? strlen(s) : 0;
	if (!s)
		return -EINVAL;
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	return confine_name((struct p9_str){.s = s, .len = (uint16_t)len}, name);
}

int fuse_put(struct fuse_req *r, const void *src, size_t size)
{
	uint8_t *p = p9_put_space(r->out, size);
	if (!p)
		return -ERANGE;
	memcpy(p, src, size);
	return 0;
}

void fuse_timeout(const struct fuse_server *srv, uint64_t *sec, uint32_t *nsec)
{
	*sec = srv->cache == FUSE_CACHE_OWNED ? FUSE_OWNED_TIMEOUT : 0;
	*nsec = 0;
}

void fuse_fill_attr(const struct fuse_server *srv, const struct stat *st, struct fuse_attr *a)
{
	uint64_t ino = st->st_ino;
	if (st->st_dev != srv->share.root_dev) // keep inodes of nested host mounts apart
		ino ^= (uint64_t)st->st_dev << 44;
	*a = (struct fuse_attr){
	    .ino = ino,
	    .size = (uint64_t)st->st_size,
	    .blocks = (uint64_t)st->st_blocks,
	    .atime = (uint64_t)st->st_atim.tv_sec,
	    .mtime = (uint64_t)st->st_mtim.tv_sec,
	    .ctime = (uint64_t)st->st_ctim.tv_sec,
	    .atimensec = (uint32_t)st->st_atim.tv_nsec,
	    .mtimensec = (uint32_t)st->st_mtim.tv_nsec,
	    .ctimensec = (uint32_t)st->st_ctim.tv_nsec,
	    .mode = st->st_mode,
	    .nlink = (uint32_t)st->st_nlink,
	    .uid = confine_uid_to_guest(&srv->share, st->st_uid),
	    .gid = confine_gid_to_guest(&srv->share, st->st_gid),
	    .rdev = (uint32_t)st->st_rdev,
	    .blksize = (uint32_t)st->st_blksize,
	};
}

// The entry of a node just looked up (n NULL: a name that is not there, as a negative entry
// the guest may cache).
static void fill_entry(const struct fuse_server *srv, const struct fuse_node *n,
		       const struct stat *st, struct fuse_entry_out *e)
{
	*e = (struct fuse_entry_out){0};
	uint64_t sec;
	uint32_t nsec;
	fuse_timeout(srv, &sec, &nsec);
	e->entry_valid = e->attr_valid = sec;
	e->entry_valid_nsec = e->attr_valid_nsec = nsec;
	if (!n)
		return;
	e->nodeid = fuse_node_id(srv, n);
	e->generation = n->gen;
	fuse_fill_attr(srv, st, &e->attr);
}

void fuse_give(struct fuse_node *d, const char *name, const struct fuse_req *r)
{
	struct stat st;
	// In a set-group-ID directory the host has given the new name the directory's group.
	bool inherit = confine_stat(d->fd, &st) == 0 && (st.st_mode & S_ISGID);
	confine_give(d->fd, name, r->h->uid, inherit ? (gid_t)-1 : r->h->gid);
}

int fuse_reply_entry(struct fuse_server *srv, struct fuse_node *d, const char *name,
		     struct fuse_req *r)
{
	struct fuse_entry_out e;
	struct stat st;
	int fd = -1;
	int err = confine_walk(&srv->share, d->fd,
			       (struct p9_str){.s = name, .len = (uint16_t)strlen(name)}, &fd);
	if (err == 0 && (err = confine_stat(fd, &st)) < 0)
		close(fd);
	if (err == -ENOENT && srv->cache == FUSE_CACHE_OWNED && r->h->opcode == FUSE_LOOKUP) {
		fill_entry(srv, NULL, NULL, &e); // remembered as absent: python's imports ask a lot
		return fuse_put(r, &e, sizeof(e));
	}
	if (err < 0)
		return err;
	struct fuse_node *n = fuse_node_lookup(srv, fd, &st);
	if (!n)
		return -ENFILE;
	fill_entry(srv, n, &st, &e);
	int put = fuse_put(r, &e, sizeof(e));
	if (put < 0)
		fuse_node_forget(srv, fuse_node_id(srv, n), 1);
	return put;
}

// ---- the session ----

static int op_init(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	(void)n;
	struct fuse_init_in in = {0};
	int err = fuse_take(r, &in, offsetof(struct fuse_init_in, flags2)); // 7.x before 36
	if (err < 0)
		return err;
	if (in.major != FUSE_KERNEL_VERSION || in.minor < 27) // Linux 4.20, virtio-fs's first
		return -EPROTO;
	uint32_t want = FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES |
			FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO | FUSE_PARALLEL_DIROPS |
			FUSE_MAX_PAGES | FUSE_CACHE_SYMLINKS;
	struct fuse_init_out o = {
	    .major = FUSE_KERNEL_VERSION,
	    .minor = MIN(in.minor, (uint32_t)FUSE_KERNEL_MINOR_VERSION),
	    .max_readahead = in.max_readahead,
	    .flags = in.flags & want,
	    .max_background = 64,
	    .congestion_threshold = 48,
	    .max_write = FUSE_MAX_WRITE,
	    .time_gran = 1,
	    .max_pages = FUSE_MAX_WRITE / 4096,
	};
	srv->inited = true;
	return fuse_put(r, &o, sizeof(o));
}

static int op_destroy(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r)
{
	(void)n;
	(void)r;
	for (uint32_t i = 1; i < srv->nodes_len; i++)
		if (srv->nodes[i].used)
			fuse_node_forget(srv, i + 1, UINT64_MAX);
	for (unsigned i = 0; i < srv->handles_len; i++)
		if (srv->handles[i].fd >= 0)
			fuse_handle_close(srv, i, srv->handles[i].dir);
	srv->inited = false;
	return 0;
}

// FORGET and BATCH_FORGET: no reply.
static void forget(struct fuse_server *srv, struct fuse_req *r)
{
	if (r->h->opcode == FUSE_FORGET) {
		struct fuse_forget_in f;
		if (fuse_take(r, &f, sizeof(f)) == 0)
			fuse_node_forget(srv, r->h->nodeid, f.nlookup);
		return;
	}
	struct fuse_batch_forget_in b;
	struct fuse_forget_one one;
	if (fuse_take(r, &b, sizeof(b)) < 0)
		return;
	for (uint32_t i = 0; i < b.count && fuse_take(r, &one, sizeof(one)) == 0; i++)
		fuse_node_forget(srv, one.nodeid, one.nlookup);
}

#define OP_W 1 // changes the share: refused on a read-only one
#define OP_N 2 // starts with a node

static const struct {
	fuse_op fn;
	uint8_t flags;
} ops[] = {
    [FUSE_INIT] = {op_init, 0},
    [FUSE_DESTROY] = {op_destroy, 0},
    [FUSE_LOOKUP] = {fuse_op_lookup, OP_N},
    [FUSE_GETATTR] = {fuse_op_getattr, OP_N},
    [FUSE_SETATTR] = {fuse_op_setattr, OP_N | OP_W},
    [FUSE_READLINK] = {fuse_op_readlink, OP_N},
    [FUSE_SYMLINK] = {fuse_op_symlink, OP_N | OP_W},
    [FUSE_MKNOD] = {fuse_op_mknod, OP_N | OP_W},
    [FUSE_MKDIR] = {fuse_op_mkdir, OP_N | OP_W},
    [FUSE_UNLINK] = {fuse_op_unlink, OP_N | OP_W},
    [FUSE_RMDIR] = {fuse_op_rmdir, OP_N | OP_W},
    [FUSE_RENAME] = {fuse_op_rename, OP_N | OP_W},
    [FUSE_RENAME2] = {fuse_op_rename2, OP_N | OP_W},
    [FUSE_LINK] = {fuse_op_link, OP_N | OP_W},
    [FUSE_STATFS] = {fuse_op_statfs, OP_N},
    [FUSE_OPEN] = {fuse_op_open, OP_N},
    [FUSE_CREATE] = {fuse_op_create, OP_N | OP_W},
    [FUSE_READ] = {fuse_op_read, 0},
    [FUSE_WRITE] = {fuse_op_write, OP_W},
    [FUSE_RELEASE] = {fuse_op_release, 0},
    [FUSE_FSYNC] = {fuse_op_fsync, 0},
    [FUSE_OPENDIR] = {fuse_op_opendir, OP_N},
    [FUSE_READDIR] = {fuse_op_readdir, 0},
    [FUSE_READDIRPLUS] = {fuse_op_readdirplus, OP_N},
    [FUSE_RELEASEDIR] = {fuse_op_releasedir, 0},
    [FUSE_FSYNCDIR] = {fuse_op_fsyncdir, 0},
    [FUSE_FALLOCATE] = {fuse_op_fallocate, OP_W},
    [FUSE_LSEEK] = {fuse_op_lseek, 0},
    [FUSE_COPY_FILE_RANGE] = {fuse_op_copy_file_range, OP_W},
    [FUSE_GETXATTR] = {fuse_op_getxattr, OP_N},
    [FUSE_LISTXATTR] = {fuse_op_listxattr, OP_N},
    [FUSE_SETXATTR] = {fuse_op_setxattr, OP_N | OP_W},
    [FUSE_REMOVEXATTR] = {fuse_op_removexattr, OP_N | OP_W},
};

static int dispatch(struct fuse_server *srv, struct fuse_req *r)
{
	uint32_t op = r->h->opcode;
	if (op >= sizeof(ops) / sizeof(ops[0]) || !ops[op].fn)
		return -ENOSYS; // the guest stops asking: locks (it keeps them), FLUSH (nothing to do)
	if (!srv->inited && op != FUSE_INIT)
		return -EIO;
	if ((ops[op].flags & OP_W) && srv->readonly)
		return -EROFS;
	struct fuse_node *n = NULL;
	if ((ops[op].flags & OP_N) && !(n = fuse_node_get(srv, r->h->nodeid)))
		return -ESTALE;
	return ops[op].fn(srv, n, r);
}

size_t fuse_server_handle(struct fuse_server *srv, const uint8_t *req, size_t len, uint8_t *resp,
			  size_t cap)
{
	struct fuse_in_header h;
	if (len < sizeof(h) || cap < sizeof(struct fuse_out_header))
		return 0; // not even a header to answer
	memcpy(&h, req, sizeof(h));
	struct p9_out out;
	p9_out_init(&out, resp, cap);
	p9_put_space(&out, sizeof(struct fuse_out_header));
	struct fuse_req r = {.h = &h, .out = &out};
	// The header's own length, and any extension after the arguments, are not trusted.
	p9_in_init(&r.in, req + sizeof(h), MIN((size_t)h.len, len) - MIN((size_t)h.len, sizeof(h)));
	if (h.opcode == FUSE_FORGET || h.opcode == FUSE_BATCH_FORGET) {
		forget(srv, &r);
		return 0;
	}
	if (h.opcode == FUSE_INTERRUPT)
		return 0; // every request is answered before the next is read
	int err = dispatch(srv, &r);
	if (err < 0 || out.err)
		out.len = sizeof(struct fuse_out_header);
	struct fuse_out_header o = {.len = (uint32_t)out.len,
				    .error = err < 0 ? err : out.err ? -ERANGE : 0,
				    .unique = h.unique};
	memcpy(resp, &o, sizeof(o));
	return out.len;
}
