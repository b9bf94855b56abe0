// SPDX-License-Identifier: Apache-2.0
// An OCI bundle's config.json: podman's shape becomes one VM's configuration; what clearvm
// cannot honour is refused with one line naming the field.
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/tap.h"
#include "../../vmm/oci/bundle.h"
#include "../../vmm/oci/resources.h"

static char dir[] = "/tmp/clearvm-test-bundle-XXXXXX";
static char file[600];

// config.json with `process` and `extra` top-level members spliced in.
static int parse(struct bundle *b, const char *process, const char *extra)
{
	char text[4096];
	snprintf(text, sizeof(text),
		 "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
		 "\"hostname\":\"box\",\"process\":%s%s%s}",
		 process, extra[0] ? "," : "", extra);
	return bundle_parse(text, strlen(text), dir, b);
}

static const char proc[] =
    "{\"args\":[\"/bin/sh\",\"-c\",\"echo hi\"],\"env\":[\"PATH=/bin\",\"A=b=c\"],"
    "\"cwd\":\"/srv\",\"user\":{\"uid\":1000,\"gid\":1001,\"additionalGids\":[5,7]},"
    "\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\"]}}";

static void refused(const char *process, const char *extra, const char *what)
{
	struct bundle b;
	ok(parse(&b, process, extra) < 0, "refused: %s", what);
	bundle_free(&b);
}

// exec's --process: one process object, read as config.json's process is.
static void exec_process(void)
{
	struct bundle b;
	is(bundle_parse_process(proc, strlen(proc), &b), 0, "exec --process: read");
	ok(b.uid == 1000 && b.gid == 1001 && b.ngroups == 2 && b.groups[1] == 7,
	   "exec --process: uid, gid and exactly additionalGids");
	ok(!strcmp(b.vm.argv[2], "echo hi") && !strcmp(b.vm.workdir, "/srv") && b.vm.nenv == 2,
	   "exec --process: args, cwd and env");
	ok(b.vm.bound_caps && !b.vm.tty, "exec --process: capabilities, no terminal");
	bundle_free(&b);
	static const char lim[] = "{\"args\":[\"sh\"],\"noNewPrivileges\":true,\"rlimits\":["
				  "{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1000},"
				  "{\"type\":\"RLIMIT_CORE\",\"hard\":18446744073709551615,\"soft\":0}]}";
	ok(bundle_parse_process(lim, strlen(lim), &b) == 0 && b.vm.nrlimits == 2 &&
	       b.vm.rlimits[0].resource == 7 && b.vm.rlimits[0].soft == 1000 &&
	       b.vm.rlimits[0].hard == 1024 && b.vm.rlimits[1].resource == 4 &&
	       b.vm.rlimits[1].hard == UINT64_MAX && b.vm.no_new_privs,
	   "process.rlimits (RLIM_INFINITY too) and noNewPrivileges");
	bundle_free(&b);
	static const char term[] = "{\"args\":[\"sh\"],\"terminal\":true,"
				   "\"consoleSize\":{\"height\":30,\"width\":100}}";
	ok(bundle_parse_process(term, strlen(term), &b) == 0 && b.vm.tty && b.console_rows == 30 &&
	       b.console_cols == 100 && b.uid == 0,
	   "exec --process: terminal and consoleSize; root without a user");
	bundle_free(&b);
	static const char *const bad[] = {
	    "[1]", "{\"args\":[]}", "{\"args\":[\"a\"],\"cwd\":\"rel\"}", "{",
	    "{\"args\":[\"a\"],\"rlimits\":[{\"type\":\"RLIMIT_FOO\",\"hard\":1,\"soft\":1}]}",
	    "{\"args\":[\"a\"],\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1,\"soft\":2}]}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ok(bundle_parse_process(bad[i], strlen(bad[i]), &b) < 0, "exec --process refuses %s", bad[i]);
		bundle_free(&b);
	}
}

