// SPDX-License-Identifier: Apache-2.0
// Small whole-file reads and writes for the state files rkt and OCI engines read.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "util.h"

// Writes `text` to path by renaming a complete new file into place: a reader never sees half.
int file_write(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return log_err(errno, "%s", tmp);
	int r = write_all(fd, text, strlen(text));
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	return r < 0 ? log_err(r, "%s", path) : 0;
}

int file_read(const char *path, size_t max, char **out, size_t *len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return log_err(errno, "%s", path);
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max)
		return log_err(EINVAL, "%s: not a regular file of at most %zu bytes", path, max);
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	ssize_t n = read(fd, buf, (size_t)st.st_size);
	if (n != st.st_size) {
		free(buf);
		return log_err(n < 0 ? errno : EIO, "reading %s", path);
	}
	buf[n] = '\0';
	*out = buf;
	*len = (size_t)n;
	return 0;
}

int fd_read_all(int fd, size_t max, char **out, size_t *len)
{
	size_t have = 0, room = 4096;
	char *buf = malloc(room + 1);
	while (buf) {
		if (have == room) {
			char *more = room <= max ? realloc(buf, 2 * room + 1) : NULL;
			if (!more)
				break;
			buf = more;
			room *= 2;
		}
		ssize_t n = read(fd, buf + have, room - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			return -e;
		}
		if (n == 0) {
			if (have > max)
				break;
			buf[have] = '\0';
			*out = buf;
			*len = have;
			return 0;
		}
		have += (size_t)n;
	}
	bool big = buf != NULL;
	free(buf);
	return big ? -EFBIG : -ENOMEM;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (type == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

int file_remove_tree(const char *path)
{
	if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 && errno != ENOENT)
		return log_err(errno, "removing %s", path);
	return 0;
}

int file_mkdir_p(const char *path, mode_t mode)
{
	char dir[PATH_MAX];
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return log_err(ENAMETOOLONG, "%s", path);
	for (char *p = dir + 1; (p = strchr(p, '/')); *p++ = '/') {
		*p = '\0';
		if (mkdir(dir, mode) < 0 && errno != EEXIST)
			return log_err(errno, "%s", dir);
	}
	if (mkdir(dir, mode) < 0 && errno != EEXIST)
		return log_err(errno, "%s", dir);
	return 0;
}

bool file_same(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
