// SPDX-License-Identifier: Apache-2.0
// A FUSE file server (the protocol virtio-fs carries) confined to one host directory by the
// 9p server's confinement kernel (p9/confine.c). Knows nothing of virtio or KVM.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FUSE_MAX_WRITE (512U * 1024U) // the largest READ or WRITE the guest may ask (and reads ahead)
#define FUSE_BUF_MAX (FUSE_MAX_WRITE + 4096U) // the largest request or reply, headers included
#define FUSE_MAX_HANDLES 4096U // files and directories the guest may hold open at once

struct fuse_server;

// How long the guest may trust what it was told (names, attributes, file pages). A share the
// container owns (its root) is changed only through this server, so long times are safe; a
// volume a live host may change keeps none.
enum fuse_cache { FUSE_CACHE_NONE, FUSE_CACHE_OWNED };

// Opens `root` (a directory) as the share; `fd_dir` as for p9_server_new. 0 or -errno.
int fuse_server_new(const char *root, const char *fd_dir, bool readonly, enum fuse_cache cache,
		    struct fuse_server **out);
void fuse_server_free(struct fuse_server *srv);
// Handles one request of len bytes and writes its reply into resp[0, cap): the reply's length,
// or 0 for a request that has none (FORGET, BATCH_FORGET, INTERRUPT). A request that fails,
// malformed ones included, gets a reply with its error.
size_t fuse_server_handle(struct fuse_server *srv, const uint8_t *req, size_t len, uint8_t *resp,
			  size_t cap);
