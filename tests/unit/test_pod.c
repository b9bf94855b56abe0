// SPDX-License-Identifier: Apache-2.0
// The rkt pod manifest: a two-app pod becomes one VM's configuration; every malformed or
// unsupported manifest is refused with an error.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/tap.h"
#include "../../vmm/rkt/pod.h"

static char dir[] = "/tmp/clearvm-test-pod-XXXXXX";

static void put(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void make_rootfs(const char *app)
{
	char path[512];
	static const char *const sub[] = {"stage1", "stage1/rootfs", "stage1/rootfs/opt",
					  "stage1/rootfs/opt/stage2"};
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, sub[i]);
		mkdir(path, 0755);
	}
	const char *parts[] = {"", "/rootfs", "/rootfs/etc"};
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/stage1/rootfs/opt/stage2/%s%s", dir, app, parts[i]);
		mkdir(path, 0755);
	}
	snprintf(path, sizeof(path), "stage1/rootfs/opt/stage2/%s/rootfs/etc/passwd", app);
	put(path, "root:x:0:0:root:/root:/bin/sh\nweb:x:1000:1000:web:/home/web:/bin/sh\n");
	snprintf(path, sizeof(path), "stage1/rootfs/opt/stage2/%s/rootfs/etc/group", app);
	put(path, "root:x:0:\nweb:x:1000:\nlogs:x:2000:web\n");
}

static const char good[] =
	"{\"acVersion\":\"1.30.0\",\"acKind\":\"PodManifest\",\"apps\":["
	"{\"name\":\"front\",\"image\":{\"name\":\"x\"},\"app\":{\"exec\":[\"/bin/sh\",\"-c\",\"echo hi\"],"
	"\"user\":\"web\",\"group\":\"web\",\"workingDirectory\":\"/srv\","
	"\"environment\":[{\"name\":\"MODE\",\"value\":\"prod\"}],"
	"\"mountPoints\":[{\"name\":\"data\",\"path\":\"/data\",\"readOnly\":true}],"
	"\"isolators\":[{\"name\":\"resource/memory\",\"value\":{\"limit\":\"64M\"}},"
	"{\"name\":\"resource/memory\",\"value\":{\"limit\":\"128Mi\"}},"
	"{\"name\":\"resource/cpu\",\"value\":{\"limit\":\"1500m\"}}]},"
	"\"mounts\":[{\"volume\":\"data\",\"path\":\"/data\"}]},"
	"{\"name\":\"back\",\"image\":{\"name\":\"y\"},\"app\":{\"exec\":[\"/bin/true\"],"
	"\"isolators\":[{\"name\":\"resource/memory\",\"value\":{\"limit\":\"32M\"}}]},"
	"\"mounts\":[{\"volume\":\"scratch\",\"path\":\"/scratch\"}]}],"
	"\"volumes\":[{\"name\":\"data\",\"kind\":\"host\",\"source\":\"/tmp\"},"
	"{\"name\":\"scratch\",\"kind\":\"empty\",\"mode\":\"0770\",\"uid\":1000,\"gid\":1000}]}";

static int load(const char *text, struct pod *pod)
{
	int r = pod_load(text, strlen(text), dir, pod);
	pod_free(pod);
	return r;
}

// The good manifest with one piece replaced (same length) must be refused.
static void refused(const char *piece, const char *instead, const char *what)
{
	char *bad = strdup(good), *at = strstr(bad, piece);
	struct pod pod;
	if (at && strlen(piece) == strlen(instead))
		memcpy(at, instead, strlen(instead));
	is(at ? load(bad, &pod) : 0, -EINVAL, "%s", what);
	free(bad);
}

static bool has_env(const struct vm_config *c, const char *kv)
{
	for (size_t i = 0; i < c->nenv; i++)
		if (!strcmp(c->env[i], kv))
			return true;
	return false;
}

