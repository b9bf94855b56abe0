// SPDX-License-Identifier: Apache-2.0
// What the guest's network looks like, decided on the host before any VM work: -p and
// --network parsed, and with passt the guest copies the host's upstream interface (its
// address, prefix and default gateway, as passt itself would), gets a fresh MAC and the host's
// nameservers.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../util.h"
#include "net.h"

static bool parse_ip(const char *s, uint32_t *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*out = ntohl(a.s_addr);
	return true;
}

static bool parse_port(const char *s, uint16_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || s[0] == '-' || s[0] == '+' || v < 1 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

int net_parse_publish(const char *arg, struct vm_publish *p)
{
	memset(p, 0, sizeof(*p));
	char buf[80];
	if (strlen(arg) >= sizeof(buf))
		return log_err(0, "--publish %.80s: too long", arg);
	strcpy(buf, arg);
	char *proto = strchr(buf, '/');
	if (proto) {
		*proto++ = '\0';
		if (!strcmp(proto, "udp"))
			p->udp = true;
		else if (strcmp(proto, "tcp") != 0)
			return log_err(0, "--publish %s: the protocol must be tcp or udp", arg);
	}
	// HOST:GUEST, IPV4:HOST:GUEST or [IPV6]:HOST:GUEST
	char *ports = buf, *ip = NULL;
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');
		if (!close || close[1] != ':')
			return log_err(0, "--publish %s: expected [IPV6]:HOST:GUEST", arg);
		*close = '\0';
		ip = buf + 1;
		ports = close + 2;
	}
	char *guest = strrchr(ports, ':');
	if (!guest)
		return log_err(0, "--publish %s: expected [IP:]HOST:GUEST[/tcp|/udp]", arg);
	*guest++ = '\0';
	char *host = strrchr(ports, ':');
	if (host && ip)
		return log_err(0, "--publish %s: expected [IPV6]:HOST:GUEST", arg);
	if (host) {
		*host++ = '\0';
		ip = ports;
	} else {
		host = ports;
	}
	uint32_t addr;
	struct in6_addr addr6;
	p->host_ip6 = ip && buf[0] == '[';
	if (ip && (p->host_ip6 ? inet_pton(AF_INET6, ip, &addr6) != 1 : !parse_ip(ip, &addr)))
		return log_err(0, "--publish %s: %s is not an %s", arg, ip,
			       p->host_ip6 ? "IPv6 address"
					   : "IPv4 address (an IPv6 one goes in brackets: [::1]:8080:80)");
	if (!parse_port(host, &p->host_port) || !parse_port(guest, &p->guest_port))
		return log_err(0, "--publish %s: ports are numbers from 1 to 65535", arg);
	size_t len = ip ? strlen(ip) : 0;
	if (len >= sizeof(p->host_ip)) // no valid address is this long
		return log_err(0, "--publish %s: %s is not an address", arg, ip);
	memcpy(p->host_ip, ip ? ip : "", len + 1);
	return 0;
}

int net_parse_dns(const char *arg, struct vm_config *cfg)
{
	if (cfg->ndns + cfg->ndns6 >= CONFIG_MAX_DNS)
		return log_err(E2BIG, "--dns %s: at most %d", arg, CONFIG_MAX_DNS);
	if (parse_ip(arg, &cfg->dns[cfg->ndns]))
		cfg->ndns++;
	else if (inet_pton(AF_INET6, arg, cfg->dns6[cfg->ndns6]) == 1)
		cfg->ndns6++;
	else
		return log_err(0, "--dns %s: expected an IPv4 or IPv6 address", arg);
	return 0;
}

