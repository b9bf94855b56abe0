// SPDX-License-Identifier: Apache-2.0
// A 9P2000.L file server confined to one host directory. Knows nothing of virtio or KVM.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define P9_MSIZE_MAX (512U * 1024U) // the largest msize the server agrees to

struct p9_server;

// Opens `root` (which must be a directory) as the share. `fd_dir` is where the calling thread
// sees the process's own fd links (NULL: /proc/self/fd). 0 or -errno.
int p9_server_new(const char *root, const char *fd_dir, bool readonly, struct p9_server **out);
void p9_server_free(struct p9_server *srv);
// Handles one request of `len` bytes; writes the reply (an Rlerror when the request fails)
// into resp[0, cap) and returns its length. cap must be at least the negotiated msize.
size_t p9_server_handle(struct p9_server *srv, const uint8_t *req, size_t len, uint8_t *resp,
			size_t cap);
