// SPDX-License-Identifier: Apache-2.0
// Everything a run needs, parsed and validated from the command line before any KVM work.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/seccomp.h"

#define CONFIG_DEFAULT_MEMORY_MIB 256
#define CONFIG_MIN_MEMORY_MIB 32
#define CONFIG_MAX_CPUS 64
#define CONFIG_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#define CONFIG_MAX_VOLUMES 8
#define CONFIG_DEFAULT_STOP_TIMEOUT 10
#define CONFIG_MAX_GROUPS 64
#define CONFIG_MAX_RLIMITS 16 // RLIM_NLIMITS on x86-64 Linux

struct vm_volume {
	const char *host;  // a host directory, or a regular file (file: the guest sees that file)
	const char *guest; // absolute path inside the container
	bool readonly;
	bool file;
	bool nonrecursive; // mounts beneath host are not shared (rkt's "recursive": false)
	bool pod; // the share of a pod's later containers (an OCI runtime's), at no target: the
		  // host mounts made beneath it later reach the guest
};

#define CONFIG_MAX_APPS 8
#define CONFIG_MAX_PUBLISH 32
#define CONFIG_MAX_DNS 3

// The guest's network (--network): user-mode through passt (the default), none (loopback
// only; what a zeroed config has).
// How a root is shared with the guest (--fs): virtio-fs (the default) or virtio-9p.
enum vm_fs { FS_9P, FS_VIRTIOFS };

enum vm_network { NETWORK_NONE, NETWORK_PASST, NETWORK_TAP };
enum vm_vhost_net { VHOST_NET_AUTO, VHOST_NET_ON, VHOST_NET_OFF }; // --vhost-net (tap)

// -p [IP:]HOST:GUEST[/tcp|/udp] (IP: IPv4, or IPv6 in brackets): the host's port HOST (on IP, else every address) forwarded to
// the guest's port GUEST.
struct vm_publish {
	char host_ip[46]; // an IPv4 or IPv6 address as text, "" for every address
	bool host_ip6;	  // host_ip is an IPv6 address
	uint16_t host_port, guest_port;
	bool udp;
};

// How the guest's eth0 is set up (net/host.c fills it from the host, or from --ip/--gateway);
// IPv4 addresses in host byte order; IPv6 ones as on the wire.
struct vm_net {
	bool v4; // the guest has IPv4 (addr, prefix, gateway); not on an IPv6-only host
	uint32_t addr, gateway;
	unsigned prefix;
	bool v6; // and IPv6 where the host's upstream interface has it (addr6, prefix6, gateway6)
	uint8_t addr6[16], gateway6[16];
	unsigned prefix6;
	unsigned mtu;
	uint8_t mac[6];
	uint32_t dns[CONFIG_MAX_DNS];
	unsigned ndns;
	uint8_t dns6[CONFIG_MAX_DNS][16]; // the host's IPv6 nameservers, when the guest has IPv6
	unsigned ndns6;
	char upstream[16]; // passt: the host interface it copies
};