int net_parse_mode(const char *arg, struct vm_config *cfg)
{
	if (!strcmp(arg, "passt"))
		cfg->network = NETWORK_PASST;
	else if (!strcmp(arg, "none"))
		cfg->network = NETWORK_NONE;
	else if (!strncmp(arg, "tap:", 4)) {
		const char *name = arg + 4;
		size_t len = strlen(name);
		if (!len || len >= sizeof(cfg->tap) || strspn(name, "abcdefghijklmnopqrstuvwxyz"
					"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len ||
		    !strcmp(name, ".") || !strcmp(name, ".."))
			return log_err(0, "--network %s: a tap's name is 1 to 15 letters, digits, "
					  "'_', '.' or '-'", arg);
		memcpy(cfg->tap, name, len + 1);
		cfg->network = NETWORK_TAP;
	} else
		return log_err(0, "--network %s: expected passt, none or tap:NAME", arg);
	return 0;
}

int net_parse_vhost(const char *arg, enum vm_vhost_net *mode)
{
	static const char *const names[] = {[VHOST_NET_AUTO] = "auto", [VHOST_NET_ON] = "on",
					    [VHOST_NET_OFF] = "off"};
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(arg, names[i])) {
			*mode = (enum vm_vhost_net)i;
			return 0;
		}
	return log_err(0, "--vhost-net %s: expected auto, on or off", arg);
}

int net_parse_ip(const char *arg, uint32_t *addr, unsigned *prefix)
{
	char text[INET_ADDRSTRLEN];
	const char *slash = strchr(arg, '/');
	char *end;
	unsigned long p = slash ? strtoul(slash + 1, &end, 10) : 0;
	if (!slash || (size_t)(slash - arg) >= sizeof(text) || !isdigit((unsigned char)slash[1]) ||
	    *end || p < 1 || p > 30)
		return log_err(0, "--ip %s: expected ADDR/PREFIX, a prefix from 1 to 30 (10.0.0.2/24)",
			       arg);
	memcpy(text, arg, (size_t)(slash - arg));
	text[slash - arg] = '\0';
	if (!parse_ip(text, addr) || !*addr)
		return log_err(0, "--ip %s: %s is not an IPv4 host address", arg, text);
	*prefix = (unsigned)p;
	return 0;
}

int net_parse_ip6(const char *arg, uint8_t addr[16], unsigned *prefix)
{
	char text[INET6_ADDRSTRLEN];
	const char *slash = strchr(arg, '/');
	char *end;
	unsigned long p = slash ? strtoul(slash + 1, &end, 10) : 0;
	if (!slash || (size_t)(slash - arg) >= sizeof(text) || !isdigit((unsigned char)slash[1]) ||
	    *end || p < 1 || p > 127)
		return log_err(0, "--ip %s: expected ADDR/PREFIX, a prefix from 1 to 127 "
				  "(2001:db8::2/64)",
			       arg);
	memcpy(text, arg, (size_t)(slash - arg));
	text[slash - arg] = '\0';
	static const uint8_t zero[16];
	if (inet_pton(AF_INET6, text, addr) != 1 || !memcmp(addr, zero, 16))
		return log_err(0, "--ip %s: %s is not an IPv6 host address", arg, text);
	*prefix = (unsigned)p;
	return 0;
}

int net_parse_gateway6(const char *arg, uint8_t addr[16])
{
	static const uint8_t zero[16];
	return inet_pton(AF_INET6, arg, addr) == 1 && memcmp(addr, zero, 16)
		       ? 0
		       : log_err(0, "--gateway %s: expected an IPv4 or IPv6 address", arg);
}

void net_tap_guest_addr6(const uint8_t host[16], uint8_t guest[16])
{
	// The next address, or the one before when host ends in ff (no carry into the prefix).
	memcpy(guest, host, 16);
	guest[15] = host[15] == 0xff ? 0xfe : (uint8_t)(host[15] + 1);
}

int net_parse_gateway(const char *arg, uint32_t *addr)
{
	return parse_ip(arg, addr) && *addr ? 0 : log_err(0, "--gateway %s: expected an IPv4 address", arg);
}

