// SPDX-License-Identifier: Apache-2.0
// Command line -> struct vm_config. Every error is one line, before any VM work.
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "kvm_host.h"
#include "net/net.h"
#include "util.h"
#include "../firmware/layout.h"

#ifndef CLEARVM_VERSION
#define CLEARVM_VERSION "0"
#endif

static const char usage[] =
	"Usage: clearvm [OPTIONS] --rootfs DIR -- COMMAND [ARG...]\n"
	"       clearvm [--root DIR] [--log FILE] [--log-format text|json] create|start|state|kill|delete|exec|ps|pause|resume|features ...\n"
	"Run COMMAND with DIR as its root filesystem, inside its own KVM virtual machine; or, as an\n"
	"OCI runtime (the second form, as runc's), a container of an OCI bundle.\n"
	"\n"
	"  -r, --rootfs DIR      the container's root directory, shared read-write (required)\n"
	"  -e, --env KEY=VALUE   set an environment variable (repeatable)\n"
	"      --env-file FILE   read KEY=VALUE lines from FILE (# comments; KEY alone: from here)\n"
	"  -w, --workdir DIR     working directory inside the container (default /)\n"
	"  -u, --user U[:G]      run as user U and group G, names or numbers (default root)\n"
	"      --hostname NAME   the container's hostname (default clearvm)\n"
	"  -v, --volume H:G[:ro] share host directory or file H at G in the container (repeatable)\n"
	"      --read-only       the rootfs cannot be written\n"
	"      --fs virtiofs|9p  how the root is shared: virtiofs (default): the guest caches its\n"
	"                        names, attributes and pages (changes made to it on the host while\n"
	"                        the container runs may not be seen); 9p: no cache in the guest\n"
	"      --volume-fs 9p|virtiofs  how volumes are shared: 9p (default) or virtiofs, either\n"
	"                        way with nothing cached in the guest (host changes are seen)\n"
	"      --network MODE    passt (default): user-mode networking through passt, the guest\n"
	"                        with the host's address, gateway and nameservers (IPv6 too where\n"
	"                        the host has it); none: loopback only; tap:NAME: an existing\n"
	"                        tap device (root, or its owner)\n"
	"      --ip ADDR/PREFIX  tap: the guest's address, IPv4 or IPv6 (once each; default: the\n"
	"                        next after the tap's own)\n"
	"      --gateway ADDR    tap: the guest's default route, IPv4 or IPv6 (default: the tap's\n"
	"                        own address)\n"
	"      --vhost-net MODE  tap: auto (default): the host kernel's vhost-net moves the frames\n"
	"                        when /dev/vhost-net can be opened; on: it must; off: clearvm does\n"
	"  -p, --publish [IP:]HOST:GUEST[/tcp|/udp]  forward the host's port HOST (on IP, else\n"
	"                        every address; IPv6 in brackets) to the guest's port GUEST\n"
	"                        (repeatable)\n"
	"      --dns ADDR        the guest's nameserver instead of the host's, IPv4 or IPv6\n"
	"                        (repeatable, 3 at most)\n"
	"  -i, --interactive     pass clearvm's stdin to the command (EOF included)\n"
	"  -t, --tty             run the command on a terminal (a pty in the guest); with -i,\n"
	"                        clearvm's terminal is put in raw mode and follows its size\n"
	"      --stop-timeout S  after forwarding SIGINT/SIGTERM/SIGHUP, SIGKILL the command\n"
	"                        if it has not ended in S seconds (default 10)\n"
	"  -m, --memory MIB      guest memory in MiB (default 256, 32..3072)\n"
	"  -c, --cpus N          virtual CPUs (default 1, at most 64)\n"
	"      --timeout SEC     stop the VM and fail after SEC seconds\n"
	"      --kernel PATH     guest kernel, an uncompressed vmlinux (default: installed one)\n"
	"      --initramfs PATH  guest-init initramfs (default: installed one)\n"
	"      --console         show the guest kernel's log on stderr\n"
	"      --append ARGS     add ARGS to the guest kernel command line (debugging)\n"
	"      --verbose         debug messages from clearvm itself\n"
	"      --no-template     boot the kernel cold instead of starting from a template\n"
	"      --template-dir DIR  where templates are kept (default: $CLEARVM_TEMPLATE_DIR,\n"
	"                        else $XDG_CACHE_HOME or ~/.cache, then clearvm/templates)\n"
	"      --seccomp MODE    kill (default): a system call outside a thread's allowlist kills\n"
	"                        clearvm; log: only log it (debugging); off: no filters\n"
	"      --boot-trace      at exit, print when each boot phase was reached, the guest's\n"
	"                        exits to clearvm, the memory used and the 9p requests, on stderr\n"
	"      --stats-json FILE write the same figures to FILE as JSON\n"
	"  -h, --help            this text\n"
	"      --version         clearvm's version\n"
	"      --check-kvm       say whether this host's /dev/kvm can run guests (missing,\n"
	"                        software or hardware); exit 0 only for hardware\n"
	"\n"
	"Exit status: COMMAND's own; 128+N when it died of signal N; 125 when clearvm failed;\n"
	"126 when COMMAND cannot be executed; 127 when it is not found.\n";

