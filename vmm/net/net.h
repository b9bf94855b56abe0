// SPDX-License-Identifier: Apache-2.0
// The guest's network on the host side: what --network and -p ask (parsed here), the address
// the guest gets (copied from the host's upstream interface, as passt does), the resolv.conf it
// sees, and passt, the user-mode backend clearvm starts for it (passt.c).
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../config.h"

#define TAP_VNET_HDR 12	    // struct virtio_net_hdr_v1, the header a virtio 1 driver uses
#define NET_ATTACH_BRIDGE "clearvm-br" // the bridge in an OCI container's network namespace
#define NET_ATTACH_TAP "clearvm-tap"   // and clearvm's tap on it
#define NET_PASST_MTU 65520 // passt's frames: the guest sends whole TCP windows, no offloads

// An IPv4 address (host byte order) as dotted text into buf (INET_ADDRSTRLEN bytes).
void net_ip_str(char *buf, size_t len, uint32_t addr);
// "[IP:]HOST:GUEST[/tcp|/udp]" into *p. 0, or -EINVAL with one line logged.
int net_parse_publish(const char *arg, struct vm_publish *p);
// "passt", "none", "tap:NAME" into cfg->network (and cfg->tap). 0 or -EINVAL (logged).
int net_parse_mode(const char *arg, struct vm_config *cfg);
// --ip ADDR/PREFIX (tap mode's guest address). 0 or -EINVAL (logged).
int net_parse_ip(const char *arg, uint32_t *addr, unsigned *prefix);
// --gateway ADDR. 0 or -EINVAL (logged).
int net_parse_gateway(const char *arg, uint32_t *addr);
// --ip ADDR/PREFIX and --gateway ADDR with IPv6 addresses (tap mode). 0 or -EINVAL (logged).
int net_parse_ip6(const char *arg, uint8_t addr[16], unsigned *prefix);
int net_parse_gateway6(const char *arg, uint8_t addr[16]);
// The guest's IPv6 address behind a tap whose host side has `host`: the next one (its last
// byte one more), or the one before when that byte is ff.
void net_tap_guest_addr6(const uint8_t host[16], uint8_t guest[16]);
// --vhost-net auto|on|off. 0 or -EINVAL (logged).
int net_parse_vhost(const char *arg, enum vm_vhost_net *mode);
// --dns: an IPv4 or IPv6 address, added to cfg->dns or cfg->dns6 (3 in all at most). 0 or
// -EINVAL/-E2BIG (logged).
int net_parse_dns(const char *arg, struct vm_config *cfg);

// Pure parsers (unit-tested): the IPv4 default route of /proc/net/route's text (the lowest
// metric wins): its interface and gateway (host byte order). 0, or -ENOENT when there is none.
int net_default_route(const char *route_text, char *ifname, size_t ifname_len, uint32_t *gateway);
// The IPv6 default route through ifname in /proc/net/ipv6_route's text (the lowest metric
// wins; unreachable routes are none): its gateway. 0, or -ENOENT when there is none.
int net_default_route6(const char *route_text, const char *ifname, uint8_t gateway[16]);
// The IPv6 default route through any interface (the lowest metric wins): its interface and
// gateway. 0, or -ENOENT.
int net_any_default_route6(const char *route_text, char *ifname, size_t ifname_len, uint8_t gateway[16]);
// ifname's first global, usable (not tentative, deprecated, temporary or failed) IPv6 address
// in /proc/net/if_inet6's text, and its prefix length. 0, or -ENOENT.
int net_global_addr6(const char *text, const char *ifname, uint8_t addr[16], unsigned *prefix);
// The IPv4 nameservers of resolv.conf's text, at most max. Returns how many.
unsigned net_nameservers(const char *text, uint32_t *out, unsigned max);
// The IPv6 nameservers of resolv.conf's text (a zone index, "%eth0", makes one none), at most
// max. Returns how many.
unsigned net_nameservers6(const char *text, uint8_t (*out)[16], unsigned max);
// The guest's address behind a tap whose host side has `host`/prefix: the next one, or the one
// before when the next is the prefix's broadcast address.
uint32_t net_tap_guest_addr(uint32_t host, unsigned prefix);
// The resolv.conf the guest gets: its nameservers, IPv4 then IPv6 (a host's loopback resolver
// is reached at the gateway, which passt maps to the host's loopback), then the host's search
// and options lines.
// malloc'd, NULL when out of memory.
char *net_resolv_conf(const struct vm_net *n, const char *host_text);

// A fresh unicast, locally administered MAC address. 0 or -errno.
int net_random_mac(uint8_t mac[6]);
// An OCI container in a network namespace of its own (joined, root in it): the guest takes
// over the interface of its default route (the address and MAC a CNI plugin gave it), its tap
// bridged with it (tap_start), the interface itself given a fresh MAC; no default route there: loopback only. 0 or -errno (logged).
int net_attach_namespace(struct vm_config *cfg);
// Fills cfg->net (and, unless given, cfg->resolv_conf) for cfg->network: the upstream
// interface's address and prefix, the default gateway, the MTU, a fresh MAC, the DNS
// servers. 0 or -errno (one line logged: what is missing on the host).
int net_resolve(struct vm_config *cfg);

// The guest's network backend: passt's socket and process, or a tap's queue.
struct net_backend {
	pid_t pid; // passt's; 0: none (not started, or a tap)
	int fd;	   // -1: none
	int vhost; // a tap's /dev/vhost-net (owned, set up); -1: none
};
// Starts cfg's backend (nothing for --network none). 0 or -errno (logged).
int net_backend_start(const struct vm_config *cfg, struct net_backend *b);
// Closes clearvm's end, which ends passt, and reaps it (killed if it has not gone in a second);
// a tap's queue and vhost fd are closed.
void net_backend_stop(struct net_backend *b);

// passt, started on a socketpair: fd is clearvm's end, carrying the guest's Ethernet frames
// each behind its length (32 bits, big-endian), as QEMU's stream netdev does. 0 or -errno
// (logged; -ENOENT: no passt installed).
int passt_start(const struct vm_config *cfg, struct net_backend *b);
// An existing tap device's queue (non-blocking, close-on-exec; one frame per read or write,
// behind a 12-byte virtio-net header), or -errno (logged: missing, not permitted, busy).
int tap_open(const char *name);
// /dev/vhost-net, owned by this process, offering what a virtio 1 card with mergeable buffers
// needs: the fd, or -errno (not logged: --vhost-net auto goes on without it).
int tap_vhost_open(void);