struct vm_config {
	const char *rootfs;
	const char *kernel;
	const char *initramfs;
	char *const *argv; // the workload, NULL-terminated
	char **env;        // KEY=VALUE, NULL-terminated (owned)
	size_t nenv;
	const char *workdir;
	const char *append; // extra kernel command line, for debugging (NULL: none)
	const char *hostname;
	// The container's /etc/resolv.conf and /etc/hosts (NULL: the rootfs's own): bound over
	// the root's regular files of those names, which are never written.
	const char *resolv_conf, *hosts;
	const char *user;   // -u as given (NULL: root); resolved into uid, gid, groups
	uint32_t uid, gid;
	uint32_t groups[CONFIG_MAX_GROUPS];
	unsigned ngroups;
	bool read_only;
	enum vm_fs fs;	      // --fs: how roots are shared
	enum vm_fs volume_fs; // --volume-fs: how volumes are shared (9p by default)
	bool interactive;      // -i: clearvm's stdin is the workload's
	bool tty;              // -t: the workload runs on a pty; clearvm's terminal shows it
	uint16_t tty_rows, tty_cols; // the terminal's size at start (0: unknown)
	unsigned stop_timeout_s; // grace after a forwarded signal before SIGKILL
	struct vm_volume volumes[CONFIG_MAX_VOLUMES];
	unsigned nvolumes;
	uint64_t memory_mib;
	unsigned cpus;
	unsigned timeout_s; // 0: none
	bool console;
	bool verbose;
	bool boot_trace;        // --boot-trace: the phase table on stderr at exit
	const char *stats_json; // --stats-json FILE: the same as JSON (NULL: none)
	enum seccomp_mode seccomp; // --seccomp: kill (0, the default), log or off
	bool no_template;         // --no-template: a cold boot
	const char *template_dir; // --template-dir (NULL: the user's cache)
	// A pod (the rkt stage1): several apps in one VM, each with its own rootfs, argv, env,
	// workdir, identity and volumes, described by a vm_config of its own (only those fields
	// are read); the pod's own rootfs, argv, env and volumes are then unused.
	struct vm_config *apps;
	unsigned napps;
	const char *app_name; // of an app: its name in the pod
	char *const *pre_start; // of an app: run as root in its root before it (NULL: none)
	bool bound_caps;        // of an app: its capabilities are bounded to caps (bit N: capability N)
	uint64_t caps;
	// The workload's resource limits (setrlimit, in the guest) and no_new_privs (an OCI
	// bundle's process.rlimits and noNewPrivileges).
	struct vm_rlimit {
		uint32_t resource; // RLIMIT_*
		uint64_t soft, hard;
	} rlimits[CONFIG_MAX_RLIMITS];
	unsigned nrlimits;
	bool no_new_privs;
	const char *enter_socket; // a pod: the abstract socket rkt enter connects to (NULL: no enter)
	bool exec;                // an OCI container: exec sessions come on exec_fd
	int exec_fd;              // with exec: a listening unix socket (made by `clearvm create`)
	enum vm_network network;
	struct vm_publish publish[CONFIG_MAX_PUBLISH];
	unsigned npublish;
	uint32_t dns[CONFIG_MAX_DNS]; // --dns ADDR (repeatable; host byte order)
	unsigned ndns;
	uint8_t dns6[CONFIG_MAX_DNS][16]; // --dns with IPv6 addresses (ndns + ndns6 <= CONFIG_MAX_DNS)
	unsigned ndns6;
	char tap[16];		    // --network tap:NAME
	// Tap mode in an OCI container's network namespace: the tap is made, and bridged with this
	// interface (the namespace's own, a CNI veth), whose address the guest takes over.
	char attach[16];
	enum vm_vhost_net vhost_net; // --vhost-net
	uint32_t ip, gateway;	    // --ip ADDR/PREFIX, --gateway ADDR (tap; 0: from the tap)
	unsigned ip_prefix;
	bool has_ip6, has_gateway6; // and the IPv6 ones (tap)
	uint8_t ip6[16], gateway6[16];
	unsigned ip6_prefix;
	struct vm_net net; // resolved by config_check (network != none)
	char *resolv_conf_owned, *hosts_owned; // what clearvm made for the network (freed with cfg)
};

// Exit statuses of clearvm itself, as docker and podman use them.
#define EXIT_CLEARVM_FAILED 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

// cli.c: parses argv into cfg, then config_check(). 0 on success, 1 when --help or --version
// was handled (exit 0), -errno on bad input (one line already printed).
int cli_parse(int argc, char **argv, struct vm_config *cfg);

// config.c: a config with every default (a command's: one vCPU, 256 MiB, root, "/"; the
// installed kernel and initramfs unless CLEARVM_KERNEL, CLEARVM_INITRAMFS name others; the
// template directory CLEARVM_TEMPLATE_DIR names).
void config_defaults(struct vm_config *cfg);
// The rootfs, memory, kernel, initramfs and terminal checked against the host, then the
// workload resolved (config_resolve_workload). 0 or -errno (logged).
int config_check(struct vm_config *cfg);
// A workload's PATH (the default unless set) and user (user_resolve). 0 or -errno (logged).
int config_resolve_workload(struct vm_config *cfg);
void config_free(struct vm_config *cfg);
// Adds or replaces KEY=VALUE in cfg->env. 0 or -errno (logged).
int config_set_env(struct vm_config *cfg, const char *kv);
bool config_has_env(const struct vm_config *cfg, const char *key);
// "9p" or "virtiofs" into *fs. 0, or -EINVAL (not logged: the caller names the option).
int config_parse_fs(const char *name, enum vm_fs *fs);

// user.c: resolves cfg->user ("name", "uid", "name:group", "uid:gid") against the rootfs's
// /etc/passwd and /etc/group, read confined to the rootfs; sets uid, gid, groups and, unless
// given, HOME. 0 or -errno (logged).
int user_resolve(struct vm_config *cfg);

// tty.c: the host terminal under -t. tty_check: 0, or -errno (logged) when -t lacks a
// terminal, else records its size in cfg. tty_size: the terminal's rows and columns (false when unknown). tty_raw: puts
// stdin in raw mode until tty_restore, which also runs at exit.
int tty_check(struct vm_config *cfg);
bool tty_size(uint16_t *rows, uint16_t *cols);
int tty_raw(void);
void tty_restore(void);