// /proc/net/route: a header line, then "Iface Destination Gateway Flags RefCnt Use Metric
// Mask ..." with addresses as hex in network byte order, as the kernel stores them.
int net_default_route(const char *text, char *ifname, size_t ifname_len, uint32_t *gateway)
{
	const char *line = strchr(text, '\n');
	unsigned best = ~0u;
	while (line && *++line) {
		char name[IFNAMSIZ + 1];
		unsigned dst, gw, flags, refcnt, use, metric, mask;
		if (sscanf(line, "%16s %x %x %x %u %u %u %x", name, &dst, &gw, &flags, &refcnt,
			   &use, &metric, &mask) == 8 &&
		    dst == 0 && mask == 0 && (flags & 0x1) /* RTF_UP */ && metric < best &&
		    strlen(name) < ifname_len) {
			best = metric;
			strcpy(ifname, name);
			*gateway = ntohl(gw);
		}
		line = strchr(line, '\n');
	}
	return best == ~0u ? -ENOENT : 0;
}

// 32 hex digits, an IPv6 address as /proc/net prints it, into addr.
static bool hex_addr6(const char *hex, uint8_t addr[16])
{
	if (strlen(hex) != 32 || strspn(hex, "0123456789abcdefABCDEF") != 32)
		return false;
	for (unsigned i = 0; i < 16; i++) {
		char byte[3] = {hex[2 * i], hex[2 * i + 1], '\0'};
		addr[i] = (uint8_t)strtoul(byte, NULL, 16);
	}
	return true;
}

// Each line: "DST DSTLEN SRC SRCLEN NEXTHOP METRIC REFCNT USE FLAGS IFACE", numbers in hex.
// Through ifname, or (NULL) through any interface, whose name goes in found.
static int default_route6(const char *text, const char *ifname, uint8_t gateway[16], char *found,
			  size_t found_len)
{
	unsigned best = ~0u;
	for (const char *line = text; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		char dst[33], src[33], hop[33], name[IFNAMSIZ + 1];
		unsigned dst_len, src_len, metric, refcnt, use, flags;
		uint8_t gw[16];
		if (sscanf(line, "%32s %x %32s %x %32s %x %x %x %x %16s", dst, &dst_len, src, &src_len,
			   hop, &metric, &refcnt, &use, &flags, name) != 10 ||
		    dst_len != 0 || (ifname && strcmp(name, ifname) != 0) || !hex_addr6(hop, gw) ||
		    (flags & 0x0203) != 0x0003 /* RTF_UP | RTF_GATEWAY, not RTF_REJECT */ ||
		    metric >= best || (found && strlen(name) >= found_len))
			continue;
		best = metric;
		memcpy(gateway, gw, 16);
		if (found)
			snprintf(found, found_len, "%s", name);
	}
	return best == ~0u ? -ENOENT : 0;
}

int net_default_route6(const char *text, const char *ifname, uint8_t gateway[16])
{
	return default_route6(text, ifname, gateway, NULL, 0);
}

int net_any_default_route6(const char *text, char *ifname, size_t ifname_len, uint8_t gateway[16])
{
	return default_route6(text, NULL, gateway, ifname, ifname_len);
}

// Each line: "ADDRESS IFINDEX PREFIXLEN SCOPE FLAGS IFACE", numbers in hex.
int net_global_addr6(const char *text, const char *ifname, uint8_t addr[16], unsigned *prefix)
{
	for (const char *line = text; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		char hex[33], name[IFNAMSIZ + 1];
		unsigned index, plen, scope, flags;
		// Not global (0), or IFA_F_TEMPORARY, _DADFAILED, _DEPRECATED, _TENTATIVE.
		if (sscanf(line, "%32s %x %x %x %x %16s", hex, &index, &plen, &scope, &flags, name) == 6 &&
		    !strcmp(name, ifname) && scope == 0 && !(flags & 0x69) && plen >= 1 &&
		    plen <= 128 && hex_addr6(hex, addr)) {
			*prefix = plen;
			return 0;
		}
	}
	return -ENOENT;
}

unsigned net_nameservers(const char *text, uint32_t *out, unsigned max)
{
	unsigned n = 0;
	for (const char *line = text; line && *line && n < max;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		char addr[64];
		uint32_t a;
		if (sscanf(line, " nameserver %63s", addr) == 1 && parse_ip(addr, &a))
			out[n++] = a;
	}
	return n;
}

