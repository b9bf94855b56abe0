// SPDX-License-Identifier: Apache-2.0
// 9p extended attributes, the user.* namespace only: the others carry host security state
// (security.capability, trusted.*, ACLs) that a guest must neither read nor set. A walked
// xattr fid holds the value read; a created one collects the value written and sets it when
// it is clunked.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "../util.h"
#include "ops.h"

#define XATTR_MAX 65536 // XATTR_SIZE_MAX of Linux

static bool xattr_name_ok(struct p9_str name)
{
	return name.len > 5 && name.len < 256 && !memcmp(name.s, "user.", 5) &&
	       !memchr(name.s, '\0', name.len);
}

// The value of one attribute, or (empty name) the user.* names, into x.
static int fetch(const struct p9_server *srv, int fd, const char *name, struct p9_xattr *x)
{
	// Sized from the value (asked with size 0 first), so a fid holds what it reads, not
	// XATTR_MAX; a value that grew in between is asked again.
	ssize_t n = -1;
	for (int tries = 0; tries < 4; tries++) {
		n = confine_getxattr(&srv->share, fd, name, NULL, 0);
		if (n < 0)
			return n == -ENOTSUP && !name[0]
				   ? 0
				   : (int)n; // no xattrs at all: an empty list
		size_t size = MIN((size_t)n, (size_t)XATTR_MAX);
		free(x->value);
		x->value = malloc(size ? size : 1);
		if (!x->value)
			return -ENOMEM;
		n = confine_getxattr(&srv->share, fd, name, x->value, size);
		if (n != -ERANGE)
			break;
	}
	if (n < 0)
		return n == -ENOTSUP && !name[0] ? 0 : (int)n;
	x->len = (size_t)n;
	if (name[0])
		return 0;
	size_t keep = 0; // the list: user.* names only
	for (size_t i = 0; i < x->len;) {
		size_t l = strnlen((char *)x->value + i, x->len - i) + 1;
		if (l > 5 && !memcmp(x->value + i, "user.", 5)) {
			memmove(x->value + keep, x->value + i, l);
			keep += l;
		}
		i += l;
	}
	x->len = keep;
	return 0;
}

int p9_op_xattrwalk(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	uint32_t newfid = p9_get_u32(in);
	struct p9_str name = p9_get_str(in);
	if (in->err)
		return -EINVAL;
	if (name.len && !xattr_name_ok(name))
		return -EOPNOTSUPP;
	struct p9_xattr *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	memcpy(x->name, name.s, name.len);
	int r = fetch(srv, f->fd, x->name, x);
	int fd = r < 0 ? -1 : confine_dup(f->fd);
	if (r == 0 && fd < 0)
		r = fd;
	uid_t uid = f->uid;
	mode_t type = f->type;
	if (r == 0)
		r = p9_fid_add(&srv->fids, newfid, fd, uid,
			       type); // f may move: not used after this
	if (r == 0)
		r = p9_fid_set_xattr(p9_fid_get(&srv->fids, newfid), x);
	if (r < 0) {
		free(x->value);
		free(x);
		return r;
	}
	p9_put_u64(out, x->len);
	return 0;
}

int p9_op_xattrcreate(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out)
{
	(void)out;
	struct p9_str name = p9_get_str(in);
	uint64_t size = p9_get_u64(in);
	uint32_t flags = p9_get_u32(in);
	if (in->err || (flags & ~(uint32_t)(XATTR_CREATE | XATTR_REPLACE)))
		return -EINVAL;
	if (!xattr_name_ok(name))
		return -EOPNOTSUPP;
	if (srv->readonly)
		return -EROFS;
	if (size > XATTR_MAX)
		return -E2BIG;
	if (f->xattr || f->io_fd >= 0)
		return -EBUSY;
	struct p9_xattr *x = calloc(1, sizeof(*x));
	if (!x || !(x->value = malloc(size ? size : 1))) {
		free(x);
		return -ENOMEM;
	}
	memcpy(x->name, name.s, name.len);
	x->size = size;
	x->flags = (int)flags;
	x->create = true;
	return p9_fid_set_xattr(f, x);
}

int p9_xattr_read(struct p9_server *srv, struct p9_xattr *x, uint64_t off, uint32_t count,
		  struct p9_out *out)
{
	if (x->create)
		return -EBADF;
	count = MIN(count, srv->msize - P9_IOHDRSZ);
	size_t n = off >= x->len ? 0 : MIN((size_t)count, x->len - (size_t)off);
	p9_put_u32(out, (uint32_t)n);
	uint8_t *data = p9_put_space(out, n);
	if (!data)
		return -ENOSPC;
	if (n) // an offset past the end reads nothing: value + off would point nowhere
		memcpy(data, x->value + off, n);
	return 0;
}

int p9_xattr_write(struct p9_xattr *x, uint64_t off, const uint8_t *data, uint32_t count,
		   struct p9_out *out)
{
	if (!x->create)
		return -EBADF;
	if (off > x->size || count > x->size - off)
		return -ENOSPC;
	memcpy(x->value + off, data, count);
	x->len = MAX(x->len, (size_t)(off + count));
	p9_put_u32(out, count);
	return 0;
}

int p9_xattr_commit(const struct p9_server *srv, struct p9_fid *f)
{
	struct p9_xattr *x = f->xattr;
	if (x->len != x->size)
		return -EINVAL;
	return confine_setxattr(&srv->share, f->fd, x->name, x->value, x->size, x->flags);
}
