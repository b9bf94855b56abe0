// SPDX-License-Identifier: Apache-2.0
// A tiny TAP producer for the unit tests: ok()/is()/is_str() lines (a failure prints the values
// and where), a plan at the end, exit 1 on failure.
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

#define is_str(got, want, ...)                                                                 \
	do {                                                                                   \
		const char *tap_gs_ = (got), *tap_ws_ = (want);                                \
		bool tap_same_ = tap_gs_ && tap_ws_ ? !strcmp(tap_gs_, tap_ws_) : tap_gs_ == tap_ws_; \
		ok(tap_same_, __VA_ARGS__);                                                    \
		if (!tap_same_)                                                                \
			printf("#   got \"%s\", want \"%s\"\n", tap_gs_ ? tap_gs_ : "(null)",        \
			       tap_ws_ ? tap_ws_ : "(null)");                                  \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