enum {
	OPT_TIMEOUT = 256, OPT_KERNEL, OPT_INITRAMFS, OPT_CONSOLE, OPT_APPEND, OPT_VERSION,
	OPT_ENV_FILE, OPT_HOSTNAME, OPT_READ_ONLY, OPT_VERBOSE, OPT_STOP_TIMEOUT, OPT_BOOT_TRACE, OPT_STATS_JSON,
	OPT_SECCOMP, OPT_FS, OPT_VOLUME_FS, OPT_NO_TEMPLATE, OPT_TEMPLATE_DIR, OPT_CHECK_KVM, OPT_NETWORK, OPT_DNS, OPT_IP, OPT_GATEWAY, OPT_VHOST_NET,
};

static const struct option options[] = {
	{"rootfs", required_argument, NULL, 'r'},
	{"env", required_argument, NULL, 'e'},
	{"workdir", required_argument, NULL, 'w'},
	{"memory", required_argument, NULL, 'm'},
	{"cpus", required_argument, NULL, 'c'},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"kernel", required_argument, NULL, OPT_KERNEL},
	{"initramfs", required_argument, NULL, OPT_INITRAMFS},
	{"console", no_argument, NULL, OPT_CONSOLE},
	{"append", required_argument, NULL, OPT_APPEND},
	{"verbose", no_argument, NULL, OPT_VERBOSE},
	{"boot-trace", no_argument, NULL, OPT_BOOT_TRACE},
	{"stats-json", required_argument, NULL, OPT_STATS_JSON},
	{"env-file", required_argument, NULL, OPT_ENV_FILE},
	{"user", required_argument, NULL, 'u'},
	{"hostname", required_argument, NULL, OPT_HOSTNAME},
	{"volume", required_argument, NULL, 'v'},
	{"read-only", no_argument, NULL, OPT_READ_ONLY},
	{"interactive", no_argument, NULL, 'i'},
	{"tty", no_argument, NULL, 't'},
	{"stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT},
	{"seccomp", required_argument, NULL, OPT_SECCOMP},
	{"fs", required_argument, NULL, OPT_FS},
	{"volume-fs", required_argument, NULL, OPT_VOLUME_FS},
	{"no-template", no_argument, NULL, OPT_NO_TEMPLATE},
	{"template-dir", required_argument, NULL, OPT_TEMPLATE_DIR},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{"check-kvm", no_argument, NULL, OPT_CHECK_KVM},
	{"network", required_argument, NULL, OPT_NETWORK},
	{"publish", required_argument, NULL, 'p'},
	{"dns", required_argument, NULL, OPT_DNS},
	{"ip", required_argument, NULL, OPT_IP},
	{"gateway", required_argument, NULL, OPT_GATEWAY},
	{"vhost-net", required_argument, NULL, OPT_VHOST_NET},
	{0},
};

static int parse_uint(const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || errno || s[0] == '-' || v < min || v > max)
		return log_err(0, "%s: %s: expected a whole number from %" PRIu64 " to %" PRIu64,
			       what, s, min, max);
	*out = v;
	return 0;
}

static bool valid_hostname(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") == n;
}

// --env-file: KEY=VALUE lines; blank lines and '#' comments skipped; a bare KEY takes the
// value clearvm itself has, if any (as docker does).
static int read_env_file(struct vm_config *cfg, const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return log_err(errno, "--env-file %s", path);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int r = 0;
	unsigned lineno = 0;
	while (r == 0 && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (strlen(line) != (size_t)len) {
			r = log_err(0, "--env-file %s:%u: a NUL byte", path, lineno);
		} else if (!strchr(line, '=')) {
			const char *v = getenv(line);
			if (v) {
				_cleanup_free_ char *kv = NULL;
				r = asprintf(&kv, "%s=%s", line, v) < 0 ? -ENOMEM : config_set_env(cfg, kv);
			}
		} else if (line[0] == '=') {
			r = log_err(0, "--env-file %s:%u: a line with no name", path, lineno);
		} else {
			r = config_set_env(cfg, line);
		}
	}
	free(line);
	fclose(f);
	return r;
}

