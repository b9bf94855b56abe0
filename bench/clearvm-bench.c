// SPDX-License-Identifier: Apache-2.0
// clearvm-bench: boots a kernel, rootfs and command N times with clearvm and prints min, p50,
// p90, p99 and max of every boot phase, as a table and as JSON, beside the bare KVM floor. --parallel K boots K VMs at a
// time and reports the memory they used together and how much the host's used memory grew
// while they ran; --compare qemu alternates each clearvm run with QEMU microvm booting the same
// kernel, initramfs, launch spec, memory and rootfs; --compare cold adds a clearvm run that
// boots cold. clearvm starts from a template of its own directory, built by a first run that
// is not counted (--no-template: every run boots cold).
//
// --network MODE (passt, the default, or none) is passed to every clearvm run; QEMU's runs get
// the same: a virtio-net-device on a stream netdev to a passt started the way clearvm starts
// it, and the same network node in the launch spec. --qemu-once boots the command once in
// QEMU, the guest's stdout and stderr on the bench's, and exits with its status: the QEMU side
// of bench/net-bench.sh.
//
// Every run, counted or not, must end with --expect-status (default 0), or no figure is
// printed at all.
//
//   clearvm-bench [--runs N] [--parallel K] [--compare qemu|cold]... [--no-template]
//                 [--expect-status N] [--json FILE] [--memory MIB] [--network MODE] [--qemu-once]
//                 --kernel VMLINUX --initramfs CPIO --rootfs DIR -- COMMAND [ARG...]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../guest-init/abi.h"
#include "../vmm/config.h"
#include "../vmm/net/net.h"
#include "../vmm/spec.h"
#include "../vmm/trace.h"
#include "../vmm/util.h"

#define MAX_RUNS 10000
#define MAX_PARALLEL 64

// The phases of the boot trace after its origin (TRACE_START), by their names in its JSON.
#define NPHASES (TRACE_NR - 1)
#define PHASE(i) trace_phase_name((enum trace_phase)(TRACE_PARSED + (i)))
#define P_FIRST_RUN (TRACE_FIRST_RUN - 1) // clearvm's host-side setup ends there
// Series: each phase, then whole-run wall times and per-run figures.
enum { S_WALL = NPHASES, S_QEMU_WALL, S_COLD_WALL, S_FLOOR, S_EXITS, S_VMM_RSS, S_TOUCHED_MIB, NSERIES };
static const char *const extra_names[] = {"wall_ms", "qemu_wall_ms", "cold_wall_ms", "kvm_floor_ms",
					  "exits", "vmm_rss_kib", "guest_touched_mib"};

struct series {
	double *v;
	size_t n;
};

static struct opts {
	unsigned runs, parallel, memory;
	bool qemu, cold, no_template, qemu_once;
	char template_dir[PATH_MAX];
	const char *json, *kernel, *initramfs, *rootfs;
	const char *network; // --network for clearvm (NULL: its default)
	char **cmd;
	char clearvm[PATH_MAX + 16];
	int expect; // the status every run must end with (--expect-status, default 0)
} o = {.runs = 10, .parallel = 1, .memory = 256};

// The bench's scratch and template directories, removed at its end, also when it dies.
static char scratch_dir[PATH_MAX];

static void remove_dirs(void)
{
	char rm[3 * PATH_MAX + 16];
	if (!scratch_dir[0])
		return;
	snprintf(rm, sizeof(rm), "rm -rf '%s' '%s'", scratch_dir, o.template_dir);
	if (system(rm) != 0)
		fprintf(stderr, "clearvm-bench: could not remove %s\n", scratch_dir);
	scratch_dir[0] = '\0';
}

static __attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "clearvm-bench: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	while (wait(NULL) > 0) // runs still going (--parallel): they end by themselves
		;
	remove_dirs();
	exit(2);
}

