// SPDX-License-Identifier: Apache-2.0
// A tiny TAP producer for the unit tests: ok()/is() lines, a plan at the end, exit 1 on failure.
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                                          \
	do {                                                                                   \
		tap_n++;                                                                       \
		bool tap_c_ = (cond);                                                          \
		if (!tap_c_)                                                                   \
			tap_failed++;                                                          \
		printf("%sok %d - ", tap_c_ ? "" : "not ", tap_n);                             \
		printf(__VA_ARGS__);                                                           \
		printf("\n");                                                                  \
		if (!tap_c_)                                                                   \
			printf("# failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);          \
	} while (0)

#define is(got, want, ...)                                                                     \
	do {                                                                                   \
		long long tap_g_ = (long long)(got), tap_w_ = (long long)(want);               \
		ok(tap_g_ == tap_w_, __VA_ARGS__);                                             \
		if (tap_g_ != tap_w_)                                                          \
			printf("#   got %lld, want %lld\n", tap_g_, tap_w_);                        \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
