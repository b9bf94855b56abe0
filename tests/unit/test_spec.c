// SPDX-License-Identifier: Apache-2.0
// The launch spec: argv and env of any bytes survive the FDT, and the cpio is well formed.
#define _GNU_SOURCE
#include <errno.h>
#include <libfdt.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../harness/tap.h"
#include "../../guest-init/abi.h"
#include "../../vmm/spec.h"

int main(void)
{
	static char big[100000];
	memset(big, 'z', sizeof(big) - 1);
	char *argv[] = {"/bin/sh", "-c", "echo 'a b'\n\t$x", big, "", NULL};
	char *env[] = {"PATH=/bin", "WEIRD=\x01\xff=\n", NULL};
	struct vm_config cfg = {.argv = argv, .env = env, .nenv = 2, .workdir = "/work dir",
				.hostname = "web-1", .uid = 1000, .gid = 100, .groups = {100, 27}, .ngroups = 2,
				.read_only = true, .interactive = true, .nvolumes = 1,
				.volumes = {{.host = "/srv", .guest = "/data", .readonly = true}}};

	void *fdt;
	size_t size;
	is(spec_build_fdt(&cfg, &fdt, &size), 0, "spec built");
	is(fdt_check_full(fdt, size), 0, "a valid FDT");
	int len;
	const char *p = fdt_getprop(fdt, 0, "argv", &len);
	ok(p != NULL, "argv present");
	bool same = p != NULL;
	int off = 0;
	for (int i = 0; argv[i] && same; i++) {
		same = off < len && !strcmp(p + off, argv[i]);
		off += (int)strlen(argv[i]) + 1;
	}
	ok(same && off == len, "argv: every string exactly, newlines, quotes, an empty one and 100000 bytes");
	is(fdt_stringlist_count(fdt, 0, "env"), 2, "two env entries");
	ok(!strcmp(fdt_stringlist_get(fdt, 0, "env", 1, NULL), "WEIRD=\x01\xff=\n"), "env bytes kept");
	ok(!strcmp(fdt_getprop(fdt, 0, "cwd", NULL), "/work dir"), "cwd");
	ok(!strcmp(fdt_getprop(fdt, 0, "root-tag", NULL), ABI_ROOT_TAG), "root tag");
	ok(!strcmp(fdt_getprop(fdt, 0, "hostname", NULL), "web-1"), "hostname");
	const fdt32_t *u = fdt_getprop(fdt, 0, "uid", NULL);
	const fdt32_t *g = fdt_getprop(fdt, 0, "groups", &len);
	ok(u && fdt32_to_cpu(*u) == 1000 && g && len == 8 && fdt32_to_cpu(g[1]) == 27, "uid and groups");
	ok(fdt_getprop(fdt, 0, "root-readonly", NULL) && fdt_getprop(fdt, 0, "stdin", NULL),
	   "read-only root and stdin flags");
	int vol = fdt_subnode_offset(fdt, 0, "volume@0");
	ok(vol >= 0 && !strcmp(fdt_getprop(fdt, vol, "target", NULL), "/data") &&
	   !strcmp(fdt_getprop(fdt, vol, "tag", NULL), ABI_VOLUME_TAG "0") &&
	   fdt_getprop(fdt, vol, "readonly", NULL), "a volume node: tag, target, read-only");

	ok(!fdt_getprop(fdt, 0, "tty", NULL) && !fdt_getprop(fdt, 0, "tty-size", NULL), "no tty unless -t");
	free(fdt);
	cfg.tty = true;
	cfg.tty_rows = 24;
	cfg.tty_cols = 80;
	is(spec_build_fdt(&cfg, &fdt, &size), 0, "spec with -t built");
	const fdt32_t *ws = fdt_getprop(fdt, 0, "tty-size", &len);
	ok(fdt_getprop(fdt, 0, "tty", NULL) && ws && len == 8 && fdt32_to_cpu(ws[0]) == 24 &&
	   fdt32_to_cpu(ws[1]) == 80, "-t: the tty flag and the window size {rows, cols}");

	uint8_t *cpio;
	size_t csize;
	is(spec_build_cpio(ABI_SPEC_PATH, fdt, size, &cpio, &csize), 0, "cpio built");
	is(csize % 4, 0, "4-byte aligned, so it can follow another archive");
	ok(!memcmp(cpio, "070701", 6), "newc magic");
	ok(!memcmp(cpio + 110, "clearvm", 8), "first the directory");
	// Second entry: after the first header, its name and padding.
	size_t second = (110 + 8 + 3) & ~3u;
	ok(!memcmp(cpio + second, "070701", 6) && !memcmp(cpio + second + 110, "clearvm/spec.dtb", 17),
	   "then the spec file");
	char hex[9] = {0};
	memcpy(hex, cpio + second + 54, 8);
	is(strtoul(hex, NULL, 16), size, "file size field");
	size_t data = (second + 110 + 17 + 3) & ~(size_t)3;
	ok(!memcmp(cpio + data, fdt, size), "file data is the FDT");
	ok(memmem(cpio, csize, "TRAILER!!!", 10) != NULL, "ends with the trailer");
	uint8_t *arch;
	size_t asize;
	is(spec_build_archive(&cfg, &arch, &asize), 0, "spec_build_archive");
	ok(asize == csize && !memcmp(arch, cpio, csize), "is exactly the FDT wrapped as " ABI_SPEC_PATH);
	free(arch);
	free(cpio);
	is(spec_build_cpio("noslash", fdt, size, &cpio, &csize), -EINVAL, "a path without a directory is refused");
	free(fdt);
	return tap_done();
}