static bool has_dotdot(const char *p)
{
	for (const char *c = p; (c = strstr(c, "..")); c += 2)
		if ((c == p || c[-1] == '/') && (c[2] == '\0' || c[2] == '/'))
			return true;
	return false;
}

// -v HOST:GUEST[:ro|:rw]: HOST an existing directory or regular file, GUEST absolute and not
// the root.
static int add_volume(struct vm_config *cfg, char *arg)
{
	if (cfg->nvolumes == CONFIG_MAX_VOLUMES)
		return log_err(E2BIG, "--volume %s: at most %d volumes", arg, CONFIG_MAX_VOLUMES);
	char *host = arg, *guest = strchr(arg, ':');
	if (!guest || guest == host)
		return log_err(0, "--volume %s: expected HOST:GUEST[:ro]", arg);
	*guest++ = '\0';
	char *mode = strchr(guest, ':');
	bool ro = false;
	if (mode) {
		*mode++ = '\0';
		if (!strcmp(mode, "ro"))
			ro = true;
		else if (strcmp(mode, "rw") != 0)
			return log_err(0, "--volume %s:%s:%s: the mode must be ro or rw", host, guest, mode);
	}
	if (guest[0] != '/' || guest[strspn(guest, "/")] == '\0' || has_dotdot(guest))
		return log_err(0, "--volume %s:%s: the container path must be absolute, not / and without ..",
			       host, guest);
	struct stat st;
	if (stat(host, &st) < 0)
		return log_err(errno, "--volume %s", host);
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return log_err(0, "--volume %s: not a directory or a regular file", host);
	cfg->volumes[cfg->nvolumes++] =
		(struct vm_volume){.host = host, .guest = guest, .readonly = ro, .file = S_ISREG(st.st_mode)};
	return 0;
}

