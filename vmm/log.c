// SPDX-License-Identifier: Apache-2.0
// Error and debug logging to stderr, one line per event.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

bool log_verbose;
bool log_demoted;

int log_err(int err, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_demoted && !log_verbose)
		; // said again, if it matters, by what the caller does next
	else if (log_demoted)
		fprintf(stderr, "clearvm: debug: %s%s%s\n", buf, err ? ": " : "", err ? strerror(err < 0 ? -err : err) : "");
	else if (err)
		fprintf(stderr, "clearvm: %s: %s\n", buf, strerror(err < 0 ? -err : err));
	else
		fprintf(stderr, "clearvm: %s\n", buf);
	return err > 0 ? -err : (err ? err : -EINVAL);
}

void log_msg(const char *fmt, ...)
{
	va_list ap;
	fputs("clearvm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void log_debug(const char *fmt, ...)
{
	if (!log_verbose)
		return;
	va_list ap;
	fputs("clearvm: debug: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
