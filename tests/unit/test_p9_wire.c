// SPDX-License-Identifier: Apache-2.0
// 9p wire decoding: every read is bounded by the message, every write by the buffer.
#include <errno.h>
#include <stdbool.h>

#include "../harness/tap.h"
#include "../../vmm/p9/server.h"
#include "../../vmm/p9/wire.h"

int main(void)
{
	struct p9_in in;
	uint8_t msg[] = {0x0b, 0, 0, 0, 100, 0xff, 0xff, 1, 2, 3, 4};
	struct p9_hdr h;
	p9_in_init(&in, msg, sizeof(msg));
	is(p9_parse_hdr(&in, &h), 0, "a header whose size matches");
	ok(h.type == 100 && h.tag == 0xffff, "type and tag");
	is(p9_get_u32(&in), 0x04030201, "little-endian u32");
	ok(!in.err, "no error reading inside the message");
	p9_get_u8(&in);
	ok(in.err, "reading one byte past the end sets the error");
	is(p9_get_u32(&in), 0, "and it sticks: later reads give zero");

	p9_in_init(&in, msg, sizeof(msg) - 1);
	is(p9_parse_hdr(&in, &h), -EBADMSG, "a truncated message (size says more than there is)");
	p9_in_init(&in, msg, 3);
	is(p9_parse_hdr(&in, &h), -EBADMSG, "a message shorter than a header");

	uint8_t s[] = {0xff, 0xff, 'a', 'b', 'c'}; // claims 65535 bytes, has 3
	p9_in_init(&in, s, sizeof(s));
	struct p9_str str = p9_get_str(&in);
	ok(in.err && str.len == 0, "a string length of 0xFFFF with 3 bytes behind it");
	uint8_t s0[] = {0, 0};
	p9_in_init(&in, s0, sizeof(s0));
	str = p9_get_str(&in);
	ok(!in.err && str.len == 0, "an empty string is fine");

	uint8_t buf[16];
	struct p9_out out;
	p9_out_init(&out, buf, sizeof(buf));
	p9_put_u64(&out, 1);
	p9_put_u64(&out, 2);
	ok(!out.err && out.len == 16, "writing exactly up to capacity");
	p9_put_u8(&out, 3);
	ok(out.err && out.len == 16, "one more byte sets the error, writes nothing");
	p9_out_init(&out, buf, sizeof(buf));
	p9_put_str(&out, "0123456789abcdef", 16);
	ok(out.err, "a string that does not fit");

	// The server answers malformed requests with Rlerror, never by reading past them.
	struct p9_server *srv;
	is(p9_server_new("/", NULL, true, &srv), 0, "server on /");
	uint8_t resp[P9_MSIZE_MAX];
	uint8_t trunc[] = {20, 0, 0, 0, 110, 1, 0, 0, 0}; // Twalk claiming 20 bytes, has 9
	size_t n = p9_server_handle(srv, trunc, sizeof(trunc), resp, sizeof(resp));
	ok(n == 11 && resp[4] == 7, "truncated Twalk: Rlerror");
	uint8_t bigstr[] = {15, 0, 0, 0, 100, 0xff, 0xff, 0, 0, 1, 0, 0xff, 0xff, 'x', 'y'};
	n = p9_server_handle(srv, bigstr, sizeof(bigstr), resp, sizeof(resp));
	ok(n == 11 && resp[4] == 7, "Tversion with a 0xFFFF string length: Rlerror");
	uint8_t unknown[] = {7, 0, 0, 0, 200, 1, 0};
	n = p9_server_handle(srv, unknown, sizeof(unknown), resp, sizeof(resp));
	ok(n == 11 && resp[4] == 7 && resp[5] == 1, "an unknown message type: Rlerror with its tag");
	p9_server_free(srv);
	return tap_done();
}
