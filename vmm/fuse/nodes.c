// SPDX-License-Identifier: Apache-2.0
// The FUSE server's tables: nodes (each file the guest holds a lookup of, one per host inode,
// found again by its device and inode number) and handles (open files and directories).
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "ops.h"

#define NBUCKETS 16384U

static uint32_t bucket_of(dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t)ino ^ ((uint64_t)dev << 32)) * 0x9e3779b97f4a7c15ULL;
	return (uint32_t)(h >> 50) % NBUCKETS;
}

static struct fuse_node *find(struct fuse_server *srv, dev_t dev, ino_t ino)
{
	for (uint32_t i = srv->buckets[bucket_of(dev, ino)]; i; i = srv->nodes[i - 1].next)
		if (srv->nodes[i - 1].dev == dev && srv->nodes[i - 1].ino == ino)
			return &srv->nodes[i - 1];
	return NULL;
}

static void unhash(struct fuse_server *srv, struct fuse_node *n)
{
	uint32_t *link = &srv->buckets[bucket_of(n->dev, n->ino)];
	uint32_t me = (uint32_t)(n - srv->nodes) + 1;
	while (*link && *link != me)
		link = &srv->nodes[*link - 1].next;
	if (*link)
		*link = n->next;
}

// A free slot, or NULL past FUSE_MAX_NODES. The table never moves (the operations hold node
// pointers across lookups): allocated whole, its pages are touched only as slots are used.
static struct fuse_node *new_slot(struct fuse_server *srv)
{
	if (srv->nfree)
		return &srv->nodes[srv->free_slots[--srv->nfree]];
	if (srv->nodes_len == FUSE_MAX_NODES)
		return NULL;
	return &srv->nodes[srv->nodes_len++];
}

struct fuse_node *fuse_node_lookup(struct fuse_server *srv, int fd, const struct stat *st)
{
	struct fuse_node *n = find(srv, st->st_dev, st->st_ino);
	if (n && (st->st_mode & S_IFMT) == n->type) {
		close(fd); // the guest's node keeps its first fd
		n->nlookup++;
		return n;
	}
	if (n) // the inode number came back as another file: the old node is stale
		unhash(srv, n);
	if (!(n = new_slot(srv))) {
		close(fd);
		return NULL;
	}
	*n = (struct fuse_node){.fd = fd, .dev = st->st_dev, .ino = st->st_ino,
				.type = st->st_mode & S_IFMT, .nlookup = 1, .gen = ++srv->gen, .used = true};
	uint32_t *b = &srv->buckets[bucket_of(n->dev, n->ino)];
	n->next = *b;
	*b = (uint32_t)(n - srv->nodes) + 1;
	return n;
}

int fuse_nodes_init(struct fuse_server *srv, int root_fd)
{
	srv->buckets = calloc(NBUCKETS, sizeof(*srv->buckets));
	srv->nodes = calloc(FUSE_MAX_NODES, sizeof(*srv->nodes));
	srv->free_slots = calloc(FUSE_MAX_NODES, sizeof(*srv->free_slots));
	for (unsigned i = 0; i < FUSE_MAX_HANDLES; i++)
		srv->handles[i].fd = -1;
	if (!srv->buckets || !srv->nodes || !srv->free_slots)
		return -ENOMEM;
	struct stat st;
	int fd = confine_dup(root_fd);
	if (fd < 0)
		return fd;
	if (confine_stat(fd, &st) < 0 || !fuse_node_lookup(srv, fd, &st))
		return -ENOMEM; // the first slot: index 0, nodeid FUSE_ROOT_ID
	return 0;
}

void fuse_nodes_free(struct fuse_server *srv)
{
	for (uint32_t i = 0; i < srv->nodes_len; i++)
		if (srv->nodes[i].used)
			close(srv->nodes[i].fd);
	for (unsigned i = 0; i < srv->handles_len; i++)
		if (srv->handles[i].fd >= 0)
			close(srv->handles[i].fd);
	free(srv->nodes);
	free(srv->free_slots);
	free(srv->buckets);
}

struct fuse_node *fuse_node_get(struct fuse_server *srv, uint64_t nodeid)
{
	if (nodeid == 0 || nodeid > srv->nodes_len || !srv->nodes[nodeid - 1].used)
		return NULL;
	return &srv->nodes[nodeid - 1];
}

uint64_t fuse_node_id(const struct fuse_server *srv, const struct fuse_node *n)
{
	return (uint64_t)(n - srv->nodes) + 1;
}

void fuse_node_forget(struct fuse_server *srv, uint64_t nodeid, uint64_t nlookup)
{
	struct fuse_node *n = fuse_node_get(srv, nodeid);
	if (!n || nodeid == FUSE_ROOT_ID)
		return; // the root is held for the whole session
	n->nlookup = nlookup < n->nlookup ? n->nlookup - nlookup : 0;
	if (n->nlookup)
		return;
	unhash(srv, n);
	close(n->fd);
	n->used = false;
	n->fd = -1;
	srv->free_slots[srv->nfree++] = (uint32_t)(n - srv->nodes);
}

int fuse_handle_add(struct fuse_server *srv, int fd, bool dir)
{
	uint32_t i;
	if (srv->nfree_handles)
		i = srv->free_handles[--srv->nfree_handles];
	else if (srv->handles_len < FUSE_MAX_HANDLES)
		i = srv->handles_len++;
	else {
		close(fd);
		return -EMFILE;
	}
	srv->handles[i] = (struct fuse_handle){.fd = fd, .dir = dir};
	return (int)i;
}

int fuse_handle_fd(const struct fuse_server *srv, uint64_t fh, bool dir)
{
	if (fh >= FUSE_MAX_HANDLES || srv->handles[fh].fd < 0 || srv->handles[fh].dir != dir)
		return -EBADF;
	return srv->handles[fh].fd;
}

int fuse_handle_close(struct fuse_server *srv, uint64_t fh, bool dir)
{
	int fd = fuse_handle_fd(srv, fh, dir);
	if (fd < 0)
		return fd;
	close(fd);
	srv->handles[fh].fd = -1;
	srv->free_handles[srv->nfree_handles++] = (uint16_t)fh;
	return 0;
}
