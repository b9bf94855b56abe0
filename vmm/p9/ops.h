// SPDX-License-Identifier: Apache-2.0
// Inside the 9p server: its state, the helpers its operations share, and the operations, by
// room: server.c (session and dispatch), tree.c (names and attributes), io.c (open files),
// xattr.c (extended attributes). Only confine.c names files to the host kernel.
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "confine.h"
#include "fid.h"
#include "proto.h"
#include "server.h"
#include "wire.h"

#define P9_IOHDRSZ 24 // bytes of a Rread/Twrite that are not data

struct p9_server {
	struct p9_share share;
	bool readonly;
	uint32_t msize;
	struct p9_fids fids;
};

// An operation. f: the fid its request starts with, looked up by the dispatcher when the op's
// table entry says the request starts with one (else NULL); the op decodes the rest of in.
typedef int (*p9_op)(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);

// Shared by the operations.
struct p9_qid p9_qid_of(const struct p9_server *srv, const struct stat *st);
// The qid of name in dirfd (just made), into out.
int p9_reply_qid_at(struct p9_server *srv, struct p9_out *out, int dirfd, const char *name);
// A fid decoded from in: the fid or NULL (unknown, or in is used up).
struct p9_fid *p9_take_fid(struct p9_server *srv, struct p9_in *in);
// Once the request is decoded: -EINVAL if it was short, else the checked name s (confine_name).
int p9_take_name(const struct p9_in *in, struct p9_str s, char name[NAME_MAX + 1]);

// tree.c
int p9_op_walk(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
int p9_op_getattr(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
int p9_op_setattr(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
int p9_op_statfs(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
int p9_op_readlink(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
int p9_op_mkdir(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
int p9_op_symlink(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
int p9_op_mknod(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
int p9_op_link(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
int p9_op_renameat(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
int p9_op_unlinkat(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
// io.c
int p9_op_lopen(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
int p9_op_lcreate(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
int p9_op_read(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
int p9_op_write(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
int p9_op_readdir(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
int p9_op_fsync(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
int p9_op_lock(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
int p9_op_getlock(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
// xattr.c
int p9_op_xattrwalk(struct p9_server *srv, struct p9_fid *f, struct p9_in *in, struct p9_out *out);
int p9_op_xattrcreate(struct p9_server *srv, struct p9_fid *f, struct p9_in *in,
		      struct p9_out *out);
// Tread and Twrite on an xattr fid; Tclunk of a created one sets it on the file.
int p9_xattr_read(struct p9_server *srv, struct p9_xattr *x, uint64_t off, uint32_t count,
		  struct p9_out *out);
int p9_xattr_write(struct p9_xattr *x, uint64_t off, const uint8_t *data, uint32_t count,
		   struct p9_out *out);
int p9_xattr_commit(const struct p9_server *srv, struct p9_fid *f);