// A timed run that did not do what it was asked (the command's status is not --expect-status)
// ends the benchmark with no figure: a failed exec is fast, and would time nothing.
static void check_status(const char *what, int ws, int status)
{
	if (status == o.expect)
		return;
	if (WIFSIGNALED(ws))
		die("a %s run died of signal %d: no figures", what, WTERMSIG(ws));
	die("a %s run ended with status %d, not %d as expected: no figures", what, status, o.expect);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void add(struct series *s, double v)
{
	s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

// Nearest-rank percentile of a sorted series.
static double pct(const struct series *s, double p)
{
	size_t rank = (size_t)(p / 100.0 * (double)s->n + 0.999999);
	return s->v[rank ? rank - 1 : 0];
}

// argv in a child whose stdin is /dev/null, and stdout too unless `show`; `keep` (unless -1)
// is inherited across the exec.
static pid_t spawn_with(char **argv, bool show, int keep)
{
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		if (!show)
			dup2(null, 1);
		if (keep >= 0)
			fcntl(keep, F_SETFD, 0);
		execv(argv[0], argv);
		fprintf(stderr, "clearvm-bench: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

static pid_t spawn(char **argv)
{
	return spawn_with(argv, false, -1);
}

// Adds one clearvm run's --stats-json figures to the series; false when the file is bad.
static bool collect(const char *path, struct series *s)
{
	json_object *root = json_object_from_file(path), *ph, *v, *ex;
	if (!root || !json_object_object_get_ex(root, "phases_ms", &ph)) {
		json_object_put(root);
		return false;
	}
	for (size_t i = 0; i < NPHASES; i++)
		if (json_object_object_get_ex(ph, PHASE(i), &v) && json_object_is_type(v, json_type_double))
			add(&s[i], json_object_get_double(v));
	uint64_t exits = 0;
	static const char *const kinds[] = {"pio", "mmio", "other"};
	for (size_t i = 0; i < 3; i++)
		if (json_object_object_get_ex(root, "exits", &ex) && json_object_object_get_ex(ex, kinds[i], &v))
			exits += json_object_get_uint64(v);
	add(&s[S_EXITS], (double)exits);
	if (json_object_object_get_ex(root, "vmm_rss_kib", &v))
		add(&s[S_VMM_RSS], (double)json_object_get_uint64(v));
	if (json_object_object_get_ex(root, "guest_pages_touched", &v))
		add(&s[S_TOUCHED_MIB], (double)json_object_get_uint64(v) * 4096 / (1 << 20));
	json_object_put(root);
	return true;
}

// What the template's saved guest memory holds (the allocated blocks of its sparse file), MiB.
static double template_size_mib(void)
{
	DIR *d = opendir(o.template_dir);
	struct dirent *e;
	double mib = 0;
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		struct stat st;
		if (n > 4 && !strcmp(e->d_name + n - 4, ".mem") && fstatat(dirfd(d), e->d_name, &st, 0) == 0)
			mib += (double)st.st_blocks * 512 / (1 << 20);
	}
	if (d)
		closedir(d);
	return mib;
}

// The host's memory in use (MemTotal - MemAvailable), in MiB.
static double host_used_mib(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	double total = 0, avail = 0, v;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemTotal: %lf kB", &v) == 1)
			total = v;
		else if (sscanf(line, "MemAvailable: %lf kB", &v) == 1)
			avail = v;
	}
	if (f)
		fclose(f);
	return (total - avail) / 1024;
}

// K clearvm boots at once (cold: --no-template); their wall times and figures go into s, or
// (extra: the cold runs of --compare cold) only their wall times, as cold_wall_ms.
// Returns the memory the K used together at their ends (VMM RSS + guest pages touched, in
// MiB); *growth gets the most the host's used memory grew while they ran.
static double round_clearvm(unsigned k, const char *dir, bool cold, bool extra, struct series *s,
			    double *growth)
{
	pid_t pids[MAX_PARALLEL];
	double t0[MAX_PARALLEL];
	char json[MAX_PARALLEL][PATH_MAX];
	size_t before_rss = s[S_VMM_RSS].n;
	for (unsigned i = 0; i < k; i++) {
		snprintf(json[i], sizeof(json[i]), "%s/stats-%u.json", dir, i);
		char mem[16];
		snprintf(mem, sizeof(mem), "%u", o.memory);
		char *argv[64] = {o.clearvm, "--kernel", (char *)o.kernel, "--initramfs", (char *)o.initramfs,
				  "--rootfs", (char *)o.rootfs, "--memory", mem, "--timeout", "300",
				  "--stats-json", json[i]};
		int n = 13;
		if (cold) {
			argv[n++] = "--no-template";
		} else {
			argv[n++] = "--template-dir";
			argv[n++] = o.template_dir;
		}
		if (o.network) {
			argv[n++] = "--network";
			argv[n++] = (char *)o.network;
		}
		argv[n++] = "--";
		for (char **c = o.cmd; *c && n < 63; c++)
			argv[n++] = *c;
		argv[n] = NULL;
		t0[i] = now_ms();
		pids[i] = spawn(argv);
	}
	double before = host_used_mib();
	*growth = 0;
	for (unsigned done = 0; done < k;) {
		int ws;
		pid_t pid = waitpid(-1, &ws, WNOHANG);
		if (pid <= 0) {
			*growth = MAX(*growth, host_used_mib() - before);
			usleep(20000);
			continue;
		}
		done++;
		for (unsigned i = 0; i < k; i++)
			if (pids[i] == pid) {
				add(&s[extra ? S_COLD_WALL : S_WALL], now_ms() - t0[i]);
				check_status(cold ? "clearvm --no-template" : "clearvm", ws, WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
			}
	}
	for (unsigned i = 0; i < k; i++) {
		if (!extra && !collect(json[i], s))
			die("no stats from clearvm in %s", json[i]);
		unlink(json[i]);
	}
	double mib = 0;
	for (size_t i = before_rss; i < s[S_VMM_RSS].n; i++)
		mib += s[S_VMM_RSS].v[i] / 1024 + s[S_TOUCHED_MIB].v[i];
	return mib;
}

// QEMU's runs' configuration: the workload and the network (its address, MAC and passt's).
static struct vm_config qemu_cfg;

// The initramfs QEMU boots: guest-init's, then the launch spec clearvm would have appended.
static void make_qemu_initrd(const char *path)
{
	static char *env[] = {"PATH=" CONFIG_DEFAULT_PATH, "HOME=/root", NULL};
	struct vm_config cfg = {.argv = o.cmd, .env = env, .nenv = 2, .workdir = "/", .hostname = "clearvm"};
	if (net_parse_mode(o.network ? o.network : "passt", &cfg) < 0 || cfg.network == NETWORK_TAP)
		die("--network %s: QEMU's runs take passt or none", o.network);
	if (cfg.network != NETWORK_NONE && net_resolve(&cfg) < 0)
		die("%s", "no network for QEMU's runs (see above)");
	uint8_t *cpio;
	size_t cpio_size;
	if (spec_build_archive(&cfg, &cpio, &cpio_size) < 0)
		die("cannot build the launch spec");
	FILE *in = fopen(o.initramfs, "rb"), *out = fopen(path, "wb");
	if (!in || !out)
		die("cannot copy %s", o.initramfs);
	char buf[65536];
	size_t n, total = 0;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		total += fwrite(buf, 1, n, out);
	static const char zeros[4];
	fwrite(zeros, 1, (4 - total % 4) % 4, out);
	fwrite(cpio, 1, cpio_size, out);
	fclose(in);
	fclose(out);
	free(cpio);
	qemu_cfg = cfg;
}

// A file's bytes onto `to`, and the file removed.
static void copy_out(const char *path, FILE *to)
{
	FILE *f = fopen(path, "rb");
	char buf[65536];
	size_t n;
	while (f && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, to);
	if (f)
		fclose(f);
	fflush(to);
	unlink(path);
}

// One QEMU microvm boot of the same guest; its wall time in ms (its passt's start included, as
// clearvm's is). isa-debug-exit at guest-init's exit port makes QEMU exit with
// (status << 1) | 1. `show`: the guest's stdout and stderr on ours.
static double qemu_boot(const char *initrd, bool show, int *status)
{
	char mem[16], fsdev[PATH_MAX + 64], netdev[64], nic[64], out[PATH_MAX + 48] = "null,id=o",
								  err[PATH_MAX + 48] = "null,id=e";
	snprintf(mem, sizeof(mem), "%u", o.memory);
	char out_path[PATH_MAX + 16], err_path[PATH_MAX + 16];
	snprintf(out_path, sizeof(out_path), "%s/guest-stdout", scratch_dir);
	snprintf(err_path, sizeof(err_path), "%s/guest-stderr", scratch_dir);
	if (show) { // into files, copied out when QEMU is done: its file chardev cannot take an fd
		snprintf(out, sizeof(out), "file,id=o,path=%s", out_path);
		snprintf(err, sizeof(err), "file,id=e,path=%s", err_path);
	}
	double t0 = now_ms();
	struct net_backend passt = {.fd = -1, .vhost = -1};
	bool net = qemu_cfg.network != NETWORK_NONE;
	if (net && passt_start(&qemu_cfg, &passt) < 0)
		die("%s", "cannot start passt for QEMU");
	const uint8_t *m = qemu_cfg.net.mac;
	snprintf(netdev, sizeof(netdev), "stream,id=n,server=off,addr.type=fd,addr.str=%d", passt.fd);
	snprintf(nic, sizeof(nic), "virtio-net-device,netdev=n,mac=%02x:%02x:%02x:%02x:%02x:%02x", m[0],
		 m[1], m[2], m[3], m[4], m[5]);
	snprintf(fsdev, sizeof(fsdev), "local,id=root,path=%s,security_model=none", o.rootfs);
	char *argv[] = {"/usr/bin/qemu-system-x86_64",
		"-M", "microvm,x-option-roms=off,pit=off,pic=off,rtc=off,acpi=off", "-serial", "null",
		"-accel", "kvm", "-cpu", "host", "-m", mem, "-smp", "1", "-nodefaults", "-no-user-config",
		"-display", "none", "-kernel", (char *)o.kernel, "-initrd", (char *)initrd,
		"-append", "quiet " ABI_KERNEL_ARGS,
		"-fsdev", fsdev, "-device", "virtio-9p-device,fsdev=root,mount_tag=" ABI_ROOT_TAG,
		"-device", "virtio-serial-device",
		"-chardev", out, "-device", "virtserialport,chardev=o,name=stdout",
		"-chardev", err, "-device", "virtserialport,chardev=e,name=stderr",
		"-chardev", "null,id=i", "-device", "virtserialport,chardev=i,name=stdin",
		"-chardev", "null,id=c", "-device", "virtserialport,chardev=c,name=control",
		"-device", "isa-debug-exit,iobase=0x5f0,iosize=4", net ? "-netdev" : NULL, netdev,
		"-device", nic, NULL};
	int ws;
	waitpid(spawn_with(argv, show, passt.fd), &ws, 0);
	double t = now_ms() - t0;
	net_backend_stop(&passt);
	if (show) {
		copy_out(out_path, stdout);
		copy_out(err_path, stderr);
	}
	// isa-debug-exit: (status << 1) | 1; an even status is QEMU's own failure (said on stderr).
	*status = WIFEXITED(ws) && (WEXITSTATUS(ws) & 1) ? WEXITSTATUS(ws) >> 1 : -1;
	return t;
}

static double run_qemu(const char *initrd)
{
	int status;
	double t = qemu_boot(initrd, false, &status);
	check_status("qemu", 0, status);
	return t;
}

// The bare KVM floor: in a fresh child, open /dev/kvm, create a VM, map memory, create a
// vCPU and run it to its first exit (an OUT instruction at the reset vector). Its ms, or -1.
static double kvm_floor(void)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		double t0 = now_ms(), t = -1;
		int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		int vm = kvm < 0 ? -1 : ioctl(kvm, KVM_CREATE_VM, 0);
		size_t size = 2 << 20;
		uint8_t *ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		struct kvm_userspace_memory_region region = {.memory_size = size, .userspace_addr = (uintptr_t)ram};
		int vcpu = vm < 0 || ram == MAP_FAILED || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0
				   ? -1 : ioctl(vm, KVM_CREATE_VCPU, 0);
		int run_size = vcpu < 0 ? -1 : ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
		struct kvm_run *run = run_size <= 0 ? MAP_FAILED
				      : mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
		struct kvm_sregs sregs;
		if (run != MAP_FAILED && ioctl(vcpu, KVM_GET_SREGS, &sregs) == 0) {
			ram[0] = 0xe6; // out 0x10, al
			ram[1] = 0x10;
			sregs.cs.base = 0;
			sregs.cs.selector = 0;
			struct kvm_regs regs = {.rip = 0, .rflags = 2};
			if (ioctl(vcpu, KVM_SET_SREGS, &sregs) == 0 && ioctl(vcpu, KVM_SET_REGS, &regs) == 0 &&
			    ioctl(vcpu, KVM_RUN, 0) == 0 && run->exit_reason == KVM_EXIT_IO)
				t = now_ms() - t0;
		}
		if (write(p[1], &t, sizeof(t)) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	double t = -1;
	if (pid < 0 || read(p[0], &t, sizeof(t)) != sizeof(t))
		t = -1;
	close(p[0]);
	waitpid(pid, NULL, 0);
	return t;
}

static void print_row(const char *name, struct series *s)
{
	if (!s->n)
		return;
	qsort(s->v, s->n, sizeof(double), cmp_double);
	printf("%-20s %10.1f %10.1f %10.1f %10.1f %10.1f %6zu\n", name, s->v[0], pct(s, 50), pct(s, 90),
	       pct(s, 99), s->v[s->n - 1], s->n);
}

static json_object *json_row(const struct series *s)
{
	json_object *r = json_object_new_object();
	json_object_object_add(r, "n", json_object_new_int((int)s->n));
	json_object_object_add(r, "min", json_object_new_double(s->v[0]));
	json_object_object_add(r, "p50", json_object_new_double(pct(s, 50)));
	json_object_object_add(r, "p90", json_object_new_double(pct(s, 90)));
	json_object_object_add(r, "p99", json_object_new_double(pct(s, 99)));
	json_object_object_add(r, "max", json_object_new_double(s->v[s->n - 1]));
	return r;
}

static void parse(int argc, char **argv)
{
	static const struct option opts[] = {
		{"runs", required_argument, NULL, 'n'},   {"parallel", required_argument, NULL, 'p'},
		{"compare", required_argument, NULL, 'q'}, {"json", required_argument, NULL, 'j'},
		{"memory", required_argument, NULL, 'm'},  {"kernel", required_argument, NULL, 'k'},
		{"initramfs", required_argument, NULL, 'i'}, {"rootfs", required_argument, NULL, 'r'},
		{"no-template", no_argument, NULL, 'T'},   {"help", no_argument, NULL, 'h'},
		{"expect-status", required_argument, NULL, 'x'}, {"network", required_argument, NULL, 'N'},
		{"qemu-once", no_argument, NULL, 'Q'}, {0}};
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "+n:p:m:h", opts, NULL)) != -1) {
		unsigned long v = optarg ? strtoul(optarg, &end, 10) : 0;
		bool num = optarg && *optarg && !*end;
		switch (c) {
		case 'n': if (!num || !v || v > MAX_RUNS) die("--runs %s: expected 1 to 10000", optarg); o.runs = (unsigned)v; break;
		case 'p': if (!num || !v || v > MAX_PARALLEL) die("--parallel %s: expected 1 to 64", optarg); o.parallel = (unsigned)v; break;
		case 'm': if (!num || v < 32 || v > 3072) die("--memory %s: expected 32 to 3072", optarg); o.memory = (unsigned)v; break;
		case 'q':
			if (!strcmp(optarg, "qemu"))
				o.qemu = true;
			else if (!strcmp(optarg, "cold"))
				o.cold = true;
			else
				die("--compare %s: expected qemu or cold", optarg);
			break;
		case 'T': o.no_template = true; break;
		case 'x': if (!num || v > 255) die("--expect-status %s: expected 0 to 255", optarg); o.expect = (int)v; break;
		case 'j': o.json = optarg; break;
		case 'N': o.network = optarg; break;
		case 'Q': o.qemu_once = true; break;
		case 'k': o.kernel = optarg; break;
		case 'i': o.initramfs = optarg; break;
		case 'r': o.rootfs = optarg; break;
		case 'h':
			puts("usage: clearvm-bench [--runs N] [--parallel K] [--compare qemu|cold]... [--no-template]\n"
			     "                     [--expect-status N] [--json FILE] [--memory MIB] [--network MODE]\n"
			     "                     [--qemu-once]\n"
			     "                     --kernel VMLINUX --initramfs CPIO --rootfs DIR\n"
			     "                     -- COMMAND [ARG...]");
			exit(0);
		default: die("%s: unknown option (see --help)", argv[optind - 1]);
		}
	}
	if (!o.kernel || !o.initramfs || !o.rootfs || optind >= argc)
		die("%s", "--kernel, --initramfs, --rootfs and a command are required (see --help)");
	o.cmd = &argv[optind];
	// clearvm is installed beside clearvm-bench (the build tree: one directory up).
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	snprintf(o.clearvm, sizeof(o.clearvm), "%s/clearvm", self);
	if (access(o.clearvm, X_OK) != 0)
		snprintf(o.clearvm, sizeof(o.clearvm), "%s/../clearvm", self);
	if (access(o.clearvm, X_OK) != 0)
		die("cannot find clearvm beside %s", self);
}