int cli_parse(int argc, char **argv, struct vm_config *cfg)
{
	config_defaults(cfg);
	uint64_t v;
	int opt, r;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+r:e:w:m:c:u:v:p:ith", options, NULL)) != -1) {
		switch (opt) {
		case 'r': cfg->rootfs = optarg; break;
		case 'e':
			if ((r = config_set_env(cfg, optarg)) < 0)
				return r;
			break;
		case 'w':
			if (optarg[0] != '/')
				return log_err(0, "--workdir %s: must be an absolute path", optarg);
			cfg->workdir = optarg;
			break;
		case 'm':
			if ((r = parse_uint("--memory", optarg, CONFIG_MIN_MEMORY_MIB,
					    LAYOUT_MAX_RAM_MIB, &v)) < 0)
				return r;
			cfg->memory_mib = v;
			break;
		case 'c':
			if ((r = parse_uint("--cpus", optarg, 1, CONFIG_MAX_CPUS, &v)) < 0)
				return r;
			cfg->cpus = (unsigned)v;
			break;
		case OPT_TIMEOUT:
			if ((r = parse_uint("--timeout", optarg, 1, 86400 * 365, &v)) < 0)
				return r;
			cfg->timeout_s = (unsigned)v;
			break;
		case OPT_KERNEL: cfg->kernel = optarg; break;
		case OPT_INITRAMFS: cfg->initramfs = optarg; break;
		case OPT_CONSOLE: cfg->console = true; break;
		case OPT_APPEND: cfg->append = optarg; break;
		case OPT_VERBOSE: cfg->verbose = true; break;
		case OPT_BOOT_TRACE: cfg->boot_trace = true; break;
		case OPT_STATS_JSON: cfg->stats_json = optarg; break;
		case OPT_NO_TEMPLATE: cfg->no_template = true; break;
		case OPT_TEMPLATE_DIR:
			if (!optarg[0])
				return log_err(0, "--template-dir: an empty path");
			cfg->template_dir = optarg;
			break;
		case OPT_ENV_FILE:
			if ((r = read_env_file(cfg, optarg)) < 0)
				return r;
			break;
		case 'u': cfg->user = optarg; break;
		case OPT_HOSTNAME:
			if (!valid_hostname(optarg))
				return log_err(0, "--hostname %s: expected 1 to 64 letters, digits, '-' or '.'", optarg);
			cfg->hostname = optarg;
			break;
		case 'v':
			if ((r = add_volume(cfg, optarg)) < 0)
				return r;
			break;
		case OPT_READ_ONLY: cfg->read_only = true; break;
		case OPT_NETWORK:
			if ((r = net_parse_mode(optarg, cfg)) < 0)
				return r;
			break;
		case 'p':
			if (cfg->npublish == CONFIG_MAX_PUBLISH)
				return log_err(E2BIG, "--publish %s: at most %d", optarg, CONFIG_MAX_PUBLISH);
			if ((r = net_parse_publish(optarg, &cfg->publish[cfg->npublish])) < 0)
				return r;
			cfg->npublish++;
			break;
		case OPT_IP: // one IPv4 and one IPv6 address at most, the last of each kind
			r = strchr(optarg, ':') ? net_parse_ip6(optarg, cfg->ip6, &cfg->ip6_prefix)
						: net_parse_ip(optarg, &cfg->ip, &cfg->ip_prefix);
			if (r < 0)
				return r;
			cfg->has_ip6 = cfg->has_ip6 || strchr(optarg, ':');
			break;
		case OPT_GATEWAY:
			r = strchr(optarg, ':') ? net_parse_gateway6(optarg, cfg->gateway6)
						: net_parse_gateway(optarg, &cfg->gateway);
			if (r < 0)
				return r;
			cfg->has_gateway6 = cfg->has_gateway6 || strchr(optarg, ':');
			break;
		case OPT_VHOST_NET:
			if ((r = net_parse_vhost(optarg, &cfg->vhost_net)) < 0)
				return r;
			break;
		case OPT_DNS:
			if ((r = net_parse_dns(optarg, cfg)) < 0)
				return r;
			break;
		case 'i': cfg->interactive = true; break;
		case 't': cfg->tty = true; break;
		case OPT_FS:
		case OPT_VOLUME_FS:
			if (config_parse_fs(optarg, opt == OPT_FS ? &cfg->fs : &cfg->volume_fs) < 0)
				return log_err(0, "--%s %s: expected 9p or virtiofs",
					       opt == OPT_FS ? "fs" : "volume-fs", optarg);
			break;
		case OPT_SECCOMP:
			if (!strcmp(optarg, "kill"))
				cfg->seccomp = SECCOMP_KILL;
			else if (!strcmp(optarg, "log"))
				cfg->seccomp = SECCOMP_LOG;
			else if (!strcmp(optarg, "off"))
				cfg->seccomp = SECCOMP_OFF;
			else
				return log_err(0, "--seccomp %s: expected kill, log or off", optarg);
			break;
		case OPT_STOP_TIMEOUT:
			if ((r = parse_uint("--stop-timeout", optarg, 0, 86400, &v)) < 0)
				return r;
			cfg->stop_timeout_s = (unsigned)v;
			break;
		case 'h': fputs(usage, stdout); return 1;
		case OPT_VERSION: printf("clearvm %s\n", CLEARVM_VERSION); return 1;
		case OPT_CHECK_KVM: return kvm_host_report() == 0 ? 1 : -ENOTSUP;
		case '?':
		default:
			if (optopt)
				return log_err(0, "-%c: unknown option or missing value (see --help)", optopt);
			return log_err(0, "%s: unknown option or missing value (see --help)",
				       argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return log_err(0, "no command given (usage: clearvm --rootfs DIR -- COMMAND)");
	cfg->argv = &argv[optind];
	if (!cfg->rootfs)
		return log_err(0, "--rootfs DIR is required");
	if (cfg->network == NETWORK_NONE && (cfg->npublish || cfg->ndns || cfg->ndns6))
		return log_err(0, "%s: needs a network (not --network none)", cfg->npublish ? "--publish" : "--dns");
	if (cfg->network != NETWORK_TAP && (cfg->ip || cfg->gateway || cfg->has_ip6 ||
					    cfg->has_gateway6 || cfg->vhost_net))
		return log_err(0, "%s: only with --network tap:NAME",
			       cfg->ip || cfg->has_ip6 ? "--ip"
			       : cfg->gateway || cfg->has_gateway6 ? "--gateway"
								    : "--vhost-net");
	if (cfg->network == NETWORK_TAP && cfg->npublish)
		return log_err(0, "--publish: not with a tap (the host reaches the guest at its address)");
	return config_check(cfg);
}
