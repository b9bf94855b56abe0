// SPDX-License-Identifier: Apache-2.0
// Fid table: a bounded array indexed by fid number, grown on demand.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fid.h"

void p9_fids_free(struct p9_fids *fids)
{
	for (uint32_t i = 0; i < fids->cap; i++)
		if (fids->v[i].used)
			p9_fid_remove(fids, i);
	free(fids->v);
	memset(fids, 0, sizeof(*fids));
}

struct p9_fid *p9_fid_get(struct p9_fids *fids, uint32_t id)
{
	if (id >= fids->cap || !fids->v[id].used)
		return NULL;
	return &fids->v[id];
}

int p9_fid_add(struct p9_fids *fids, uint32_t id, int fd, uid_t uid, mode_t type)
{
	if (id >= P9_MAX_FIDS || fids->live >= P9_MAX_OPEN) {
		close(fd);
		return -EMFILE;
	}
	if (id >= fids->cap) {
		uint32_t cap = fids->cap ? fids->cap : 64;
		while (cap <= id)
			cap *= 2;
		struct p9_fid *v = realloc(fids->v, cap * sizeof(*v));
		if (!v) {
			close(fd);
			return -ENOMEM;
		}
		memset(v + fids->cap, 0, (cap - fids->cap) * sizeof(*v));
		fids->v = v;
		fids->cap = cap;
	}
	struct p9_fid *f = &fids->v[id];
	if (f->used) {
		close(fd);
		return -EEXIST;
	}
	*f = (struct p9_fid){.used = true, .fd = fd, .io_fd = -1, .uid = uid, .type = type};
	fids->live++;
	return 0;
}

int p9_fid_remove(struct p9_fids *fids, uint32_t id)
{
	struct p9_fid *f = p9_fid_get(fids, id);
	if (!f)
		return -EBADF;
	close(f->fd);
	if (f->io_fd >= 0)
		close(f->io_fd);
	if (f->xattr)
		free(f->xattr->value);
	free(f->xattr);
	memset(f, 0, sizeof(*f));
	fids->live--;
	return 0;
}

static bool walked(const struct p9_fid *f)
{
	return f->io_fd < 0 && !f->xattr;
}

int p9_fid_open(struct p9_fid *f, int io_fd)
{
	if (!walked(f)) {
		close(io_fd);
		return -EBUSY;
	}
	f->io_fd = io_fd;
	return 0;
}

int p9_fid_rebind(struct p9_fid *f, int path_fd, mode_t type)
{
	if (!walked(f)) {
		close(path_fd);
		return -EBUSY;
	}
	close(f->fd);
	f->fd = path_fd;
	f->type = type;
	return 0;
}

int p9_fid_set_xattr(struct p9_fid *f, struct p9_xattr *x)
{
	if (!walked(f))
		return -EBUSY;
	f->xattr = x;
	return 0;
}
