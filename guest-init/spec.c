// SPDX-License-Identifier: Apache-2.0
// The launch spec: from the initramfs (a cold boot) or from the "spec" port (a VM restored from
// a template, which also takes the host's clock and fresh randomness from it).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

void *read_spec(size_t *size)
{
	int fd = open(ABI_SPEC_PATH, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		fail("launch spec " ABI_SPEC_PATH);
	void *buf = malloc((size_t)st.st_size + 1);
	if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size)
		fail("reading the launch spec");
	close(fd);
	*size = (size_t)st.st_size;
	return buf;
}

// A template boot (no spec in the initramfs): open the "spec" port and tell the VMM we are
// ready, which saves the VM right here. Only VMs restored from it go on: their spec comes on
// that port, to EOF.
void *wait_for_spec(size_t *size)
{
	int fd = open_port("spec", O_RDONLY);
	if (fd < 0)
		fail("the spec port");
	outb(ABI_MILESTONE_TEMPLATE, ABI_MILESTONE_PORT);
	// The FDT says its own size (big-endian, bytes 4-7): read that much, or to EOF when the
	// host sends less.
	size_t cap = 65536, len = 0, want = SIZE_MAX;
	unsigned char *buf = malloc(cap);
	while (len < want) {
		if (!buf)
			fail("memory for the launch spec");
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("reading the launch spec");
		if (n == 0)
			break;
		len += (size_t)n;
		if (want == SIZE_MAX && len >= 8)
			want = (size_t)buf[4] << 24 | (size_t)buf[5] << 16 | (size_t)buf[6] << 8 | buf[7];
		if (len == cap)
			buf = realloc(buf, cap *= 2);
	}
	close(fd);
	*size = len;
	return buf;
}

// A restored VM: the host's time (the guest's clock stopped when the template was saved), and
// fresh randomness (every VM from the template starts with the template's pool). Returns
// what failed, or NULL.
const char *apply_restore(const struct launch_spec *ls)
{
	if (ls->realtime) {
		struct timespec ts = {.tv_sec = (time_t)(ls->realtime_ns / 1000000000),
				      .tv_nsec = (long)(ls->realtime_ns % 1000000000)};
		if (clock_settime(CLOCK_REALTIME, &ts) < 0)
			return "setting the clock";
	}
	if (!ls->seed_len)
		return NULL;
	struct {
		struct rand_pool_info info;
		unsigned char buf[256];
	} e;
	if (ls->seed_len > sizeof(e.buf))
		return "the random seed";
	e.info.entropy_count = (int)(ls->seed_len * 8);
	e.info.buf_size = (int)ls->seed_len;
	memcpy(e.buf, ls->seed, ls->seed_len);
	int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
	const char *err = NULL;
	if (fd < 0 || ioctl(fd, RNDADDENTROPY, &e) < 0 || ioctl(fd, RNDRESEEDCRNG) < 0)
		err = "reseeding the random pool";
	if (fd >= 0)
		close(fd);
	return err;
}
