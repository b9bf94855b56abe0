// SPDX-License-Identifier: Apache-2.0
// guest-init's launch spec reader against the VMM's builder: a pod's every field comes back,
// and a malformed spec is refused with the field named.
#define _GNU_SOURCE
#include <errno.h>
#include <libfdt.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../harness/tap.h"
#include "../../guest-init/abi.h"
#include "../../guest-init/spec_read.h"
#include "../../vmm/spec.h"

// The spec with property `prop` of the root node set to `len` bytes of `val` (NULL: deleted).
static void *with_prop(const void *fdt, size_t size, const char *prop, const void *val, int len)
{
	size_t big = size + 256;
	void *copy = malloc(big);
	fdt_open_into(fdt, copy, (int)big);
	if (val)
		fdt_setprop(copy, 0, prop, val, len);
	else
		fdt_delprop(copy, 0, prop);
	fdt_pack(copy);
	return copy;
}

int main(void)
{
	char *web_argv[] = {"/bin/httpd", "-f", NULL}, *db_argv[] = {"/bin/db", NULL};
	char *env[] = {"PATH=/bin", NULL};
	static struct vm_config apps[2];
	apps[0] = (struct vm_config){.app_name = "web", .argv = web_argv, .env = env, .nenv = 1,
				     .workdir = "/srv", .uid = 33, .gid = 33, .groups = {4, 5}, .ngroups = 2,
				     .nvolumes = 2, .volumes = {{.host = "/", .guest = "/data", .readonly = true},
							  {.host = "/etc/hosts", .guest = "/etc/app.conf", .file = true}}};
	apps[1] = (struct vm_config){.app_name = "db", .argv = db_argv, .env = env, .nenv = 1,
				     .workdir = "/", .read_only = true};
	struct vm_config pod = {.hostname = "rkt-42", .napps = 2, .apps = apps, .tty = true, .fs = FS_VIRTIOFS,
				.tty_rows = 50, .tty_cols = 132, .resolv_conf = "nameserver 10.0.0.1\n",
				.hosts = "127.0.0.1 localhost\n"};
	void *fdt;
	size_t size;
	is(spec_build_fdt(&pod, &fdt, &size), 0, "a pod's spec built");
	struct launch_spec ls;
	const char *bad = NULL;
	is(launch_spec_read(fdt, size, 8, &ls, &bad), 0, "read back by guest-init's reader");
	ok(ls.pod && ls.napps == 2 && !strcmp(ls.hostname, "rkt-42"), "two apps, the hostname");
	ok(ls.milestones && ls.tty && ls.tty_size && ls.tty_rows == 50 && ls.tty_cols == 132 && !ls.stdin,
	   "flags and the window size");
	const struct launch_workload *w = &ls.apps[0], *d = &ls.apps[1];
	ok(!strcmp(w->name, "web") && !strcmp(w->argv[0], "/bin/httpd") && !strcmp(w->argv[1], "-f") &&
	   !w->argv[2] && !strcmp(w->env[0], "PATH=/bin") && !w->env[1] && !strcmp(w->cwd, "/srv"),
	   "the first app's name, argv, env and directory");
	ok(w->uid == 33 && w->gid == 33 && w->ngroups == 2 && w->groups[1] == 5, "its identity");
	ok(w->nvolumes == 2 && !strcmp(w->volumes[0].target, "/data") && w->volumes[0].readonly &&
	   !w->volumes[0].file && !strcmp(w->volumes[0].tag, ABI_VOLUME_TAG "0") &&
	   !strcmp(w->root_tag, ABI_APP_TAG "0") && !w->root_readonly, "its volume and root share");
	ok(w->volumes[1].file && !w->volumes[1].readonly && !strcmp(w->volumes[1].target, "/etc/app.conf") &&
	   !strcmp(w->volumes[1].tag, ABI_VOLUME_TAG "1"), "a file volume says so");
	ok(ls.resolv_conf && !strcmp(ls.resolv_conf, "nameserver 10.0.0.1\n") && ls.hosts &&
	   !strcmp(ls.hosts, "127.0.0.1 localhost\n"), "the pod's resolv.conf and hosts");
	ok(!strcmp(d->name, "db") && d->root_readonly && d->nvolumes == 0 && !strcmp(d->root_tag, ABI_APP_TAG "1"),
	   "the second app");
	ok(w->root_virtiofs && d->root_virtiofs, "--fs virtiofs: each app's root is mounted over virtio-fs");
	ok(!w->volumes[0].virtiofs && !w->volumes[1].virtiofs, "and its volumes over 9p, the default");
	launch_spec_free(&ls);
	free(fdt);
	pod.volume_fs = FS_VIRTIOFS;
	is(spec_build_fdt(&pod, &fdt, &size), 0, "a pod's spec with --volume-fs virtiofs built");
	is(launch_spec_read(fdt, size, 8, &ls, &bad), 0, "read back");
	ok(ls.apps[0].volumes[0].virtiofs && ls.apps[0].volumes[1].virtiofs,
	   "--volume-fs virtiofs: its volumes, directory and file, over virtio-fs");
	launch_spec_free(&ls);
	is(launch_spec_read(fdt, size, 1, &ls, &bad), -E2BIG, "more apps than allowed: refused");
	ok(bad && !strcmp(bad, "apps"), "naming the apps");
	launch_spec_free(&ls);
	free(fdt);

	char *argv[] = {"/bin/true", NULL};
	struct vm_config one = {.hostname = "h", .argv = argv, .env = env, .nenv = 1, .workdir = "/",
				.nrlimits = 2, .no_new_privs = true, .exec = true, .nvolumes = 2};
	one.volumes[0] = (struct vm_volume){.host = "/d", .guest = "/data"};
	one.volumes[1] = (struct vm_volume){.host = "/p", .guest = ABI_POD_DIR, .pod = true};
	one.rlimits[0] = (struct vm_rlimit){.resource = 7, .soft = 1000, .hard = 1024};
	one.rlimits[1] = (struct vm_rlimit){.resource = 4, .soft = 0, .hard = UINT64_MAX};
	is(spec_build_fdt(&one, &fdt, &size), 0, "a single container's spec built");
	is(launch_spec_read(fdt, size, 8, &ls, &bad), 0, "read back");
	ok(!ls.resolv_conf && !ls.hosts, "without resolv.conf or hosts: the root's own");
	const struct launch_rlimit *l = ls.apps[0].rlimits;
	ok(ls.apps[0].nrlimits == 2 && l[0].resource == 7 && l[0].soft == 1000 && l[0].hard == 1024 &&
	       l[1].resource == 4 && l[1].hard == UINT64_MAX,
	   "rlimits: each resource's soft and hard limit, 64 bits");
	ok(ls.apps[0].no_new_privs && ls.exec, "no-new-privs and exec");
	ok(!ls.apps[0].root_virtiofs, "--fs 9p (a config's zero value): the root is mounted over 9p");
	ok(ls.apps[0].nvolumes == 2 && !ls.apps[0].volumes[0].pod && ls.apps[0].volumes[1].pod,
	   "the pod share is marked as such, a volume is not");
	launch_spec_free(&ls);
	is(launch_spec_read(fdt, size - 1, 8, &ls, &bad), -EINVAL, "cut short by a byte: refused");
	launch_spec_free(&ls);
	static const struct {
		const char *prop, *val;
		int len;
		const char *named;
	} broken[] = {
		{"hostname", "abc", 3, "hostname"},     // no NUL
		{"hostname", "a\0b", 4, "hostname"},    // a NUL inside
		{"argv", "", 0, "argv (empty)"},
		{"argv", "/bin/x", 6, "argv"},          // the last string unterminated
		{"uid", "\0\0\0", 3, "uid"},            // not 4 bytes
		{"groups", "\0\0\0\0\0", 5, "groups"},  // not a multiple of 4
		{"cwd", NULL, 0, "cwd"},                // missing
		{"root-tag", NULL, 0, "root-tag"},
		{"resolv-conf", "x", 1, "resolv-conf"}, // no NUL
		{"hosts", "a\0b", 4, "hosts"},
		{"rlimits", "\0\0\0\7", 4, "rlimits"}, // not 5 u32s
		{"rlimits", "\0\0\0\7\0\0\0\0\0\0\0\2\0\0\0\0\0\0\0\1", 20, "rlimits"}, // soft > hard
		{"rlimits", "\0\0\0\x20\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 20, "rlimits"}, // no such resource
	};
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		void *b = with_prop(fdt, size, broken[i].prop, broken[i].val, broken[i].len);
		bad = NULL;
		int r = launch_spec_read(b, fdt_totalsize(b), 8, &ls, &bad);
		ok(r == -EINVAL && bad && !strcmp(bad, broken[i].named), "%s %s: refused, naming %s",
		   broken[i].prop, broken[i].val ? "malformed" : "missing", broken[i].named);
		launch_spec_free(&ls);
		free(b);
	}
	free(fdt);

	// eth0: IPv4, IPv6 when the host has it, or IPv6 alone; a malformed part refuses the spec.
	struct vm_config net = one;
	net.network = NETWORK_PASST;
	net.net = (struct vm_net){.v4 = true, .addr = 0xc000020a, .prefix = 24, .gateway = 0xc0000201,
				  .mtu = 65520, .mac = {2, 1, 2, 3, 4, 5}};
	is(spec_build_fdt(&net, &fdt, &size), 0, "a spec with an IPv4 network built");
	is(launch_spec_read(fdt, size, 8, &ls, &bad), 0, "read back");
	ok(ls.net && ls.eth.v4 && ls.eth.address == 0xc000020a && ls.eth.prefix == 24 &&
	       ls.eth.gateway == 0xc0000201 && ls.eth.mtu == 65520 && ls.eth.mac[5] == 5 && !ls.eth.v6,
	   "eth0: its IPv4 address, prefix, gateway, MTU and MAC; no IPv6");
	launch_spec_free(&ls);
	// A part of IPv4 alone, or no address at all: refused.
	static const char *const v4_props[] = {"gateway", "prefix", "address"};
	for (size_t i = 0; i < 3; i++) {
		void *b = malloc(size);
		memcpy(b, fdt, size);
		int node = fdt_subnode_offset(b, 0, "net");
		for (size_t j = 0; j <= i; j++)
			fdt_delprop(b, node, v4_props[j]);
		bad = NULL;
		int r = launch_spec_read(b, fdt_totalsize(b), 8, &ls, &bad);
		ok(r == -EINVAL && bad && !strcmp(bad, "net"), "IPv4 without %s%s: refused, naming net",
		   v4_props[0], i == 0 ? "" : i == 1 ? ", prefix" : ", prefix, address (no address at all)");
		launch_spec_free(&ls);
		free(b);
	}
	free(fdt);
	net.net.v6 = true;
	net.net.prefix6 = 64;
	memcpy(net.net.addr6, (uint8_t[16]){0x20, 0x01, 0x0d, 0xb8, [15] = 0x10}, 16);
	memcpy(net.net.gateway6, (uint8_t[16]){0xfe, 0x80, [15] = 1}, 16);
	is(spec_build_fdt(&net, &fdt, &size), 0, "and with IPv6");
	is(launch_spec_read(fdt, size, 8, &ls, &bad), 0, "read back");
	ok(ls.eth.v6 && ls.eth.prefix6 == 64 && !memcmp(ls.eth.address6, net.net.addr6, 16) &&
	       !memcmp(ls.eth.gateway6, net.net.gateway6, 16) && ls.eth.address == 0xc000020a,
	   "eth0: its IPv6 address, prefix and gateway beside IPv4's");
	launch_spec_free(&ls);
	free(fdt);
	net.net.v4 = false; // an IPv6-only host's
	is(spec_build_fdt(&net, &fdt, &size), 0, "and with IPv6 alone");
	is(launch_spec_read(fdt, size, 8, &ls, &bad), 0, "read back");
	ok(ls.net && ls.eth.v6 && !ls.eth.v4 && ls.eth.prefix6 == 64 && ls.eth.mtu == 65520,
	   "eth0: IPv6 and no IPv4");
	launch_spec_free(&ls);
	static const struct {
		const char *prop;
		int len;
		uint32_t prefix6;
	} broken6[] = {{"address6", 15, 64}, {"gateway6", 4, 64}, {"gateway6", -1, 64}, {NULL, 0, 129},
		       {NULL, 0, 0}};
	for (size_t i = 0; i < sizeof(broken6) / sizeof(broken6[0]); i++) {
		size_t big = size + 256;
		void *b = malloc(big);
		fdt_open_into(fdt, b, (int)big);
		int node = fdt_subnode_offset(b, 0, "net");
		if (broken6[i].prop && broken6[i].len < 0)
			fdt_delprop(b, node, broken6[i].prop);
		else if (broken6[i].prop)
			fdt_setprop(b, node, broken6[i].prop, net.net.addr6, broken6[i].len);
		fdt_setprop_u32(b, node, "prefix6", broken6[i].prefix6);
		fdt_pack(b);
		bad = NULL;
		int r = launch_spec_read(b, fdt_totalsize(b), 8, &ls, &bad);
		ok(r == -EINVAL && bad && !strcmp(bad, "net"), "IPv6: %s%s, prefix6 %u: refused, naming net",
		   broken6[i].prop ? broken6[i].prop : "",
		   !broken6[i].prop ? "" : broken6[i].len < 0 ? " missing" : " of a wrong size",
		   broken6[i].prefix6);
		launch_spec_free(&ls);
		free(b);
	}
	free(fdt);
	return tap_done();
}