unsigned net_nameservers6(const char *text, uint8_t (*out)[16], unsigned max)
{
	unsigned n = 0;
	for (const char *line = text; line && *line && n < max;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		char addr[64];
		if (sscanf(line, " nameserver %63s", addr) == 1 && inet_pton(AF_INET6, addr, out[n]) == 1)
			n++;
	}
	return n;
}

static bool is_loopback(uint32_t a)
{
	return (a >> 24) == 127;
}

void net_ip_str(char *buf, size_t len, uint32_t a)
{
	struct in_addr in = {.s_addr = htonl(a)};
	inet_ntop(AF_INET, &in, buf, (socklen_t)len);
}

char *net_resolv_conf(const struct vm_net *n, const char *host_text)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	fputs("# clearvm: this container's nameservers\n", f);
	for (unsigned i = 0; i < n->ndns; i++) {
		char ip[INET_ADDRSTRLEN];
		net_ip_str(ip, sizeof(ip), n->dns[i]);
		fprintf(f, "nameserver %s\n", ip);
	}
	for (unsigned i = 0; i < n->ndns6; i++) {
		char ip[INET6_ADDRSTRLEN];
		if (inet_ntop(AF_INET6, n->dns6[i], ip, sizeof(ip)))
			fprintf(f, "nameserver %s\n", ip);
	}
	for (const char *line = host_text; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		size_t l = strcspn(line, "\n");
		const char *w = line + strspn(line, " \t");
		if (!strncmp(w, "search", 6) || !strncmp(w, "domain", 6) ||
		    !strncmp(w, "options", 7))
			fprintf(f, "%.*s\n", (int)l, line);
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

// A whole small file (/proc or /etc) as a string, or NULL.
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = malloc(65536);
	size_t n = buf ? fread(buf, 1, 65535, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

// The upstream interface's IPv4 address and prefix.
static int interface_address(const char *ifname, uint32_t *addr, unsigned *prefix)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (s < 0 || ioctl(s, SIOCGIFADDR, &ifr) < 0)
		return -errno;
	*addr = ntohl(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr);
	if (ioctl(s, SIOCGIFNETMASK, &ifr) < 0)
		return -errno;
	uint32_t mask = ntohl(((struct sockaddr_in *)&ifr.ifr_netmask)->sin_addr.s_addr);
	*prefix = (unsigned)__builtin_popcount(mask);
	return 0;
}

// An interface's MTU, when it is one a guest can use; else Ethernet's.
static unsigned interface_mtu(const char *ifname)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	return s >= 0 && ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu >= 576 && ifr.ifr_mtu <= 65520
		       ? (unsigned)ifr.ifr_mtu
		       : 1500;
}

uint32_t net_tap_guest_addr(uint32_t host, unsigned prefix)
{
	uint32_t hostmask = prefix >= 32 ? 0 : 0xffffffffu >> prefix;
	uint32_t next = host + 1;
	// The next address, unless that is the prefix's broadcast (or wraps to its network).
	return (next & hostmask) == hostmask || (next & hostmask) == 0 ? host - 1 : next;
}

// IPv6 as well, where an interface has it: a global address and a default route through it.
static void copy_ipv6(const char *ifname, struct vm_net *n)
{
	_cleanup_free_ char *routes6 = slurp("/proc/net/ipv6_route");
	_cleanup_free_ char *addrs6 = slurp("/proc/net/if_inet6");
	n->v6 = routes6 && addrs6 && net_default_route6(routes6, ifname, n->gateway6) == 0 &&
		net_global_addr6(addrs6, ifname, n->addr6, &n->prefix6) == 0;
}

