// SPDX-License-Identifier: Apache-2.0
// Joining a thread that a single kick may miss: the vCPUs (out of KVM_RUN) and the file
// servers (out of a blocking file operation).
#define _GNU_SOURCE
#include <errno.h>
#include <time.h>

#include "join.h"
#include "util.h"

void join_kicking(pthread_t t, void (*kick)(void *), void *arg)
{
	for (;;) {
		kick(arg);
		struct timespec at;
		clock_gettime(CLOCK_MONOTONIC, &at);
		timespec_add_ms(&at, 20);
		if (pthread_clockjoin_np(t, NULL, CLOCK_MONOTONIC, &at) != ETIMEDOUT)
			return;
	}
}
