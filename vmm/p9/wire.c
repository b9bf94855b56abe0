// SPDX-License-Identifier: Apache-2.0
// 9P2000.L little-endian encoding and decoding through bounded cursors.
#include <errno.h>
#include <string.h>

#include "wire.h"

void p9_in_init(struct p9_in *in, const uint8_t *buf, size_t len)
{
	in->buf = buf;
	in->len = len;
	in->off = 0;
	in->err = false;
}

const uint8_t *p9_get_bytes(struct p9_in *in, size_t len)
{
	if (in->err || len > in->len - in->off) {
		in->err = true;
		return NULL;
	}
	const uint8_t *p = in->buf + in->off;
	in->off += len;
	return p;
}

static uint64_t get_le(struct p9_in *in, unsigned n)
{
	const uint8_t *p = p9_get_bytes(in, n);
	uint64_t v = 0;
	if (!p)
		return 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

uint8_t p9_get_u8(struct p9_in *in)
{
	return (uint8_t)get_le(in, 1);
}
uint16_t p9_get_u16(struct p9_in *in)
{
	return (uint16_t)get_le(in, 2);
}
uint32_t p9_get_u32(struct p9_in *in)
{
	return (uint32_t)get_le(in, 4);
}
uint64_t p9_get_u64(struct p9_in *in)
{
	return get_le(in, 8);
}

struct p9_str p9_get_str(struct p9_in *in)
{
	struct p9_str s = {"", 0};
	uint16_t len = p9_get_u16(in);
	const uint8_t *p = p9_get_bytes(in, len);
	if (p) {
		s.s = (const char *)p;
		s.len = len;
	}
	return s;
}

void p9_out_init(struct p9_out *out, uint8_t *buf, size_t cap)
{
	out->buf = buf;
	out->cap = cap;
	out->len = 0;
	out->err = false;
}

uint8_t *p9_put_space(struct p9_out *out, size_t len)
{
	if (out->err || len > out->cap - out->len) {
		out->err = true;
		return NULL;
	}
	uint8_t *p = out->buf + out->len;
	out->len += len;
	return p;
}

static void put_le(struct p9_out *out, uint64_t v, unsigned n)
{
	uint8_t *p = p9_put_space(out, n);
	if (!p)
		return;
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void p9_put_u8(struct p9_out *out, uint8_t v)
{
	put_le(out, v, 1);
}
void p9_put_u16(struct p9_out *out, uint16_t v)
{
	put_le(out, v, 2);
}
void p9_put_u32(struct p9_out *out, uint32_t v)
{
	put_le(out, v, 4);
}
void p9_put_u64(struct p9_out *out, uint64_t v)
{
	put_le(out, v, 8);
}

void p9_put_str(struct p9_out *out, const char *s, size_t len)
{
	if (len > UINT16_MAX) {
		out->err = true;
		return;
	}
	p9_put_u16(out, (uint16_t)len);
	uint8_t *p = p9_put_space(out, len);
	if (p && len)
		memcpy(p, s, len);
}

void p9_put_qid(struct p9_out *out, const struct p9_qid *qid)
{
	p9_put_u8(out, qid->type);
	p9_put_u32(out, qid->version);
	p9_put_u64(out, qid->path);
}

int p9_parse_hdr(struct p9_in *in, struct p9_hdr *hdr)
{
	hdr->size = p9_get_u32(in);
	hdr->type = p9_get_u8(in);
	hdr->tag = p9_get_u16(in);
	if (in->err || hdr->size != in->len)
		return -EBADMSG;
	return 0;
}

void p9_out_begin(struct p9_out *out, uint8_t type, uint16_t tag)
{
	out->len = 0;
	out->err = false;
	p9_put_u32(out, 0);
	p9_put_u8(out, type);
	p9_put_u16(out, tag);
}

int p9_out_finish(struct p9_out *out)
{
	if (out->err || out->len > UINT32_MAX)
		return -ENOSPC;
	uint32_t size = (uint32_t)out->len;
	for (unsigned i = 0; i < 4; i++)
		out->buf[i] = (uint8_t)(size >> (8 * i));
	return 0;
}