// passt's addresses: the upstream interface's, as passt copies them, and its MTU. That is the
// interface of the IPv4 default route (and its IPv6 where it has it), else, on an IPv6-only
// host, the interface of the IPv6 default route.
static int passt_addresses(struct vm_net *n)
{
	n->mtu = NET_PASST_MTU;
	_cleanup_free_ char *routes = slurp("/proc/net/route");
	if (routes && net_default_route(routes, n->upstream, sizeof(n->upstream), &n->gateway) == 0) {
		int r = interface_address(n->upstream, &n->addr, &n->prefix);
		if (r < 0)
			return log_err(r, "network: the address of %s", n->upstream);
		n->v4 = true;
		copy_ipv6(n->upstream, n);
		return 0;
	}
	_cleanup_free_ char *routes6 = slurp("/proc/net/ipv6_route");
	uint8_t gw6[16];
	if (routes6 && net_any_default_route6(routes6, n->upstream, sizeof(n->upstream), gw6) == 0)
		copy_ipv6(n->upstream, n);
	if (!n->v6)
		return log_err(0, "network: the host has no default route for passt to copy (IPv4, or "
				  "IPv6 with a global address; --network none runs without one)");
	return 0;
}

// An OCI container's namespace's interface, which the guest takes over (bridged with its
// tap): its address, prefix and MTU, and the namespace's default gateway (found with it, by
// net_attach_namespace).
static int attach_addresses(const struct vm_config *cfg, struct vm_net *n)
{
	const char *ifname = cfg->attach;
	snprintf(n->upstream, sizeof(n->upstream), "%s", ifname);
	n->gateway = cfg->gateway; // 0 for a device route: the link's own subnet only
	int r = interface_address(ifname, &n->addr, &n->prefix);
	if (r < 0 && r != -EADDRNOTAVAIL)
		return log_err(r, "network: the address of %s in the container's network namespace", ifname);
	n->v4 = r == 0; // none on an IPv6-only network
	n->mtu = interface_mtu(ifname);
	// And its MAC: the peers on the link (the host's bridge) know the address by it. The
	// interface itself gets another when it is bridged (tap_start).
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (s < 0 || ioctl(s, SIOCGIFHWADDR, &ifr) < 0)
		return log_err(errno, "network: the MAC address of %s", ifname);
	memcpy(n->mac, ifr.ifr_hwaddr.sa_data, sizeof(n->mac));
	// Its IPv6 address and route too: the namespace's stack answers no neighbour solicitation
	// for it on the bridge (it checks the receiving interface), so the guest's answers alone.
	copy_ipv6(ifname, n);
	if (!n->v4 && !n->v6)
		return log_err(0, "network: %s in the container's network namespace has no IPv4 "
				  "address and no global IPv6 one", ifname);
	return 0;
}

// A tap's IPv6, when asked for or offered: --ip and --gateway with IPv6 addresses, else from
// the tap's own global IPv6 address (once usable: not while its duplicate address detection
// runs), as for IPv4. None of either: IPv4 only.
static int tap_addresses6(const struct vm_config *cfg, struct vm_net *n)
{
	_cleanup_free_ char *addrs6 = slurp("/proc/net/if_inet6");
	uint8_t host6[16];
	unsigned prefix6 = 0;
	bool has = addrs6 && net_global_addr6(addrs6, cfg->tap, host6, &prefix6) == 0;
	if (!has && !cfg->has_ip6 && !cfg->has_gateway6)
		return 0;
	if (!has && !(cfg->has_ip6 && cfg->has_gateway6))
		return log_err(0, "network: tap %s has no usable IPv6 address on the host's side: give "
				  "the guest's with --ip ADDR6/PREFIX and --gateway ADDR6",
			       cfg->tap);
	n->v6 = true;
	if (cfg->has_ip6) {
		memcpy(n->addr6, cfg->ip6, 16);
		n->prefix6 = cfg->ip6_prefix;
	} else {
		net_tap_guest_addr6(host6, n->addr6);
		n->prefix6 = prefix6;
	}
	memcpy(n->gateway6, cfg->has_gateway6 ? cfg->gateway6 : host6, 16);
	if (has && !memcmp(n->addr6, host6, 16))
		return log_err(0, "network: --ip: the guest's IPv6 address is the tap's own");
	return 0;
}

