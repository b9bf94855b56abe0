// SPDX-License-Identifier: Apache-2.0
// The contract between clearvm and guest-init: ports, launch spec format, stdio ports.
#pragma once

// guest-init writes the workload's 32-bit status here (exit code, or 128+signal); the VMM
// then stops the VM and exits with it.
// The guest kernel's command line after "console=ttyS0" or "quiet": guest-init as init, a panic
// ends the VM, and eth0 announces itself when it comes up (a gratuitous ARP: passt learns the
// guest's MAC from its first frame, and a published port's first connection may come before
// the guest has sent anything), so guest-init needs no /proc for it.
#define ABI_KERNEL_ARGS "reboot=t panic=-1 rdinit=/init sysctl.net.ipv4.conf.all.arp_notify=1"

#define ABI_EXIT_PORT 0x5f0
// guest-init writes a milestone number here (outb); the VMM timestamps it with its own clock.
#define ABI_MILESTONE_PORT 0x5f4
#define ABI_MILESTONE_INIT 1
#define ABI_MILESTONE_ROOT 2
#define ABI_MILESTONE_EXEC 3
// Written (always, whatever the spec says) by the guest-init of a template boot, one with no
// launch spec in its initramfs, when it is ready to wait for one: the VMM saves the VM there.
// Every VM restored from that template goes on from this write: guest-init then reads its
// launch spec from the "spec" port to EOF.
#define ABI_MILESTONE_TEMPLATE 8

// The launch spec: a flattened device tree in the file ABI_SPEC_PATH of the initramfs (a
// second cpio appended to guest-init's own). Properties of the root node:
//   argv   string list (NUL-separated), at least one entry
//   env    string list of KEY=VALUE
//   cwd    string
//   uid, gid  u32
//   groups    u32 array: supplementary groups
//   hostname  string
//   root-tag  string: the 9p mount tag of the container's root
//   root-readonly  empty: mount the root read-only
//   stdin     empty: the workload's stdin comes from the "stdin" port (else /dev/null)
//   tty       empty: the workload runs on a pty, its controlling terminal, whose output goes
//             to the "stdout" port (stdout and stderr merged, as a terminal shows them)
//   tty-size  u32 array {rows, cols}: the pty's first window size
//   milestones  empty: write milestones to ABI_MILESTONE_PORT (else none: no exits for them)
//   realtime-ns  u64 (two u32, high first): the host's CLOCK_REALTIME when the spec was made;
//             given to a VM restored from a template, whose clock stopped when it was saved
//   seed      bytes: mixed into the guest's random pool, and the pool reseeded, so that VMs
//             restored from one template never share random numbers
//   rlimits   u32 array, 5 per limit: resource (RLIMIT_*), soft (high, low), hard (high, low)
//   no-new-privs  empty: the workload runs with no_new_privs
//   exec      empty: serve exec sessions on the enter ports (an OCI container; a pod always does)
// and one subnode "volume@N" per volume: tag (string), target (string), readonly (empty);
// "pod" (empty) marks the share of a pod's later containers, mounted at ABI_POD_DIR before the
// root is entered and never inside it (ABI_ENTER_CONTAINER).
// A pod (rkt stage1) instead has one subnode "app@N" per app holding name (string) and the
// workload properties above (argv to root-readonly, and its volume@N subnodes); hostname,
// stdin, tty, tty-size and milestones stay at the root. Each app runs chrooted into its own
// root; when it ends guest-init writes (N << 16 | status) to ABI_APP_EXIT_PORT, and when all
// have ended it reports the first non-zero status (in the order they ended), else 0.
#define ABI_SPEC_PATH "/clearvm/spec.dtb"
#define ABI_ROOT_TAG "clearvm-root"
// A virtio-fs root's readahead (KiB, as sysfs takes it): one request of the largest size the
// server takes (FUSE_MAX_WRITE, vmm/fuse/server.h).
#define ABI_FS_READAHEAD_KB "512"
#define ABI_VOLUME_TAG "clearvm-vol"
// A volume whose host side is one file (its volume@N node has the property "file"): its share's
// root directory holds that file under this name, and guest-init binds it at the target.
#define ABI_FILE_VOLUME_ENTRY "file"
#define ABI_APP_TAG "clearvm-app"
#define ABI_APP_EXIT_PORT 0x5f8
#define ABI_MAX_APPS 8

// virtio-console ports, found by name: "stdout" and "stderr" carry the workload's output;
// "stdin" its input (with -i; the host closing the port is EOF); "control" carries
// struct abi_control messages from the host.
#define ABI_PORT_STDOUT 0
#define ABI_PORT_STDERR 1
#define ABI_PORT_STDIN 2
#define ABI_PORT_CONTROL 3
#define ABI_NR_PORTS 4
// A VM restored from a template has one more port, "spec", carrying its launch spec.
#define ABI_PORT_SPEC 4
#define ABI_NR_TEMPLATE_PORTS 5
// A pod, an OCI container and every template also have the enter ports (rkt enter, OCI exec),
// after "spec" (unused but present in a cold-booted pod, so the indices are the same): "enter"
// for requests, then for each of ABI_ENTER_SESSIONS sessions that may run at once (numbered 0
// on) its stdout, stderr and stdin, named "enter-stdout.N", "enter-stderr.N", "enter-stdin.N".
#define ABI_PORT_ENTER 5
#define ABI_ENTER_SESSIONS 4
#define ABI_PORT_ENTER_STDOUT(n) (6 + 3 * (n))
#define ABI_PORT_ENTER_STDERR(n) (7 + 3 * (n))
#define ABI_PORT_ENTER_STDIN(n) (8 + 3 * (n))
#define ABI_NR_ENTER_PORTS (6 + 3 * ABI_ENTER_SESSIONS)

