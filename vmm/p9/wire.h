// SPDX-License-Identifier: Apache-2.0
// 9P2000.L wire format: a reading cursor and a writing buffer, both with a sticky error, so a
// malformed or truncated message can never be read or written past its end.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define P9_HDR_SIZE 7 // size[4] type[1] tag[2]
#define P9_QID_SIZE 13
#define P9_NOTAG 0xffff
#define P9_NOFID 0xffffffffU

struct p9_qid {
	uint8_t type;
	uint32_t version;
	uint64_t path;
};

struct p9_str {
	const char *s; // not NUL-terminated
	uint16_t len;
};

struct p9_in {
	const uint8_t *buf;
	size_t len, off;
	bool err;
};

struct p9_out {
	uint8_t *buf;
	size_t cap, len;
	bool err;
};

void p9_in_init(struct p9_in *in, const uint8_t *buf, size_t len);
uint8_t p9_get_u8(struct p9_in *in);
uint16_t p9_get_u16(struct p9_in *in);
uint32_t p9_get_u32(struct p9_in *in);
uint64_t p9_get_u64(struct p9_in *in);
struct p9_str p9_get_str(struct p9_in *in);
// Points at the next `len` bytes and skips them; NULL (and sticky error) when short.
const uint8_t *p9_get_bytes(struct p9_in *in, size_t len);

void p9_out_init(struct p9_out *out, uint8_t *buf, size_t cap);
void p9_put_u8(struct p9_out *out, uint8_t v);
void p9_put_u16(struct p9_out *out, uint16_t v);
void p9_put_u32(struct p9_out *out, uint32_t v);
void p9_put_u64(struct p9_out *out, uint64_t v);
void p9_put_str(struct p9_out *out, const char *s, size_t len);
void p9_put_qid(struct p9_out *out, const struct p9_qid *qid);
// Reserves `len` bytes and returns where to write them; NULL (and sticky error) when full.
uint8_t *p9_put_space(struct p9_out *out, size_t len);

// Header of a message: size[4] type[1] tag[2]. p9_parse_hdr checks that size matches len.
struct p9_hdr {
	uint32_t size;
	uint8_t type;
	uint16_t tag;
};
int p9_parse_hdr(struct p9_in *in, struct p9_hdr *hdr);
// Starts a reply (size patched by p9_out_finish) and returns 0, or -ENOSPC when it cannot fit.
void p9_out_begin(struct p9_out *out, uint8_t type, uint16_t tag);
int p9_out_finish(struct p9_out *out);