// A tap's: --ip and --gateway, else from the tap's own address on the host's side (the guest
// takes the next address of its prefix, the tap's is the gateway), IPv4 and IPv6 alike, one of
// them at least; the tap's MTU.
static int tap_addresses(const struct vm_config *cfg, struct vm_net *n)
{
	if (cfg->attach[0])
		return attach_addresses(cfg, n);
	const char *tap = cfg->tap;
	snprintf(n->upstream, sizeof(n->upstream), "%s", tap);
	if (!if_nametoindex(tap))
		return log_err(0, "network: tap %s: no such interface (ip tuntap add dev %s mode tap)",
			       tap, tap);
	n->mtu = interface_mtu(tap);
	uint32_t host = 0;
	unsigned prefix = 0;
	bool has = interface_address(tap, &host, &prefix) == 0;
	if ((cfg->ip || cfg->gateway) && !has && !(cfg->ip && cfg->gateway))
		return log_err(0, "network: tap %s has no IPv4 address on the host's side: give the "
				  "guest's with --ip ADDR/PREFIX and --gateway ADDR", tap);
	if (has || cfg->ip) {
		n->v4 = true;
		n->addr = cfg->ip ? cfg->ip : net_tap_guest_addr(host, prefix);
		n->prefix = cfg->ip ? cfg->ip_prefix : prefix;
		n->gateway = cfg->gateway ? cfg->gateway : host;
	}
	if (has && n->addr == host) {
		char ip[INET_ADDRSTRLEN];
		net_ip_str(ip, sizeof(ip), host);
		return log_err(0, "network: --ip %s is the tap's own address on the host", ip);
	}
	int r = tap_addresses6(cfg, n);
	if (r == 0 && !n->v4 && !n->v6)
		return log_err(0, "network: tap %s has no IPv4 or IPv6 address on the host's side: give "
				  "the guest's with --ip ADDR/PREFIX and --gateway ADDR", tap);
	return r;
}

int net_random_mac(uint8_t mac[6])
{
	if (getrandom(mac, 6, 0) != 6)
		return -errno;
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); // unicast, locally administered
	return 0;
}

int net_attach_namespace(struct vm_config *cfg)
{
	// A live container here holds the tap (it goes with its VMM): one per namespace.
	if (if_nametoindex(NET_ATTACH_TAP))
		return log_err(0, "network: the container's network namespace already has a clearvm "
				  "container in it (one per namespace)"),
		       -EBUSY;
	// The interface of the default route: IPv4's, else IPv6's (an IPv6-only network).
	_cleanup_free_ char *routes = slurp("/proc/net/route");
	_cleanup_free_ char *routes6 = slurp("/proc/net/ipv6_route");
	char ifname[16];
	uint32_t gateway = 0;
	uint8_t gateway6[16];
	if ((!routes || net_default_route(routes, ifname, sizeof(ifname), &gateway) < 0) &&
	    (!routes6 || net_any_default_route6(routes6, ifname, sizeof(ifname), gateway6) < 0)) {
		log_debug("network: the container's network namespace has no default route: loopback only");
		cfg->network = NETWORK_NONE;
		return 0;
	}
	cfg->network = NETWORK_TAP;
	snprintf(cfg->tap, sizeof(cfg->tap), "%s", NET_ATTACH_TAP);
	snprintf(cfg->attach, sizeof(cfg->attach), "%s", ifname);
	cfg->gateway = gateway;
	return 0;
}

