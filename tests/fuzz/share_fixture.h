// SPDX-License-Identifier: Apache-2.0
// The share of the file server fuzz targets (share_fixture.c).
#pragma once

// Before an input: the share's root (made and filled on the first call), with the fds open
// now noted as not the server's.
const char *fixture_begin(void);
// After each request: every fd the server holds names something beneath the share, and the
// file beside it is untouched (else abort).
void fixture_check(void);
// After the server is freed: none of its fds is left open; the share is rebuilt as it was.
void fixture_end(void);
