// SPDX-License-Identifier: Apache-2.0
// The device plan: every way a VM starts gets its slots from vm_plan(), in the order the launch
// spec names the tags, within the slots there are.
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "../harness/tap.h"
#include "../../vmm/plan.h"

static void command(void)
{
	struct vm_config cfg = {.rootfs = "/r", .read_only = true, .nvolumes = 2,
				.volumes = {{.host = "/a", .guest = "/x"}, {.host = "/f", .guest = "/y", .readonly = true, .file = true}}};
	struct vm_plan p;
	is(vm_plan(&cfg, VM_COLD, &p), 0, "command: planned");
	is(p.nshares, 3, "command: the root and two volumes");
	is_str(p.shares[0].tag, ABI_ROOT_TAG, "command: the root first");
	is_str(p.shares[0].share.path, "/r", "command: the root's path");
	ok(p.shares[0].share.readonly && !p.shares[0].spare, "command: --read-only root");
	is_str(p.shares[1].tag, "clearvm-vol0", "command: volume 0's tag");
	is_str(p.shares[2].share.path, "/f", "command: volume 1's path");
	ok(p.shares[2].share.file && p.shares[2].share.readonly, "command: a read-only file volume");
	ok(p.shares[0].root && !p.shares[1].root && !p.shares[2].root,
	   "command: the root is the guest's own (virtio-fs may cache it), the volumes are not");
	is(p.nports, ABI_NR_PORTS, "command: stdout, stderr, stdin, control");
	is(p.port_fds[ABI_PORT_STDOUT], STDOUT_FILENO, "command: stdout to clearvm's");
	is(p.port_fds[ABI_PORT_STDERR], STDERR_FILENO, "command: stderr to clearvm's");
	is(p.port_fds[ABI_PORT_STDIN], -1, "command: stdin has no host end at start");
}

static void pod(void)
{
	struct vm_config apps[2] = {
		{.rootfs = "/p/a", .nvolumes = 1, .volumes = {{.host = "/v1", .guest = "/d"}}},
		{.rootfs = "/p/b", .nvolumes = 1, .volumes = {{.host = "/v2", .guest = "/d"}}},
	};
	struct vm_config cfg = {.apps = apps, .napps = 2};
	struct vm_plan p;
	is(vm_plan(&cfg, VM_COLD, &p), 0, "pod: planned");
	is(p.nshares, 4, "pod: each app's root and volume");
	is_str(p.shares[0].tag, "clearvm-app0", "pod: app 0's root");
	is_str(p.shares[2].tag, "clearvm-app1", "pod: app 1's root after app 0's volume");
	is_str(p.shares[3].tag, "clearvm-vol1", "pod: volume tags numbered across the pod");
	is_str(p.shares[3].share.path, "/v2", "pod: app 1's volume");
	ok(p.shares[0].root && p.shares[2].root && !p.shares[1].root && !p.shares[3].root,
	   "pod: each app's root is its own, its volume is not");
	is(p.nports, ABI_NR_ENTER_PORTS, "pod: the enter ports too");
	is_str(p.port_names[ABI_PORT_ENTER], "enter", "pod: the enter port at its index");
	is_str(p.port_names[ABI_PORT_ENTER_STDIN(ABI_ENTER_SESSIONS - 1)], "enter-stdin.3",
	       "pod: the last session's stdin last");
	is(ABI_PORT_ENTER_STDIN(ABI_ENTER_SESSIONS - 1), ABI_NR_ENTER_PORTS - 1, "pod: no port after it");
}

static void oci_container(void)
{
	struct vm_config cfg = {.rootfs = "/r", .exec = true, .exec_fd = 5};
	struct vm_plan p;
	is(vm_plan(&cfg, VM_COLD, &p), 0, "exec: planned");
	is(p.nports, ABI_NR_ENTER_PORTS, "exec: an OCI container's cold boot has the enter ports");
	for (unsigned i = 0; i < ABI_ENTER_SESSIONS; i++) {
		char name[3][32];
		snprintf(name[0], sizeof(name[0]), "enter-stdout.%u", i);
		snprintf(name[1], sizeof(name[1]), "enter-stderr.%u", i);
		snprintf(name[2], sizeof(name[2]), "enter-stdin.%u", i);
		is_str(p.port_names[ABI_PORT_ENTER_STDOUT(i)], name[0], "exec: each session's stdout at its index");
		is_str(p.port_names[ABI_PORT_ENTER_STDERR(i)], name[1], "exec: each session's stderr at its index");
		is_str(p.port_names[ABI_PORT_ENTER_STDIN(i)], name[2], "exec: each session's stdin at its index");
	}
}

static void templates(void)
{
	struct vm_config cfg = {.rootfs = "/r", .nvolumes = 1, .volumes = {{.host = "/a", .guest = "/x"}}};
	struct vm_plan b, r;
	is(vm_plan(&cfg, VM_TEMPLATE_BUILD, &b), 0, "template build: planned");
	is(vm_plan(&cfg, VM_RESTORE, &r), 0, "restore: planned");
	is(b.nshares, 1 + CONFIG_MAX_VOLUMES, "template build: the root and every volume slot");
	is(r.nshares, b.nshares, "restore: the same slots as the template");
	bool spares = true, tags = true;
	for (unsigned i = 0; i < b.nshares; i++) {
		spares = spares && b.shares[i].spare;
		tags = tags && !strcmp(b.shares[i].tag, r.shares[i].tag);
	}
	ok(spares, "template build: no share in any slot");
	ok(tags, "restore: the template's tags, slot by slot");
	ok(!r.shares[0].spare && !r.shares[1].spare && r.shares[2].spare, "restore: the root and one volume, spares after");
	is_str(r.shares[1].share.path, "/a", "restore: the volume in its slot");
	is(b.nports, ABI_NR_ENTER_PORTS, "template: the spec port and the enter ports too");
	is(r.nports, b.nports, "restore: the template's ports");
	is_str(b.port_names[ABI_PORT_SPEC], "spec", "template: the spec port's name");
	is(b.port_fds[ABI_PORT_STDOUT], -1, "template build: no host ends");
	is(r.port_fds[ABI_PORT_STDOUT], STDOUT_FILENO, "restore: stdout to clearvm's");
	ok(!b.nic && !r.nic, "--network none: no network card, built or restored");
	cfg.network = NETWORK_PASST;
	ok(vm_plan(&cfg, VM_TEMPLATE_BUILD, &b) == 0 && vm_plan(&cfg, VM_RESTORE, &r) == 0 && b.nic && r.nic,
	   "a network: the card in the template and in every VM restored from it");
	ok(b.nshares + 3 <= LAYOUT_VIRTIO_SLOTS, "the template's shares, console, balloon and card fit the slots");
}

static void too_many(void)
{
	struct vm_config apps[CONFIG_MAX_APPS];
	memset(apps, 0, sizeof(apps));
	for (unsigned i = 0; i < CONFIG_MAX_APPS; i++)
		apps[i] = (struct vm_config){.rootfs = "/p", .nvolumes = 1, .volumes = {{.host = "/v", .guest = "/d"}}};
	struct vm_config cfg = {.apps = apps, .napps = CONFIG_MAX_APPS};
	struct vm_plan p;
	is(vm_plan(&cfg, VM_COLD, &p), -ENOSPC, "a pod of %d apps with a volume each does not fit", CONFIG_MAX_APPS);
	cfg.napps = 4;
	is(vm_plan(&cfg, VM_COLD, &p), 0, "four such apps do (8 shares, console, balloon)");
}

int main(void)
{
	command();
	pod();
	oci_container();
	templates();
	too_many();
	return tap_done();
}