int net_resolve(struct vm_config *cfg)
{
	struct vm_net *n = &cfg->net;
	memset(n, 0, sizeof(*n));
	if (cfg->network == NETWORK_NONE)
		return 0;
	int r = cfg->network == NETWORK_TAP ? tap_addresses(cfg, n) : passt_addresses(n);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < cfg->npublish; i++) {
		const struct vm_publish *p = &cfg->publish[i];
		if (p->host_ip6 && !n->v6)
			return log_err(0, "--publish [%s]:...: the guest has no IPv6 (the host has no IPv6 "
					  "default route on %s)", p->host_ip, n->upstream);
		if (p->host_ip[0] && !p->host_ip6 && !n->v4)
			return log_err(0, "--publish %s:...: the guest has no IPv4 (the host has no IPv4 "
					  "default route)", p->host_ip);
	}
	if (!cfg->attach[0] && net_random_mac(n->mac) < 0)
		return log_err(errno, "network: a MAC address");
	_cleanup_free_ char *resolv = slurp("/etc/resolv.conf");
	uint32_t host_dns[CONFIG_MAX_DNS];
	unsigned nhost = resolv ? net_nameservers(resolv, host_dns, CONFIG_MAX_DNS) : 0;
	bool given = cfg->ndns || cfg->ndns6;
	if (given) { // --dns: these, as given
		memcpy(host_dns, cfg->dns, sizeof(host_dns));
		nhost = cfg->ndns;
	}
	for (unsigned i = 0; i < nhost; i++) {
		// A resolver on the host's loopback is reached at the gateway (passt
		// --dns-forward); behind a tap, nothing forwards to it: left out. Without IPv4 in
		// the guest, none is reached.
		if ((is_loopback(host_dns[i]) && cfg->network == NETWORK_TAP) || !n->v4)
			continue;
		uint32_t a = is_loopback(host_dns[i]) ? n->gateway : host_dns[i];
		bool dup = false;
		for (unsigned j = 0; j < n->ndns; j++)
			dup = dup || n->dns[j] == a;
		if (!dup)
			n->dns[n->ndns++] = a;
	}
	// The IPv6 ones: --dns's, else the host's where the guest has IPv6. ::1 is reached at the
	// IPv6 gateway, as 127.0.0.1 is at IPv4's (without IPv6 in the guest, or behind a tap, it
	// is left out); link-local ones are the host's link's, left out.
	uint8_t host_dns6[CONFIG_MAX_DNS][16];
	unsigned nhost6 = resolv && n->v6 ? net_nameservers6(resolv, host_dns6, CONFIG_MAX_DNS) : 0;
	if (given) {
		memcpy(host_dns6, cfg->dns6, sizeof(host_dns6));
		nhost6 = cfg->ndns6;
	}
	for (unsigned i = 0; i < nhost6; i++) {
		if (IN6_IS_ADDR_LINKLOCAL((struct in6_addr *)host_dns6[i]) ||
		    (IN6_IS_ADDR_LOOPBACK((struct in6_addr *)host_dns6[i]) &&
		     (!n->v6 || cfg->network == NETWORK_TAP)))
			continue; // on the host's link, not the guest's; or unreachable
		const uint8_t *a = IN6_IS_ADDR_LOOPBACK((struct in6_addr *)host_dns6[i]) ? n->gateway6 : host_dns6[i];
		bool dup = false;
		for (unsigned j = 0; j < n->ndns6; j++)
			dup = dup || !memcmp(n->dns6[j], a, 16);
		if (!dup)
			memcpy(n->dns6[n->ndns6++], a, 16);
	}
	if (!cfg->resolv_conf) {
		if (!(cfg->resolv_conf_owned = net_resolv_conf(n, resolv)))
			return log_err(ENOMEM, "network: resolv.conf");
		cfg->resolv_conf = cfg->resolv_conf_owned;
	}
	if (!cfg->hosts) { // as docker writes it: localhost, and the container's name at its
			   // address
		char ip[INET_ADDRSTRLEN], ip6[INET6_ADDRSTRLEN], line[INET_ADDRSTRLEN + 80] = "",
			line6[INET6_ADDRSTRLEN + 80] = "";
		net_ip_str(ip, sizeof(ip), n->addr);
		if (n->v4)
			snprintf(line, sizeof(line), "%s\t%s\n", ip, cfg->hostname);
		if (n->v6 && inet_ntop(AF_INET6, n->addr6, ip6, sizeof(ip6)))
			snprintf(line6, sizeof(line6), "%s\t%s\n", ip6, cfg->hostname);
		if (asprintf(&cfg->hosts_owned,
			     "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s%s",
			     line, line6) < 0)
			return log_err(ENOMEM, "network: hosts");
		cfg->hosts = cfg->hosts_owned;
	}
	return 0;
}
