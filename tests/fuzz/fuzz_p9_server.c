// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the 9p server, fed a sequence of requests against a temporary share (a small tree
// with symlinks that point out, rebuilt for every input). After
// each request every fd the server holds must still name something beneath the share, and a
// file beside the share must be untouched: whatever the guest sends, it stays inside.
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/p9/proto.h"
#include "../../vmm/p9/server.h"
#include "../../vmm/p9/wire.h"
#include "fuzz.h"
#include "share_fixture.h"

#define MSIZE 8192

static size_t handle(struct p9_server *srv, const uint8_t *req, size_t len)
{
	static uint8_t resp[P9_MSIZE_MAX];
	return p9_server_handle(srv, req, len, resp, sizeof(resp));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *root = fixture_begin();
	struct p9_server *srv;
	if (p9_server_new(root, NULL, size && (data[0] & 1), &srv) < 0)
		abort();
	// Version and attach first, so the input starts with a usable fid 0 at the share's root.
	static uint8_t req[MSIZE];
	struct p9_out w;
	p9_out_init(&w, req, sizeof(req));
	p9_out_begin(&w, P9_TVERSION, 0xffff);
	p9_put_u32(&w, MSIZE);
	p9_put_str(&w, "9P2000.L", 8);
	p9_out_finish(&w);
	handle(srv, req, w.len);
	p9_out_init(&w, req, sizeof(req));
	p9_out_begin(&w, P9_TATTACH, 1);
	p9_put_u32(&w, 0);
	p9_put_u32(&w, P9_NOFID);
	p9_put_str(&w, "root", 4);
	p9_put_str(&w, "", 0);
	p9_put_u32(&w, 0);
	p9_out_finish(&w);
	handle(srv, req, w.len);
	// Then the input as requests, each taking the length its own size field claims (clamped).
	size_t off = size ? 1 : 0;
	while (off + 7 <= size) {
		uint32_t len;
		memcpy(&len, data + off, 4);
		if (len < 7 || len > size - off)
			len = (uint32_t)(size - off);
		handle(srv, data + off, len);
		fixture_check();
		off += len;
	}
	p9_server_free(srv);
	fixture_end();
	return 0;
}
