// SPDX-License-Identifier: Apache-2.0
// Whole-file reads and writes (files.c).
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

// Writes text to path by renaming a complete new file (path.tmp) into place: a reader never
// sees half. 0 or -errno (logged).
int file_write(const char *path, const char *text);
// Reads a regular file of at most max bytes, NUL-terminated, into *out (malloc'd). 0 or -errno
// (logged).
int file_read(const char *path, size_t max, char **out, size_t *len);
// Reads fd to its end (a pipe, a pseudo-file of /proc or /sys), at most max bytes,
// NUL-terminated, into *out (malloc'd). 0, or -errno (not logged; -EFBIG: longer than max).
int fd_read_all(int fd, size_t max, char **out, size_t *len);
// Removes path and everything beneath it, never following a symlink nor entering another file
// system mounted beneath it (gone already: 0). 0 or -errno (logged).
int file_remove_tree(const char *path);
// a and b name the same file (device and inode; a namespace's: the same namespace).
bool file_same(const char *a, const char *b);
// mkdir -p: path and its missing parents with mode (existing ones are left as they are). 0 or
// -errno (logged).
int file_mkdir_p(const char *path, mode_t mode);
