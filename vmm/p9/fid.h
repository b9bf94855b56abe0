// SPDX-License-Identifier: Apache-2.0
// The 9p fid table: each fid the guest names holds an O_PATH fd (and, once opened, an I/O fd).
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define P9_MAX_FIDS 65536U // the guest may name fids 0..P9_MAX_FIDS-1
#define P9_MAX_OPEN 4096U  // live fids at once: bounds the server's fds

// An xattr fid (Txattrwalk's new fid, or a fid after Txattrcreate): reads return `value`;
// writes fill it, and the clunk sets it on the file.
struct p9_xattr {
	char name[256];
	uint8_t *value;
	size_t len;   // bytes in value: all of it after a walk, written so far for a create
	size_t size;  // create: the size the guest announced
	int flags;    // create: XATTR_CREATE, XATTR_REPLACE
	bool create;
};

struct p9_fid {
	bool used;
	int fd;       // O_PATH fd of the file, never followed if it is a symlink
	int io_fd;    // -1 until Tlopen/Tlcreate
	uid_t uid;    // from Tattach's n_uname: owner of files created through this fid
	mode_t type;  // S_IFMT bits of the file when the fid was made
	struct p9_xattr *xattr; // NULL unless an xattr fid
};

struct p9_fids {
	struct p9_fid *v;
	uint32_t cap;
	unsigned live;
};

void p9_fids_free(struct p9_fids *fids);
// The fid in use under `id`, or NULL.
struct p9_fid *p9_fid_get(struct p9_fids *fids, uint32_t id);
// Takes ownership of fd. -EEXIST if id is in use, -EMFILE past the bounds (fd closed then).
int p9_fid_add(struct p9_fids *fids, uint32_t id, int fd, uid_t uid, mode_t type);
// Releases id and its fds; -EBADF if not in use.
int p9_fid_remove(struct p9_fids *fids, uint32_t id);

// A fid's states: walked (an O_PATH fd), then open (an I/O fd too) or an xattr fid, until it
// is clunked. The transitions, each refused (-EBUSY) from a state that does not allow it:
// f is opened with io_fd (taken, closed when refused): only a walked fid.
int p9_fid_open(struct p9_fid *f, int io_fd);
// f names the file of path_fd (taken, closed when refused) of type: a walk onto itself, a
// create; only a walked fid.
int p9_fid_rebind(struct p9_fid *f, int path_fd, mode_t type);
// f becomes an xattr fid holding x (taken on success): only a walked fid.
int p9_fid_set_xattr(struct p9_fid *f, struct p9_xattr *x);
