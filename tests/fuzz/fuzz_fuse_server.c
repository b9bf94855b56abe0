// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the FUSE server (virtio-fs), fed a sequence of requests against the share of
// share_fixture.c (symlinks pointing out, a file beside it). After each request every fd the
// server holds must name something beneath the share and the file beside it be untouched; once
// the server is freed, none of its fds (nodes, handles) may be left open.
// An input: a flag byte (bit 0: read-only share; bit 1: a volume's cache policy), then FUSE
// requests as the guest sends them, each taking the length its header claims (clamped).
#include <linux/fuse.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/fuse/server.h"
#include "fuzz.h"
#include "share_fixture.h"

static uint8_t resp[FUSE_BUF_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *root = fixture_begin();
	uint8_t flags = size ? data[0] : 0;
	struct fuse_server *srv;
	if (fuse_server_new(root, NULL, flags & 1, (flags & 2) ? FUSE_CACHE_NONE : FUSE_CACHE_OWNED,
			    &srv) < 0)
		abort();
	// INIT first, so that the input's requests are served.
	struct {
		struct fuse_in_header h;
		struct fuse_init_in in;
	} init = {.h = {.len = sizeof(init), .opcode = FUSE_INIT, .unique = 1},
		  .in = {.major = FUSE_KERNEL_VERSION, .minor = 36, .max_readahead = 65536,
			 .flags = FUSE_DO_READDIRPLUS | FUSE_MAX_PAGES}};
	fuse_server_handle(srv, (const uint8_t *)&init, sizeof(init), resp, sizeof(resp));
	size_t off = size ? 1 : 0;
	while (off + sizeof(struct fuse_in_header) <= size) {
		uint32_t len;
		memcpy(&len, data + off, 4);
		if (len < sizeof(struct fuse_in_header) || len > size - off)
			len = (uint32_t)(size - off);
		fuse_server_handle(srv, data + off, len, resp, sizeof(resp));
		fixture_check();
		off += len;
	}
	fuse_server_free(srv);
	fixture_end();
	return 0;
}
