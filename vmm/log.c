// SPDX-License-Identifier: Apache-2.0
// Error and debug logging, one line per event: on stderr, or in the file an OCI engine names
// (--log), as text or as JSON lines ({"level":"error","msg":...,"time":...}, --log-format json).
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util.h"

bool log_verbose;
bool log_demoted;
int log_fd = -1;
bool log_json;

// One event: "clearvm: [debug: ]TEXT" on stderr, or in log_fd as text or JSON.
static void emit(const char *level, const char *text)
{
	bool debug = !strcmp(level, "debug");
	if (log_fd < 0) {
		fprintf(stderr, "clearvm: %s%s\n", debug ? "debug: " : "", text);
		return;
	}
	if (!log_json) {
		dprintf(log_fd, "clearvm: %s%s\n", debug ? "debug: " : "", text);
		return;
	}
	char msg[1100], *o = msg;
	for (const char *c = text; *c && o < msg + sizeof(msg) - 8; c++) {
		unsigned char u = (unsigned char)*c;
		if (u == '"' || u == '\\')
			o += sprintf(o, "\\%c", u);
		else if (u < 0x20)
			o += sprintf(o, "\\u%04x", u);
		else
			*o++ = (char)u;
	}
	*o = '\0';
	char when[32];
	struct tm tm;
	time_t now = time(NULL);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	dprintf(log_fd, "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n", level, msg, when);
}

int log_err(int err, const char *fmt, ...)
{
	char buf[512], line[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s%s%s", buf, err ? ": " : "", err ? strerror(err < 0 ? -err : err) : "");
	if (!log_demoted || log_verbose) // else said again, if it matters, by what the caller does next
		emit(log_demoted ? "debug" : "error", line);
	return err > 0 ? -err : (err ? err : -EINVAL);
}

void log_msg(const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	emit("info", buf);
}

void log_debug(const char *fmt, ...)
{
	if (!log_verbose)
		return;
	char buf[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	emit("debug", buf);
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

int write_setting(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = write_all(fd, value, strlen(value));
	close(fd);
	return r;
}