// update's resources: what a running VM can take (its VMM's CPU time and CPUs), what it cannot.
static void update_resources(void)
{
	struct resources_update u;
	is(resources_parse_update("{\"cpu\": {\"quota\": 50000, \"period\": 100000, \"shares\": 1024, "
				  "\"cpus\": \"0-1\", \"mems\": \"0\"}}",
				  &u),
	   0, "update: cpu quota, period, shares and cpuset");
	ok(u.cpu_quota == 50000 && u.cpu_period == 100000 && u.cpu_weight == 39 && !strcmp(u.cpus, "0-1") &&
	       !strcmp(u.mems, "0") && !resources_update_empty(&u),
	   "read as cpu.max's quota and period, cpu.weight 39 (runc's conversion of 1024), cpuset");
	ok(resources_shares_to_weight(2) == 1 && resources_shares_to_weight(262144) == 10000 &&
	       resources_shares_to_weight(1) == 1 && resources_shares_to_weight(1u << 30) == 10000,
	   "shares 2..262144 map onto weight 1..10000, clamped");
	// As containerd's CRI sends it: the whole object.
	is(resources_parse_update("{\"memory\": {\"limit\": 536870912, \"swap\": 536870912}, "
				  "\"cpu\": {\"quota\": -1, \"period\": 100000, \"shares\": 2, "
				  "\"cpus\": \"\", \"mems\": \"\", \"realtimeRuntime\": 0}, "
				  "\"devices\": [{\"allow\": false, \"access\": \"rwm\"}], \"pids\": {\"limit\": 2048}, "
				  "\"hugepageLimits\": [], \"unified\": {}}",
				  &u),
	   0, "update: a memory limit, devices, swap, pids and empty settings are taken");
	ok(u.memory && u.memory_mib == 512 + BUNDLE_MEMORY_OVERHEAD_MIB,
	   "the guest's share of the VM's RAM: the limit and the kernel's share, as at create");
	ok(u.cpu_quota == -1 && u.cpu_weight == 1 && !u.cpus[0], "quota -1: no limit; an empty cpuset: unchanged");
	is(resources_parse_update("{}", &u), 0, "update: nothing");
	ok(resources_update_empty(&u), "changes nothing");
	is(resources_parse_update("{\"memory\": {\"limit\": 0}}", &u), 0,
	   "update: memory limit 0 leaves it as it is");
	ok(resources_update_empty(&u), "changes nothing");
	is(resources_parse_update("{\"memory\": {\"limit\": -1}}", &u), 0, "update: memory limit -1");
	ok(u.memory && u.memory_mib == 0 && !resources_update_cpu(&u), "all of the VM's RAM, no CPU change");
	is(resources_parse_update("{\"memory\": {\"limit\": 1}}", &u), 0, "update: a 1-byte memory limit");
	ok(u.memory_mib == 1 + BUNDLE_MEMORY_OVERHEAD_MIB, "rounded up to a MiB");
	static const struct {
		const char *json;
		const char *what;
	} refused[] = {
		{"{\"memory\": {\"limit\": -2}}", "a negative memory limit"},
		{"{\"memory\": {\"limit\": \"1G\"}}", "a memory limit as a string"},
		{"{\"memory\": {\"limit\": 9223372036854775807}}", "a memory limit no VM has"},
		{"{\"cpu\": {\"realtimeRuntime\": 950000}}", "real-time CPU time"},
		{"{\"cpu\": {\"quota\": -5}}", "a negative quota"},
		{"{\"cpu\": {\"period\": 10}}", "a period under 1 ms"},
		{"{\"cpu\": {\"shares\": \"many\"}}", "shares as a string"},
		{"{\"cpu\": {\"cpus\": \"0;1\"}}", "a cpuset that is no list"},
		{"{\"blockIO\": {\"weight\": 10}}", "block I/O"},
		{"{\"unified\": {\"memory.high\": \"1G\"}}", "unified settings"},
		{"{\"kernel\": 1}", "an unknown resource"},
		{"{\"cpu\": 5}", "cpu that is no object"},
		{"[1]", "no object"},
		{"{bad", "malformed JSON"},
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		is(resources_parse_update(refused[i].json, &u), -EINVAL,
		   "update: %s is refused", refused[i].what);
}

int main(void)
{
	exec_process();
	if (!mkdtemp(dir))
		return 1;
	char path[600];
	snprintf(path, sizeof(path), "%s/rootfs", dir);
	mkdir(path, 0755);
	snprintf(file, sizeof(file), "%s/hosts", dir);
	FILE *f = fopen(file, "w");
	if (f)
		fclose(f);

	struct bundle b;
	char mounts[1024];
	snprintf(mounts, sizeof(mounts),
		 "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		 "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\"},"
		 "{\"destination\":\"/"
		 "data\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"rbind\",\"ro\"]},"
		 "{\"destination\":\"/etc/"
		 "hosts\",\"type\":\"bind\",\"source\":\"hosts\",\"options\":[\"bind\"]}],"
		 "\"annotations\":{\"io.example\":\"x\"},"
		 "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":\"/"
		 "run/netns/n\"}],"
		 "\"resources\":{\"memory\":{\"limit\":134217728},\"cpu\":{\"quota\":150000,"
		 "\"period\":100000}}}",
		 dir);
	is(parse(&b, proc, mounts), 0, "podman's shape of config.json is taken");
	struct vm_config *c = &b.vm;
	is_str(c->rootfs + strlen(dir), "/rootfs", "root.path is relative to the bundle");
	ok(c->read_only, "root.readonly");
	is_str(c->hostname, "box", "hostname");
	is_str(c->argv[0], "/bin/sh", "process.args[0]");
	is_str(c->argv[2], "echo hi", "process.args[2]");
	ok(c->argv[3] == NULL, "argv is NULL-terminated");
	is(c->nenv, 2, "process.env");
	is_str(c->env[1], "A=b=c", "an env value holding '='");
	is_str(c->workdir, "/srv", "process.cwd");
	is_str(c->user, "1000:1001", "process.user uid and gid");
	is(b.ngroups, 2, "additionalGids");
	is(b.groups[1], 7, "additionalGids[1]");
	ok(c->bound_caps && c->caps == ((1ULL << 0) | (1ULL << 5)), "the capability bounding set");
	is(c->nvolumes, 2, "bind mounts become shares; proc and shm are the guest's own");
	is_str(c->volumes[0].host, dir, "a directory bind's source");
	is_str(c->volumes[0].guest, "/data", "its destination");
	ok(c->volumes[0].readonly && !c->volumes[0].nonrecursive && !c->volumes[0].file,
	   "ro, rbind");
	ok(c->volumes[1].file && c->volumes[1].nonrecursive && !c->volumes[1].readonly,
	   "a file bind (relative source), bind (not rbind), rw");
	is(b.netns, BUNDLE_NETNS_PATH, "a network namespace path is joined");
	is_str(b.netns_path, "/run/netns/n", "that path");
	is(c->network, NETWORK_PASST, "with passt inside it");
	is(c->memory_mib, 128 + BUNDLE_MEMORY_OVERHEAD_MIB, "the memory limit sizes the VM");
	is(c->cpus, 2, "a CPU quota of 1.5 becomes 2 vCPUs");
	is_str(b.annotations, "{\"io.example\":\"x\"}", "annotations kept as JSON");
	bundle_free(&b);

	is(parse(&b, "{\"args\":[\"/bin/true\"]}",
		 "\"linux\":{\"namespaces\":[{\"type\":\"network\"}]}"),
	   0, "a minimal process");
	is(b.vm.network, NETWORK_NONE, "a new network namespace: loopback only");
	is_str(b.vm.workdir, "/", "cwd defaults to /");
	ok(b.vm.user == NULL && !b.vm.bound_caps,
	   "no user: root; no capabilities given: unbounded");
	is_str(b.annotations, "{}", "no annotations: {}");
	is(b.vm.fs, FS_VIRTIOFS, "the root over virtio-fs, the default");
	bundle_free(&b);
	is(parse(&b, "{\"args\":[\"/bin/true\"]}", "\"annotations\":{\"io.clearvm.fs\":\"9p\"}"), 0,
	   "annotations: io.clearvm.fs 9p");
	is(b.vm.fs, FS_9P, "the root over 9p");
	ok(!b.sandbox, "not a pod sandbox without the annotation");
	bundle_free(&b);
	is(parse(&b, "{\"args\":[\"/bin/true\"]}", "\"annotations\":{\"io.clearvm.volume-fs\":\"virtiofs\"}"), 0,
	   "annotations: io.clearvm.volume-fs virtiofs");
	ok(b.vm.volume_fs == FS_VIRTIOFS && b.vm.fs == FS_VIRTIOFS, "the volumes over virtio-fs");
	bundle_free(&b);
	is(parse(&b, "{\"args\":[\"/pause\"]}",
		 "\"annotations\":{\"io.kubernetes.cri.container-type\":\"sandbox\"}"),
	   0, "a pod sandbox, as containerd's CRI marks it");
	ok(b.sandbox, "is one");
	bundle_free(&b);
	is(parse(&b, "{\"args\":[\"/pause\"]}",
		 "\"annotations\":{\"io.kubernetes.cri-o.ContainerType\":\"sandbox\"}"),
	   0, "a pod sandbox, as CRI-O marks it");
	ok(b.sandbox, "is one");
	bundle_free(&b);
	is(parse(&b, "{\"args\":[\"/app\"]}",
		 "\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\"}"),
	   0, "a pod's app container");
	ok(!b.sandbox, "is not a sandbox");
	bundle_free(&b);
	// As exec reads it back from the state's annotations.
	ok(bundle_annotations_sandbox("{\"io.kubernetes.cri-o.ContainerType\": \"sandbox\"}") &&
	       !bundle_annotations_sandbox("{\"io.kubernetes.cri.container-type\": \"container\"}") &&
	       !bundle_annotations_sandbox("{}") && !bundle_annotations_sandbox("[\"sandbox\"]") &&
	       !bundle_annotations_sandbox("{\"io.kubernetes.cri.container-type\": 1}") &&
	       !bundle_annotations_sandbox("{bad") && !bundle_annotations_sandbox(NULL),
	   "state annotations: a sandbox when a container type says so, else (or malformed) not");
	is(parse(&b,
		 "{\"args\":[\"/bin/"
		 "true\"],\"terminal\":true,\"consoleSize\":{\"height\":30,\"width\":100}}",
		 ""),
	   0, "a terminal");
	ok(b.vm.tty && b.vm.interactive, "process.terminal: a pty, stdin included");
	ok(b.console_rows == 30 && b.console_cols == 100, "process.consoleSize");
	bundle_free(&b);
	is(parse(&b, "{\"args\":[\"/bin/true\"]}", ""), 0, "no network namespace");
	is(b.netns, BUNDLE_NETNS_HOST, "the host's network, through passt");
	bundle_free(&b);

	const char *t = "{\"args\":[\"/bin/true\"]}";
	refused("{\"args\":[]}", "", "empty process.args");
	refused("{\"args\":[\"/bin/true\"],\"env\":[\"NOEQUALS\"]}", "", "an env entry without =");
	refused("{\"args\":[\"/bin/true\"],\"cwd\":\"rel\"}", "", "a relative cwd");
	refused("{\"args\":[\"/bin/true\"],\"user\":{\"uid\":-1,\"gid\":0}}", "", "a negative uid");
	refused("{\"args\":[\"/bin/true\"],\"capabilities\":{\"bounding\":[\"CAP_NOPE\"]}}", "",
		"an unknown capability");
	refused(t, "\"hooks\":{\"startContainer\":[{\"path\":\"/bin/true\"}]}", "hooks.startContainer (in the guest)");
	refused(t, "\"hooks\":{\"createContainer\":[{\"path\":\"/bin/true\"}]}", "hooks.createContainer (in the guest)");
	ok(parse(&b, t, "\"hooks\":{\"prestart\":[{\"path\":\"/bin/true\"}],\"poststop\":[]}") == 0 && b.hooks,
	   "host hooks (prestart, poststop) taken");
	bundle_free(&b);
	refused(t, "\"annotations\":{\"io.clearvm.fs\":\"nfs\"}", "io.clearvm.fs other than 9p or virtiofs");
	refused(t, "\"annotations\":{\"io.clearvm.fs\":9}", "io.clearvm.fs not a string");
	refused(t, "\"annotations\":{\"io.clearvm.volume-fs\":\"nfs\"}", "io.clearvm.volume-fs other than 9p or virtiofs");
	refused(t, "\"annotations\":{\"io.clearvm.memory\":\"1G\"}", "an io.clearvm. annotation not clearvm's");
	refused(t, "\"linux\":{\"devices\":[{\"path\":\"/dev/kvm\"}]}", "linux.devices");
	refused(t, "\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]}",
		"user namespace mappings");
	ok(parse(&b, t, "\"linux\":{\"namespaces\":[{\"type\":\"pid\",\"path\":\"/proc/self/ns/pid\"},"
			"{\"type\":\"ipc\",\"path\":\"/proc/self/ns/ipc\"}]}") == 0 && b.njoined == 2,
	   "namespaces joined by path: noted for create");
	ok(bundle_check_namespaces(&b, 0) < 0, "refused outside a pod's VM");
	ok(bundle_check_namespaces(&b, 0x7ffffff0) < 0, "refused when the pod VM's process is not there");
	is(bundle_check_namespaces(&b, getpid()), 0, "taken when they are the pod VM's process's");
	bundle_free(&b);
	refused(t, "\"mounts\":[{\"destination\":\"/x\",\"type\":\"tmpfs\"}]",
		"a tmpfs at another path");
	refused(
	    t,
	    "\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"/nonexistent\"}]",
	    "a bind of a missing source");
	refused(t,
		"\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"/dev/null\"}]",
		"a bind of a device");
	refused(t, "\"mounts\":[{\"destination\":\"x\",\"type\":\"bind\",\"source\":\"/tmp\"}]",
		"a relative destination");
	refused(t, "\"linux\":{\"resources\":{\"cpu\":{\"quota\":100000000,\"period\":1000}}}",
		"too many CPUs");
	// Broken documents.
	const char *bad[] = {
	    "",
	    "[]",
	    "{\"ociVersion\":\"2.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"x\"]}}",
	    "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"x\"]}}",
	    "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"}}",
	    "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[1]}}",
	    "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"x\"]}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ok(bundle_parse(bad[i], strlen(bad[i]), dir, &b) < 0,
		   "refused: broken config.json %zu", i);
		bundle_free(&b);
	}
	unlink(file);
	rmdir(path);
	rmdir(dir);
	update_resources();
	return tap_done();
}
