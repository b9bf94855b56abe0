// SPDX-License-Identifier: Apache-2.0
// Inside the FUSE server: its state, the node and handle tables (nodes.c), and the operations,
// by room: server.c (session and dispatch), tree.c (names and attributes), io.c (open files,
// directories and extended attributes). Only p9/confine.c names files to the host kernel.
#pragma once

#include <linux/fuse.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../p9/confine.h"
#include "../p9/wire.h"
#include "server.h"

#define FUSE_MAX_COPY (64U << 20) // bytes a COPY_FILE_RANGE copies at most (the server is busy meanwhile)
#define FUSE_MAX_NODES 65536U  // nodes the guest may hold at once: bounds the server's fds

// A node: a file the guest has looked up (nodeid = index + 1; the root is nodeid 1), held by
// an O_PATH fd that is never followed, until the guest forgets every lookup of it.
struct fuse_node {
	int fd;
	dev_t dev;
	ino_t ino;
	mode_t type;
	uint64_t nlookup;
	uint64_t gen;  // bumped each time the slot is used again
	uint32_t next; // hash chain: index + 1 of the next node, 0 at the end
	bool used;
};

struct fuse_handle {
	int fd; // -1: free
	bool dir;
};

struct fuse_server {
	struct p9_share share;
	bool readonly;
	enum fuse_cache cache;
	bool inited;
	struct fuse_node *nodes;
	uint32_t nodes_len; // slots used so far (of FUSE_MAX_NODES)
	uint32_t *buckets;		// (dev, ino) hash: index + 1 of the first node, 0 none
	uint32_t *free_slots, nfree;
	uint64_t gen;
	struct fuse_handle handles[FUSE_MAX_HANDLES];
	uint32_t handles_len; // slots used so far (of FUSE_MAX_HANDLES)
	uint16_t free_handles[FUSE_MAX_HANDLES]; // slots closed since, to use again
	uint32_t nfree_handles;
};

// A request being served: its header, the rest of its bytes, and the reply's body.
struct fuse_req {
	const struct fuse_in_header *h;
	struct p9_in in;
	struct p9_out *out;
};

typedef int (*fuse_op)(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);

// nodes.c
int fuse_nodes_init(struct fuse_server *srv, int root_fd);
void fuse_nodes_free(struct fuse_server *srv);
// The node of nodeid, or NULL.
struct fuse_node *fuse_node_get(struct fuse_server *srv, uint64_t nodeid);
uint64_t fuse_node_id(const struct fuse_server *srv, const struct fuse_node *n);
// The node of the file of O_PATH fd (taken: kept or closed) with stat st, found or made, with
// one more lookup. The node or NULL (-ENFILE past the bound).
struct fuse_node *fuse_node_lookup(struct fuse_server *srv, int fd, const struct stat *st);
void fuse_node_forget(struct fuse_server *srv, uint64_t nodeid, uint64_t nlookup);
// A new handle holding fd (taken): its number, or -EMFILE (fd closed).
int fuse_handle_add(struct fuse_server *srv, int fd, bool dir);
// The fd of handle fh (a directory's when dir), or -EBADF.
int fuse_handle_fd(const struct fuse_server *srv, uint64_t fh, bool dir);
int fuse_handle_close(struct fuse_server *srv, uint64_t fh, bool dir);

// Shared by the operations (server.c).
// Copies the next size bytes of the request into dst: 0, or -EINVAL when short.
int fuse_take(struct fuse_req *r, void *dst, size_t size);
// The next NUL-terminated name of the request, checked by confine_name: 0 or -EINVAL.
int fuse_take_name(struct fuse_req *r, char name[NAME_MAX + 1]);
// The next NUL-terminated string (a symlink's target): it, or NULL when unterminated.
const char *fuse_take_str(struct fuse_req *r);
int fuse_put(struct fuse_req *r, const void *src, size_t size);
void fuse_fill_attr(const struct fuse_server *srv, const struct stat *st, struct fuse_attr *a);
// A name just made in directory d becomes the caller's (when the server may give files away),
// its group the directory's when that is set-group-ID, as a local file system does.
void fuse_give(struct fuse_node *d, const char *name, const struct fuse_req *r);
// The entry of name in directory node d, looked up: its node gets one more lookup.
int fuse_reply_entry(struct fuse_server *srv, struct fuse_node *d, const char *name,
		     struct fuse_req *r);
// The guest's view of the times it may cache what it was told.
void fuse_timeout(const struct fuse_server *srv, uint64_t *sec, uint32_t *nsec);

// tree.c
int fuse_op_lookup(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_getattr(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_setattr(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_readlink(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_symlink(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_mknod(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_mkdir(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_unlink(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_rmdir(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_rename(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_rename2(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_link(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_statfs(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
// io.c
int fuse_op_open(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_opendir(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_create(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_read(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_write(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_release(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_releasedir(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_fsync(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_fsyncdir(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_readdir(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_readdirplus(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_fallocate(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_lseek(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_copy_file_range(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_getxattr(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_listxattr(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_setxattr(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
int fuse_op_removexattr(struct fuse_server *srv, struct fuse_node *n, struct fuse_req *r);
