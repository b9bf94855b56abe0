// SPDX-License-Identifier: Apache-2.0
// guest-init's voice: milestones and the final status on the guest-ABI ports, messages on the
// stderr port (or the kernel log before it is found).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/io.h>
#include <unistd.h>

#include "init.h"

int err_fd = -1;
bool milestones;

void milestone(unsigned char n)
{
	if (milestones)
		outb(n, ABI_MILESTONE_PORT);
}

__attribute__((noreturn)) void report(int status)
{
	sync(); // everything the workload wrote reaches the host before the VM stops
	outl((unsigned)status, ABI_EXIT_PORT);
	for (;;)
		pause();
}

void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	int fd = err_fd >= 0 ? err_fd : open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && write(fd, buf, (size_t)n) < 0) {
		// nowhere else to say it
	}
	if (fd != err_fd && fd >= 0)
		close(fd);
}

__attribute__((noreturn)) void fail(const char *what)
{
	say("clearvm: guest-init: %s: %s", what, strerror(errno));
	report(ABI_STATUS_INIT_FAILED);
}
