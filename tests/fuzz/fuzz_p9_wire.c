// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the 9p decoder alone. The input is a count of fields, a script of field kinds
// and a message; the message's header is parsed, then the fields are read in the script's
// order. Whatever the bytes: no read leaves the message, an error is sticky and reads nothing
// more, and the fields read whole, encoded again by the writer, give back exactly their bytes.
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/p9/wire.h"
#include "../../vmm/util.h"
#include "fuzz.h"

#define MAX_FIELDS 64

static bool within(const struct p9_in *in, const uint8_t *p, size_t len)
{
	return p >= in->buf && (size_t)(p - in->buf) <= in->len && len <= in->len - (size_t)(p - in->buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t nfields = MIN((size_t)data[0], MAX_FIELDS);
	if (size < 1 + nfields)
		return 0;
	const uint8_t *script = data + 1;
	const uint8_t *msg = data + 1 + nfields;
	size_t len = size - 1 - nfields;

	struct p9_in in;
	p9_in_init(&in, msg, len);
	struct p9_hdr h;
	int r = p9_parse_hdr(&in, &h);
	if (r == 0 && h.size != len)
		abort(); // a header accepted for a message of another length
	if (r < 0)
		return 0;

	static uint8_t again[1 << 17];
	struct p9_out out;
	p9_out_init(&out, again, sizeof(again));
	p9_put_u32(&out, h.size);
	p9_put_u8(&out, h.type);
	p9_put_u16(&out, h.tag);
	size_t good = in.off; // the end of the last field read whole
	for (size_t i = 0; i < nfields; i++) {
		bool was_err = in.err;
		size_t off = in.off;
		switch (script[i] % 6) {
		case 0: {
			uint8_t v = p9_get_u8(&in);
			if (!in.err)
				p9_put_u8(&out, v);
			else if (v)
				abort();
			break;
		}
		case 1: {
			uint16_t v = p9_get_u16(&in);
			if (!in.err)
				p9_put_u16(&out, v);
			else if (v)
				abort();
			break;
		}
		case 2: {
			uint32_t v = p9_get_u32(&in);
			if (!in.err)
				p9_put_u32(&out, v);
			else if (v)
				abort();
			break;
		}
		case 3: {
			uint64_t v = p9_get_u64(&in);
			if (!in.err)
				p9_put_u64(&out, v);
			else if (v)
				abort();
			break;
		}
		case 4: {
			struct p9_str s = p9_get_str(&in);
			if (!in.err) {
				if (!within(&in, (const uint8_t *)s.s, s.len))
					abort(); // a string that points outside the message
				p9_put_str(&out, s.s, s.len);
			} else if (s.len) {
				abort();
			}
			break;
		}
		case 5: {
			size_t n = script[i] / 6;
			const uint8_t *p = p9_get_bytes(&in, n);
			if (p) {
				if (in.err || !within(&in, p, n))
					abort();
				memcpy(p9_put_space(&out, n), p, n);
			} else if (!in.err) {
				abort(); // NULL without the error flag
			}
			break;
		}
		}
		if (in.off > in.len || (was_err && (!in.err || in.off != off)))
			abort(); // read past the end, or read again after an error
		if (!in.err)
			good = in.off;
	}
	// Encoded again, the fields read whole are exactly the bytes they came from.
	if (out.err || out.len != good || memcmp(again, msg, good))
		abort();
	return 0;
}