int main(int argc, char **argv)
{
	parse(argc, argv);
	char dir[] = "/tmp/clearvm-bench.XXXXXX", initrd[PATH_MAX];
	if (!mkdtemp(dir))
		die("mkdtemp: %s", strerror(errno));
	snprintf(scratch_dir, sizeof(scratch_dir), "%s", dir);
	snprintf(initrd, sizeof(initrd), "%s/qemu-initrd", dir);
	if (o.qemu || o.qemu_once)
		make_qemu_initrd(initrd);
	if (o.qemu_once) { // the guest's status is the bench's (checked by the caller)
		int status;
		double t = qemu_boot(initrd, true, &status);
		remove_dirs();
		fprintf(stderr, "clearvm-bench: QEMU ran for %.1f ms\n", t);
		exit(status < 0 ? EXIT_CLEARVM_FAILED : status);
	}

	size_t cap = (size_t)o.runs * o.parallel + 1;
	struct series s[NSERIES], mem = {calloc(o.runs, sizeof(double)), 0}, grow = {calloc(o.runs, sizeof(double)), 0};
	for (int i = 0; i < NSERIES; i++)
		s[i] = (struct series){calloc(cap, sizeof(double)), 0};
	// Templates on a tmpfs where there is one, as a user's cache usually is on a local disk.
	char shm[] = "/dev/shm/clearvm-bench.XXXXXX";
	if (mkdtemp(shm))
		snprintf(o.template_dir, sizeof(o.template_dir), "%s", shm);
	else
		snprintf(o.template_dir, sizeof(o.template_dir), "%s/templates", dir);
	double g, template_mib = 0;
	if (!o.no_template) { // builds the template: not counted
		struct series scratch[NSERIES];
		for (int i = 0; i < NSERIES; i++)
			scratch[i] = (struct series){calloc(cap, sizeof(double)), 0};
		round_clearvm(1, dir, false, false, scratch, &g);
		template_mib = template_size_mib();
		for (int i = 0; i < NSERIES; i++)
			free(scratch[i].v);
	}
	for (unsigned r = 0; r < o.runs; r++) {
		fprintf(stderr, "\rclearvm-bench: run %u/%u", r + 1, o.runs);
		double floor_ms = kvm_floor();
		if (floor_ms >= 0)
			add(&s[S_FLOOR], floor_ms);
		add(&mem, round_clearvm(o.parallel, dir, o.no_template, false, s, &g));
		add(&grow, g);
		if (o.cold)
			round_clearvm(1, dir, true, true, s, &g);
		if (o.qemu)
			add(&s[S_QEMU_WALL], run_qemu(initrd));
	}
	fprintf(stderr, "\n");
	unlink(initrd);
	remove_dirs();

	printf("%u runs of %u VM%s, %u MiB, network %s, ms since clearvm started unless named\n", o.runs,
	       o.parallel, o.parallel > 1 ? "s at once" : "", o.memory, o.network ? o.network : "default");
	printf("%-20s %10s %10s %10s %10s %10s %6s\n", "phase", "min", "p50", "p90", "p99", "max", "n");
	for (size_t i = 0; i < NPHASES; i++)
		print_row(PHASE(i), &s[i]);
	for (int i = S_WALL; i < NSERIES; i++)
		print_row(extra_names[i - S_WALL], &s[i]);
	print_row("memory_together_mib", &mem);
	print_row("host_growth_mib", &grow);
	if (!o.no_template)
		printf("template: %.1f MiB of saved guest memory; %u VMs at once from it grew the host's "
		       "used memory by %.1f MiB (p50), %.2fx the template\n", template_mib, o.parallel,
		       pct(&grow, 50), template_mib > 0 ? pct(&grow, 50) / template_mib : 0);
	// (print_row sorted every series: percentiles below read them sorted)
	double ratio = o.qemu && s[S_QEMU_WALL].n ? pct(&s[S_WALL], 50) / pct(&s[S_QEMU_WALL], 50) : 0;
	if (o.qemu)
		printf("clearvm/qemu wall time, p50: %.2f\n", ratio);
	double cold_ratio = o.cold && s[S_COLD_WALL].n ? pct(&s[S_WALL], 50) / pct(&s[S_COLD_WALL], 50) : 0;
	if (o.cold)
		printf("clearvm/clearvm --no-template wall time, p50: %.2f\n", cold_ratio);
	double setup = s[S_FLOOR].n ? pct(&s[P_FIRST_RUN], 50) / pct(&s[S_FLOOR], 50) : 0;
	if (s[S_FLOOR].n)
		printf("clearvm start to first KVM_RUN / bare KVM floor, p50: %.2f\n", setup);

	if (o.json) {
		json_object *root = json_object_new_object();
		json_object_object_add(root, "runs", json_object_new_int((int)o.runs));
		json_object_object_add(root, "parallel", json_object_new_int((int)o.parallel));
		json_object_object_add(root, "memory_mib", json_object_new_int((int)o.memory));
		json_object_object_add(root, "network", json_object_new_string(o.network ? o.network : "default"));
		for (size_t i = 0; i < NPHASES; i++)
			if (s[i].n)
				json_object_object_add(root, PHASE(i), json_row(&s[i]));
		for (int i = S_WALL; i < NSERIES; i++)
			if (s[i].n)
				json_object_object_add(root, extra_names[i - S_WALL], json_row(&s[i]));
		json_object_object_add(root, "memory_together_mib", json_row(&mem));
		json_object_object_add(root, "host_growth_mib", json_row(&grow));
		json_object_object_add(root, "template", json_object_new_boolean(!o.no_template));
		if (o.cold)
			json_object_object_add(root, "clearvm_cold_ratio_p50", json_object_new_double(cold_ratio));
		if (o.qemu)
			json_object_object_add(root, "clearvm_qemu_ratio_p50", json_object_new_double(ratio));
		if (s[S_FLOOR].n)
			json_object_object_add(root, "setup_floor_ratio_p50", json_object_new_double(setup));
		if (json_object_to_file_ext(o.json, root, JSON_C_TO_STRING_PRETTY) < 0)
			die("cannot write %s", o.json);
		json_object_put(root);
	}
	return 0;
}