int main(void)
{
	uint64_t v;
	ok(pod_parse_bytes("128M", &v) == 0 && v == 128000000, "128M is decimal");
	ok(pod_parse_bytes("128Mi", &v) == 0 && v == 128u << 20, "128Mi is binary");
	ok(pod_parse_bytes("4096", &v) == 0 && v == 4096, "a plain number is bytes");
	ok(pod_parse_bytes("12Q", &v) < 0 && pod_parse_bytes("-1M", &v) < 0 && pod_parse_bytes("", &v) < 0,
	   "unknown suffixes, signs and nothing are refused");
	ok(pod_parse_bytes("99999999999999T", &v) < 0, "an overflowing quantity is refused");
	ok(pod_parse_millicores("500m", &v) == 0 && v == 500, "500m is half a core");
	ok(pod_parse_millicores("1.5", &v) == 0 && v == 1500, "1.5 cores");
	ok(pod_parse_millicores("2", &v) == 0 && v == 2000, "2 cores");
	ok(pod_parse_millicores("x", &v) < 0 && pod_parse_millicores("1.5x", &v) < 0, "junk is refused");

	ok(mkdtemp(dir) != NULL, "pod directory %s", dir);
	make_rootfs("front");
	make_rootfs("back");

	struct pod pod;
	is(pod_load(good, strlen(good), dir, &pod), 0, "a two-app pod loads");
	const struct vm_config *vm = &pod.vm, *f = &pod.apps[0], *b = &pod.apps[1];
	is(vm->napps, 2, "both apps");
	ok(!strcmp(f->app_name, "front") && !strcmp(b->app_name, "back"), "in manifest order");
	ok(strstr(f->rootfs, "/stage1/rootfs/opt/stage2/front/rootfs") != NULL, "each app's own rootfs");
	ok(!strcmp(f->argv[0], "/bin/sh") && !strcmp(f->argv[2], "echo hi") && !f->argv[3], "exec is argv");
	ok(f->uid == 1000 && f->gid == 1000, "user and group names resolved in the app's rootfs");
	ok(f->ngroups == 2 && f->groups[1] == 2000, "with the user's supplementary groups");
	ok(!strcmp(f->workdir, "/srv") && !strcmp(b->workdir, "/"), "working directory, / by default");
	ok(has_env(f, "MODE=prod") && has_env(f, "AC_APP_NAME=front") && has_env(f, "HOME=/home/web"),
	   "environment, AC_APP_NAME and HOME");
	ok(has_env(b, "PATH=" CONFIG_DEFAULT_PATH) && b->uid == 0, "defaults: PATH, root");
	ok(f->nvolumes == 1 && !strcmp(f->volumes[0].host, "/tmp") && !strcmp(f->volumes[0].guest, "/data"),
	   "a host volume at its mount path");
	ok(f->volumes[0].readonly && !f->volumes[0].file && !f->volumes[0].nonrecursive,
	   "read-only from the app's mount point, a directory, recursive");
	char empty[600];
	snprintf(empty, sizeof(empty), "%s/clearvm/volumes/scratch", dir);
	struct stat st;
	ok(b->nvolumes == 1 && !strcmp(b->volumes[0].host, empty), "an empty volume lives in the pod directory");
	ok(stat(empty, &st) == 0 && (st.st_mode & 07777) == 0770 && st.st_uid == 1000, "with its mode and owner");
	is(vm->memory_mib, 64 + 128 + 31, "memory: the last limit of each app, summed, plus the overhead");
	is(vm->cpus, 2, "cpus: 1500m rounds up to 2");
	pod_free(&pod);

	// mountPoints as rkt's stage1 resolves them: by volume name, else an implicit empty volume.
	static const char points[] =
		"{\"acKind\":\"PodManifest\",\"apps\":[{\"name\":\"front\",\"image\":{\"name\":\"x\"},"
		"\"app\":{\"exec\":[\"/bin/true\"],\"supplementaryGIDs\":[3000,3001],\"mountPoints\":["
		"{\"name\":\"data\",\"path\":\"/data\",\"readOnly\":true},{\"name\":\"conf\",\"path\":\"/etc/app.conf\"},"
		"{\"name\":\"cache\",\"path\":\"/var/cache/app\"},{\"name\":\"mounted\",\"path\":\"/m\"}]},"
		"\"mounts\":[{\"volume\":\"data\",\"path\":\"/m\"}]}],"
		"\"volumes\":[{\"name\":\"data\",\"kind\":\"host\",\"source\":\"/tmp\",\"readOnly\":false,\"recursive\":false},"
		"{\"name\":\"conf\",\"kind\":\"host\",\"source\":\"/etc/passwd\"}]}";
	is(pod_load(points, strlen(points), dir, &pod), 0, "a pod whose image has mountPoints loads");
	is(f->nvolumes, 4, "one mount per path: the manifest's mount, then three mount points (/m once)");
	ok(!strcmp(f->volumes[0].guest, "/m") && !strcmp(f->volumes[1].guest, "/data") &&
	   !strcmp(f->volumes[1].host, "/tmp"), "a mount point takes the volume of its name");
	ok(!f->volumes[1].readonly, "whose readOnly, when given, overrides the mount point's");
	ok(f->volumes[1].nonrecursive, "recursive: false is kept");
	ok(f->volumes[2].file && !strcmp(f->volumes[2].host, "/etc/passwd"), "a host volume may be a file");
	snprintf(empty, sizeof(empty), "%s/clearvm/volumes/front-cache", dir);
	ok(!strcmp(f->volumes[3].host, empty) && stat(empty, &st) == 0 && (st.st_mode & 07777) == 0755 &&
	   st.st_uid == 0, "a mount point without a volume gets an implicit empty one, APP-NAME, 0755");
	ok(f->ngroups == 3 && f->groups[1] == 3000 && f->groups[2] == 3001, "supplementaryGIDs join the groups");
	ok(f->bound_caps && f->caps == pod_default_caps() && !(f->caps & (1ULL << 21)) && (f->caps & (1ULL << 0)),
	   "capabilities bounded to rkt's default set (CHOWN in, SYS_ADMIN out)");
	ok(!f->pre_start, "no pre-start handler unless the image has one");
	pod_free(&pod);

	static const char caps[] =
		"{\"acKind\":\"PodManifest\",\"apps\":[{\"name\":\"front\",\"image\":{\"name\":\"x\"},\"app\":{"
		"\"exec\":[\"/bin/true\"],\"eventHandlers\":[{\"name\":\"pre-start\",\"exec\":[\"/bin/sh\",\"-c\",\"x\"]}],"
		"\"isolators\":[{\"name\":\"os/linux/capabilities-retain-set\",\"value\":{\"set\":[\"CAP_NET_ADMIN\",\"CAP_KILL\"]}}]}},"
		"{\"name\":\"back\",\"image\":{\"name\":\"y\"},\"app\":{\"exec\":[\"/bin/true\"],"
		"\"isolators\":[{\"name\":\"os/linux/capabilities-remove-set\",\"value\":{\"set\":[\"CAP_CHOWN\"]}}]}}]}";
	is(pod_load(caps, strlen(caps), dir, &pod), 0, "capability isolators and a pre-start handler load");
	is(f->caps, (1ULL << 12) | (1ULL << 5), "retain-set: exactly those");
	is(b->caps, pod_default_caps() & ~1ULL, "remove-set: the default set without those");
	ok(f->pre_start && !strcmp(f->pre_start[0], "/bin/sh") && !strcmp(f->pre_start[2], "x") && !f->pre_start[3],
	   "the pre-start handler's exec");
	pod_free(&pod);
	char *bad_cap = strdup(caps);
	memcpy(strstr(bad_cap, "CAP_NET_ADMIN"), "CAP_NET_ADMlN", 13);
	is(load(bad_cap, &pod), -EINVAL, "an unknown capability is refused");
	memcpy(strstr(bad_cap, "pre-start"), "post-stop", 9);
	memcpy(strstr(bad_cap, "CAP_NET_ADMlN"), "CAP_NET_ADMIN", 13);
	is(load(bad_cap, &pod), -EINVAL, "a post-stop handler is refused, not skipped");
	free(bad_cap);
	static const char dev[] = "{\"acKind\":\"PodManifest\",\"apps\":[{\"name\":\"front\",\"image\":{\"name\":\"x\"},"
		"\"app\":{\"exec\":[\"/bin/true\"]},\"mounts\":[{\"volume\":\"d\",\"path\":\"/d\"}]}],"
		"\"volumes\":[{\"name\":\"d\",\"kind\":\"host\",\"source\":\"/dev/null\"}]}";
	is(load(dev, &pod), -EINVAL, "a host volume that is a device is refused");
	static const char gone[] = "{\"acKind\":\"PodManifest\",\"apps\":[{\"name\":\"front\",\"image\":{\"name\":\"x\"},"
		"\"app\":{\"exec\":[\"/bin/true\"]},\"mounts\":[{\"volume\":\"d\",\"path\":\"/d\"}]}],"
		"\"volumes\":[{\"name\":\"d\",\"kind\":\"host\",\"source\":\"/no/such/dir\"}]}";
	is(load(gone, &pod), -ENOENT, "and one whose source is missing");
	// rkt run --port http:8080 --port dns:127.0.0.1:5353: the apps declare the ports by name.
	static const char ports[] = "{\"acKind\":\"PodManifest\",\"apps\":[{\"name\":\"front\",\"image\":{\"name\":\"x\"},"
		"\"app\":{\"exec\":[\"/bin/true\"],\"ports\":[{\"name\":\"http\",\"protocol\":\"tcp\",\"port\":80},"
		"{\"name\":\"dns\",\"protocol\":\"udp\",\"port\":53}]}}],"
		"\"ports\":[{\"name\":\"http\",\"hostPort\":8080},{\"name\":\"dns\",\"hostPort\":5353,\"hostIP\":\"127.0.0.1\"}]}";
	is(pod_load(ports, strlen(ports), dir, &pod), 0, "port forwards (rkt run --port) load");
	struct vm_publish *pub = pod.vm.publish;
	ok(pod.vm.npublish == 2 && pub[0].host_port == 8080 && pub[0].guest_port == 80 && !pub[0].udp &&
	       !pub[0].host_ip[0],
	   "a name's hostPort forwarded to the app's port of that name, TCP, every address");
	ok(pub[1].host_port == 5353 && pub[1].guest_port == 53 && pub[1].udp && !strcmp(pub[1].host_ip, "127.0.0.1"),
	   "a UDP port, on the hostIP given");
	pod_free(&pod);
	char *bad_port = strdup(ports);
	memcpy(strstr(bad_port, "\"dns\",\"hostPort"), "\"dnx\"", 5);
	is(load(bad_port, &pod), -ENOENT, "a forward of a port no app declares is refused");
	free(bad_port);
	bad_port = strdup(ports);
	memcpy(strstr(bad_port, "5353"), "0000", 4);
	is(load(bad_port, &pod), -EINVAL, "a hostPort of 0 is refused");
	free(bad_port);

	is(load("{\"acKind\":\"PodManifest\"", &pod), -EINVAL, "truncated JSON");
	is(load("{\"acKind\":\"ImageManifest\",\"apps\":[]}", &pod), -EINVAL, "not a pod manifest");
	is(load("{\"acKind\":\"PodManifest\",\"apps\":[]}", &pod), -EINVAL, "no apps");
	refused("\"front\"", "\"Front\"", "an app name that is not an AC name");
	refused("\"back\"", "\"gone\"", "an app whose rootfs is missing");
	refused("resource/cpu", "os/linux/xx1", "an isolator clearvm cannot honour");
	refused("\"1500m\"", "\"lots!\"", "a cpu limit that is not a quantity");
	refused("\"volume\":\"data\"", "\"volume\":\"nope\"", "a mount of a volume the pod does not have");
	refused("\"kind\":\"host\"", "\"kind\":\"nfs!\"", "a volume kind other than host or empty");
	refused("\"exec\":[\"/bin/true\"]", "\"exec\":[          1]", "an exec entry that is not a string");
	refused("\"user\":\"web\"", "\"user\":\"who\"", "a user the app's rootfs does not know");

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ok(system(cmd) == 0, "cleaned up");
	return tap_done();
}