// One control message, host to guest, always this size (the port is a byte stream: the reader
// reassembles messages). Integers are little-endian, as on both sides of an x86 VM.
struct abi_control {
	unsigned char kind;   // ABI_CONTROL_*
	unsigned char signal; // SIGNAL: the signal number to send to the workload
	unsigned short rows;  // RESIZE: the terminal's new size
	unsigned short cols;
	unsigned short session; // ENTER_*: the enter session it is for
};
#define ABI_CONTROL_SIGNAL 1
#define ABI_CONTROL_RESIZE 2
// The same, for an enter session's command (and its pty) instead of the workload.
#define ABI_CONTROL_ENTER_SIGNAL 3
#define ABI_CONTROL_ENTER_RESIZE 4
_Static_assert(sizeof(struct abi_control) == 8, "the control message is 8 bytes on the wire");

// Enter sessions (rkt enter in a pod, OCI exec in a container): the "enter" port carries
// requests, each this header then `size` bytes of NUL-terminated strings: the app's name ("" in
// a container), the working directory, `argc` arguments, then KEY=VALUE environment. The
// command runs as uid:gid with exactly `ngroups` groups in the app's root (a container's: with
// the workload's capability bounding set), with `nrlimits` resource limits and, with
// ABI_ENTER_NO_NEW_PRIVS, no_new_privs; its stdio goes through the stdout, stderr and stdin
// ports of the session the VMM chose (`session`; with ABI_ENTER_TTY: on a pty of rows x cols,
// all of its output on enter-stdout.N) and its status (as ABI_EXIT_PORT's) is written to
// ABI_ENTER_EXIT_PORT with the session's number (ABI_ENTER_REPORT). Signals and resizes for it
// come as ABI_CONTROL_ENTER_* messages naming the session. The host closes the session's stdin
// port when it has the status, and opens it again for the session's next use, which comes only
// after guest-init has reported the session done (ABI_ENTER_DONE).
#define ABI_ENTER_MAX_GROUPS 32
#define ABI_ENTER_MAX_RLIMITS 16
struct abi_enter_header {
	unsigned int size;
	unsigned short argc;
	unsigned short flags; // ABI_ENTER_*
	unsigned short rows, cols; // with ABI_ENTER_TTY: the terminal's size (0: unknown)
	unsigned int uid, gid, ngroups;
	unsigned int groups[ABI_ENTER_MAX_GROUPS];
	unsigned short session; // set by the VMM: which session's ports carry the command's stdio
	unsigned short nrlimits;
	unsigned int memory_mib; // ABI_ENTER_MEMORY: the memory the VM's guest may use (the VMM's)
	unsigned short nvolumes; // ABI_ENTER_CONTAINER: its volumes' strings, after the arguments
	unsigned short reserved[3];
	unsigned long long caps; // ABI_ENTER_CONTAINER, or an exec into one: its capability set
	struct abi_rlimit {
		unsigned int resource, reserved; // RLIMIT_*
		unsigned long long soft, hard;
	} rlimits[ABI_ENTER_MAX_RLIMITS]; // the first nrlimits: set before the command drops root
};
_Static_assert(sizeof(struct abi_enter_header) == 48 + 4 * ABI_ENTER_MAX_GROUPS + 24 * ABI_ENTER_MAX_RLIMITS,
	       "the enter header's size on the wire");
#define ABI_ENTER_TTY 1
#define ABI_ENTER_NO_NEW_PRIVS 2 // the command runs with no_new_privs
// No command: the VMM sets how much of its RAM the guest may use, memory_mib (the rest it takes
// back through the balloon), and answers with 0 or 125 itself. Never reaches the guest.
#define ABI_ENTER_MEMORY 4
// A pod's later container (OCI): the app's name is its directory in the pod share (the volume
// with "pod", mounted by guest-init outside the container's root), where the host has bound its
// root and, at NAME.v/N, each of its volumes; `nvolumes` strings after the arguments say where
// they go, each "r" or "w" (read-only or not), "d" or "f" (directory or file), then the target.
// guest-init mounts the container's world there (its root bound on itself, the basics, the
// volumes), runs the command chrooted into it with the capability set `caps`, and when it ends
// takes that world down. A request without this flag naming such a container by its name is an
// exec into it (`caps` then too). The session stays taken for as long as the container runs.
#define ABI_ENTER_CONTAINER 8
#define ABI_ENTER_BOUND_CAPS 16 // with a container's name: its capabilities are bounded to caps
#define ABI_POD_DIR "/clearvm/pod"
#define ABI_ENTER_EXIT_PORT 0x5fc
#define ABI_ENTER_DONE 0x10000 // with the session's number, once the session's helper is gone
#define ABI_ENTER_REPORT(session, v) ((unsigned)(session) << 24 | (v))
#define ABI_ENTER_REPORT_SESSION(r) ((r) >> 24)
#define ABI_ENTER_MAX 32768
#define ABI_ENTER_MAX_STRINGS 1024

// Statuses guest-init itself reports when it cannot run the workload.
#define ABI_STATUS_CANNOT_EXEC 126
#define ABI_STATUS_NOT_FOUND 127
#define ABI_STATUS_INIT_FAILED 125
