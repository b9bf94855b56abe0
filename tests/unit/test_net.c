// SPDX-License-Identifier: Apache-2.0
// The network's host side: -p and --network parsed or refused, the default route and the
// nameservers read from the host's files, and the resolv.conf the guest gets.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../harness/tap.h"
#include "../../vmm/net/net.h"
#include "../../vmm/virtio/devices.h"

// A card on a tap (played by a SEQPACKET socket: one frame per datagram) in a 64 KiB RAM:
// receive ring at 0x0000/0x1000/0x2000 with one 2 KiB buffer at 0x8000, transmit ring at
// 0x3000/0x4000/0x5000 with one chain (header at 0x6000, frame at 0x6100) posted.
#define T_RAM (64u << 10)
#define T_CSUM (3ULL)	   // VIRTIO_NET_F_CSUM | GUEST_CSUM
#define T_TSO (0x1980ULL)  // GUEST_TSO4, GUEST_TSO6, HOST_TSO4, HOST_TSO6
#define T_MRG (1ULL << 15) // MRG_RXBUF
struct tap_card {
	uint8_t *ram;
	struct guest_mem mem;
	struct virtio_dev *dev;
	int peer; // the tap's far end
};

static void no_irq(void *ctx, unsigned irq)
{
	(void)ctx;
	(void)irq;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void tap_card(struct tap_card *t, uint64_t features)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		abort();
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	t->peer = sv[1];
	t->ram = calloc(1, T_RAM);
	t->mem = (struct guest_mem){t->ram, T_RAM};
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
	if (!t->ram || virtio_net_new(mac, sv[0], true, -1, &t->dev) < 0)
		abort();
	struct virtio_dev *d = t->dev;
	d->mem = &t->mem;
	d->raise_irq = no_irq;
	d->status = 0xf;
	d->driver_features = features;
	// receive: one writable 2 KiB buffer
	uint8_t *desc = t->ram;
	memcpy(desc, &(uint64_t){0x8000}, 8);
	memcpy(desc + 8, &(uint32_t){0x800}, 4);
	put16(desc + 12, 2); // WRITE
	put16(t->ram + 0x1000 + 2, 1);
	// transmit: a 12-byte header, then a 60-byte frame
	desc = t->ram + 0x3000;
	memcpy(desc, &(uint64_t){0x6000}, 8);
	memcpy(desc + 8, &(uint32_t){12}, 4);
	put16(desc + 12, 1); // NEXT
	put16(desc + 14, 1);
	memcpy(desc + 16, &(uint64_t){0x6100}, 8);
	memcpy(desc + 24, &(uint32_t){60}, 4);
	memset(t->ram + 0x6100, 0x5a, 60);
	put16(t->ram + 0x4000 + 2, 1);
	const uint64_t rings[2][3] = {{0x0000, 0x1000, 0x2000}, {0x3000, 0x4000, 0x5000}};
	for (unsigned q = 0; q < 2; q++)
		d->vq[q] = (struct virtq){.size = 8, .ready = true, .desc = rings[q][0],
					  .avail = rings[q][1], .used = rings[q][2]};
}

static void tap_card_free(struct tap_card *t)
{
	virtio_dev_free(t->dev);
	close(t->peer);
	free(t->ram);
}

// A tap's frames carry the virtio-net header both ways: the guest's reaches the tap as it was
// (the host's stack does the checksum and segmentation it asks), the tap's reaches the guest,
// unless it asks for an offload the driver did not take.
static void tap_headers(void)
{
	// flags NEEDS_CSUM, gso_type TCPv4, hdr_len 54, gso_size 1448, csum_start 34, offset 16
	static const uint8_t tso_hdr[10] = {1, 1, 54, 0, 0xa8, 5, 34, 0, 16, 0};
	uint8_t frame[12 + 100];
	memset(frame, 0x33, sizeof(frame));
	memcpy(frame, tso_hdr, sizeof(tso_hdr));
	struct tap_card t;
	tap_card(&t, T_CSUM | T_TSO | T_MRG);
	memcpy(t.ram + 0x6000, tso_hdr, sizeof(tso_hdr));
	ok(write(t.peer, frame, sizeof(frame)) == (ssize_t)sizeof(frame), "(the tap sends a TSO frame)");
	virtio_net_run(t.dev);
	uint8_t got[256];
	ssize_t n = read(t.peer, got, sizeof(got));
	ok(n == 72 && !memcmp(got, tso_hdr, sizeof(tso_hdr)) && got[12] == 0x5a,
	   "the guest's frame reaches the tap behind its header, as the guest made it (%zd bytes)", n);
	const uint8_t *used = t.ram + 0x2000;
	ok(used[2] == 1 && used[8] == 112, "the tap's frame fills one receive buffer, header and all");
	ok(!memcmp(t.ram + 0x8000, tso_hdr, sizeof(tso_hdr)) && t.ram[0x8000 + 10] == 1 &&
	       t.ram[0x8000 + 12] == 0x33,
	   "with the tap's header (TSO, checksum to finish) and num_buffers 1");
	tap_card_free(&t);

	tap_card(&t, T_CSUM | T_MRG); // the driver took checksums, not TSO
	ok(write(t.peer, frame, sizeof(frame)) == (ssize_t)sizeof(frame), "(the tap sends a TSO frame)");
	frame[1] = 0; // then the same without segmentation
	ok(write(t.peer, frame, sizeof(frame)) == (ssize_t)sizeof(frame), "(and a frame without)");
	virtio_net_run(t.dev);
	used = t.ram + 0x2000;
	ok(used[2] == 1 && t.ram[0x8000 + 1] == 0,
	   "a TSO frame the driver did not take is dropped; the next one is delivered");
	// The interrupt status register (0x60): what the device raised, or "used buffers" always
	// while KVM takes a backend's interrupts itself (vhost-net's irqfd).
	uint32_t isr = 0;
	virtio_mmio_access(t.dev, 0x60, (uint8_t *)&isr, 4, false);
	ok(isr == 1, "a delivered frame raised 'used buffers'");
	virtio_mmio_access(t.dev, 0x64, (uint8_t *)&isr, 4, true); // the driver acknowledges it
	virtio_mmio_access(t.dev, 0x60, (uint8_t *)&isr, 4, false);
	ok(isr == 0, "acknowledged: the interrupt status reads 0");
	t.dev->irqfd = t.peer; // any fd: the register does not use it
	virtio_mmio_access(t.dev, 0x60, (uint8_t *)&isr, 4, false);
	ok(isr == 1, "with an irqfd: it reads 'used buffers'");
	t.dev->irqfd = -1;
	tap_card_free(&t);
}

// A UDP datagram from 192.0.2.10:40000 to 192.0.2.1:53 carrying "hello" (odd length), in an
// Ethernet frame, as a guest leaves it with VIRTIO_NET_F_CSUM: the checksum field holds the
// pseudo-header's folded sum (0x842a); the right checksum is 0x9b80 (worked out apart).
static void checksum_offload(void)
{
	uint8_t f[14 + 20 + 8 + 5] = {0};
	f[12] = 0x08;					    // IPv4
	uint8_t ip[20] = {0x45, 0, 0, 33, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 10, 192, 0, 2, 1};
	memcpy(f + 14, ip, sizeof(ip));
	uint8_t udp[8] = {40000 >> 8, 40000 & 0xff, 0, 53, 0, 13, 0x84, 0x2a};
	memcpy(f + 34, udp, sizeof(udp));
	memcpy(f + 42, "hello", 5);
	ok(virtio_net_finish_csum(f, sizeof(f), 34, 6) && f[40] == 0x9b && f[41] == 0x80,
	   "a checksum left to the device is finished over an odd-length datagram");
	uint8_t copy[sizeof(f)];
	memcpy(copy, f, sizeof(f));
	ok(!virtio_net_finish_csum(f, sizeof(f), 34, 12) && !memcmp(copy, f, sizeof(f)),
	   "a checksum field past the frame's end is refused, nothing written");
	ok(!virtio_net_finish_csum(f, sizeof(f), 0xffff, 0xffff), "so is a start past it");
}

// --network tap:NAME, --ip, --gateway, and the guest's address taken from the tap's.
static void tap_mode(void)
{
	struct vm_config cfg = {0};
	is(net_parse_mode("tap:cvtap0", &cfg), 0, "tap:NAME");
	ok(cfg.network == NETWORK_TAP && !strcmp(cfg.tap, "cvtap0"), "the tap's name kept");
	const char *bad_taps[] = {"tap:", "tap:sixteen-chars-xx", "tap:a/b", "tap:..", "tap:a b"};
	for (size_t i = 0; i < sizeof(bad_taps) / sizeof(bad_taps[0]); i++)
		ok(net_parse_mode(bad_taps[i], &cfg) < 0, "--network '%s' is refused", bad_taps[i]);
	uint32_t a = 0;
	unsigned p = 0;
	is(net_parse_ip("10.0.0.2/24", &a, &p), 0, "--ip ADDR/PREFIX");
	ok(a == 0x0a000002 && p == 24, "address and prefix");
	const char *bad_ips[] = {"10.0.0.2", "10.0.0.2/31", "10.0.0.2/0", "x/24", "10.0.0.2/24x",
				 "10.0.0.2/", "1.2.3.4.5.6.7.8.9/8", "10.0.0.2/ 24", "0.0.0.0/8"};
	for (size_t i = 0; i < sizeof(bad_ips) / sizeof(bad_ips[0]); i++)
		ok(net_parse_ip(bad_ips[i], &a, &p) < 0, "--ip '%s' is refused", bad_ips[i]);
	ok(net_parse_gateway("10.0.0.1", &a) == 0 && a == 0x0a000001, "--gateway ADDR");
	ok(net_parse_gateway("10.0.0", &a) < 0, "--gateway 10.0.0 is refused");
	uint8_t a6[16], g6[16];
	ok(net_parse_ip6("2001:db8::2/64", a6, &p) == 0 && a6[0] == 0x20 && a6[15] == 2 && p == 64,
	   "--ip ADDR6/PREFIX");
	const char *bad_ip6s[] = {"2001:db8::2", "2001:db8::2/128", "2001:db8::2/0", "::/64",
				  "2001:db8::g/64", "2001:db8::2/64x", "1.2.3.4/24"};
	for (size_t i = 0; i < sizeof(bad_ip6s) / sizeof(bad_ip6s[0]); i++)
		ok(net_parse_ip6(bad_ip6s[i], a6, &p) < 0, "--ip '%s' is refused", bad_ip6s[i]);
	ok(net_parse_gateway6("fe80::1", g6) == 0 && g6[0] == 0xfe && g6[15] == 1, "--gateway ADDR6");
	ok(net_parse_gateway6("::", g6) < 0 && net_parse_gateway6("fe80::1%eth0", g6) < 0,
	   "--gateway :: and a zone index are refused");
	net_tap_guest_addr6((const uint8_t[16]){0x20, 0x01, [15] = 1}, a6);
	ok(a6[0] == 0x20 && a6[15] == 2, "the tap's 2001::1: the guest gets 2001::2");
	net_tap_guest_addr6((const uint8_t[16]){0x20, 0x01, [14] = 3, [15] = 0xff}, a6);
	ok(a6[14] == 3 && a6[15] == 0xfe, "the tap's 2001::3ff: the guest gets 2001::3fe, no carry");
	enum vm_vhost_net v = VHOST_NET_AUTO;
	ok(net_parse_vhost("off", &v) == 0 && v == VHOST_NET_OFF, "--vhost-net off");
	ok(net_parse_vhost("on", &v) == 0 && v == VHOST_NET_ON, "--vhost-net on");
	ok(net_parse_vhost("auto", &v) == 0 && v == VHOST_NET_AUTO, "--vhost-net auto");
	ok(net_parse_vhost("yes", &v) < 0 && net_parse_vhost("", &v) < 0, "--vhost-net yes and '' are refused");
	is(net_tap_guest_addr(0x0a000001, 24), 0x0a000002u, "the tap's 10.0.0.1/24: 10.0.0.2");
	is(net_tap_guest_addr(0x0a0000fe, 24), 0x0a0000fdu,
	   "10.0.0.254/24: 10.0.0.253 (.255 is the broadcast)");
	is(net_tap_guest_addr(0x0a000006, 30), 0x0a000005u, "10.0.0.6/30: 10.0.0.5");
}

int main(void)
{
	struct vm_publish p;
	is(net_parse_publish("8080:80", &p), 0, "HOST:GUEST");
	ok(p.host_port == 8080 && p.guest_port == 80 && !p.udp && !p.host_ip[0],
	   "tcp on every address");
	is(net_parse_publish("127.0.0.1:5353:53/udp", &p), 0, "IP:HOST:GUEST/udp");
	ok(p.host_port == 5353 && p.guest_port == 53 && p.udp && !strcmp(p.host_ip, "127.0.0.1"),
	   "udp bound to 127.0.0.1");
	is(net_parse_publish("80:80/tcp", &p), 0, "/tcp");
	ok(!p.host_ip6 && !p.host_ip[0], "(no address: not IPv6)");
	is(net_parse_publish("[2001:db8::5]:5353:53/udp", &p), 0, "[IPV6]:HOST:GUEST/udp");
	ok(p.host_ip6 && !strcmp(p.host_ip, "2001:db8::5") && p.host_port == 5353 &&
	       p.guest_port == 53 && p.udp,
	   "udp bound to 2001:db8::5, the brackets gone");
	ok(net_parse_publish("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535:65535/udp", &p) == 0 &&
	       !strcmp(p.host_ip, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"),
	   "the longest IPv6 text fits");
	const char *bad[] = {"80",	   "0:80",	  "80:65536",	      "a:80",
			     "80:80/sctp", "1.2.3:80:80", "::1:80:80",	      "80:-1",
			     ":80",	   "80:",	  "1.2.3.4:80:80:80", "",
			     "[::1]8080:80", "[::1:80:80", "[1.2.3.4]:80:80", "[::1]:1:80:80",
			     "[]:80:80",   "[::1]:80",	  "[::g]:80:80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = net_parse_publish(bad[i], &p);
		ok(r < 0, "--publish '%s' is refused", bad[i]);
	}

	struct vm_config cfg = {0};
	is(cfg.network, NETWORK_NONE, "a zeroed config has no network");
	ok(net_parse_mode("passt", &cfg) == 0 && cfg.network == NETWORK_PASST, "--network passt");
	ok(net_parse_mode("none", &cfg) == 0 && cfg.network == NETWORK_NONE, "--network none");
	ok(net_parse_mode("bridge", &cfg) < 0, "--network bridge is refused");
	struct vm_config d = {0};
	ok(net_parse_dns("9.9.9.9", &d) == 0 && d.ndns == 1 && d.dns[0] == 0x09090909, "--dns 9.9.9.9");
	ok(net_parse_dns("2001:db8::53", &d) == 0 && d.ndns6 == 1 && d.dns6[0][0] == 0x20 &&
	       d.dns6[0][15] == 0x53,
	   "--dns 2001:db8::53: an IPv6 one");
	ok(net_parse_dns("dns.example", &d) < 0 && d.ndns + d.ndns6 == 2, "--dns takes addresses only");
	ok(net_parse_dns("10.0.0.1", &d) == 0 && net_parse_dns("10.0.0.2", &d) == -E2BIG && d.ndns == 2,
	   "three in all at most");

	const char *routes =
	    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	    "eth1\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
	    "eth2\t00000000\t0202000A\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
	    "eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
	    "eth3\t00000000\t010300C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n";
	char ifname[16];
	uint32_t gw;
	is(net_default_route(routes, ifname, sizeof(ifname), &gw), 0, "a default route is found");
	ok(!strcmp(ifname, "eth0") && gw == 0xc0000201,
	   "the lowest metric of those up: eth0 via 192.0.2.1");
	ok(net_default_route(routes, ifname, 4, &gw) < 0 || strlen(ifname) < 4,
	   "a name never overflows");
	is(net_default_route("Iface\tDestination\n", ifname, sizeof(ifname), &gw), -ENOENT,
	   "none: -ENOENT");
	is(net_default_route("", ifname, sizeof(ifname), &gw), -ENOENT, "an empty file: -ENOENT");

	// /proc/net/ipv6_route and /proc/net/if_inet6 as the test bed's kernel writes them.
	const char *routes6 =
	    "20010db8000000000000000000000000 40 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00000100 00000001 00000000 00000001   dummy0\n"
	    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	    "fe800000000000000000000000000009 00000200 00000000 00000000 00000003     eth1\n"
	    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	    "20010db8000000000000000000000002 00000800 00000000 00000000 00000003   dummy0\n"
	    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	    "20010db8000000000000000000000001 00000400 00000000 00000000 00000003   dummy0\n"
	    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 00000000 00000000 00000000 00000200       lo\n"
	    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	    "20010db8000000000000000000000003 00000001 00000000 00000000 00000002   dummy0\n";
	static const uint8_t gw1[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	uint8_t gw6[16];
	ok(net_default_route6(routes6, "dummy0", gw6) == 0 && !memcmp(gw6, gw1, 16),
	   "IPv6: the default route of dummy0 with the lowest metric, up: via 2001:db8::1");
	is(net_default_route6(routes6, "eth0", gw6), -ENOENT, "IPv6: none through eth0");
	is(net_default_route6(routes6, "lo", gw6), -ENOENT, "IPv6: an unreachable route is none");
	is(net_default_route6("00 00 zz\n", "dummy0", gw6), -ENOENT, "IPv6: a bad line is skipped");
	char name6[16] = "";
	static const uint8_t gw9[16] = {0xfe, 0x80, [15] = 9};
	ok(net_any_default_route6(routes6, name6, sizeof(name6), gw6) == 0 && !strcmp(name6, "eth1") &&
	       !memcmp(gw6, gw9, 16),
	   "IPv6: the default route of any interface with the lowest metric: eth1 via fe80::9");
	is(net_any_default_route6(routes6, name6, 4, gw6), -ENOENT,
	   "IPv6: a name that does not fit is passed over, never cut");
	is(net_any_default_route6("", name6, sizeof(name6), gw6), -ENOENT, "IPv6: none: -ENOENT");
	const char *inet6 =
	    "fe800000000000004c6b1cfffe5a3e77 03 40 20 80   dummy0\n"
	    "00000000000000000000000000000001 01 80 10 80       lo\n"
	    "20010db80000000000000000000000aa 03 40 00 40   dummy0\n"
	    "20010db8000000000000000000000010 03 40 00 80   dummy0\n"
	    "20010db8000000000000000000000011 03 38 00 80   dummy1\n";
	static const uint8_t addr10[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x10};
	uint8_t addr6[16];
	unsigned prefix6 = 0;
	ok(net_global_addr6(inet6, "dummy0", addr6, &prefix6) == 0 && !memcmp(addr6, addr10, 16) &&
	       prefix6 == 64,
	   "IPv6: dummy0's global address, not its link-local or tentative ones: 2001:db8::10/64");
	ok(net_global_addr6(inet6, "dummy1", addr6, &prefix6) == 0 && prefix6 == 56,
	   "IPv6: the prefix length is read in hex");
	is(net_global_addr6(inet6, "lo", addr6, &prefix6), -ENOENT, "IPv6: loopback's is not global");
	is(net_global_addr6("", "dummy0", addr6, &prefix6), -ENOENT, "IPv6: an empty file: -ENOENT");

	const char *resolv =
	    "# comment\nsearch example.com\nnameserver 127.0.0.53\n"
	    "nameserver   10.0.0.2\nnameserver fe80::1\noptions edns0\nnameserver 10.0.0.3\n"
	    "nameserver 10.0.0.4\n";
	uint32_t ns[3];
	is(net_nameservers(resolv, ns, 3), 3u, "three IPv4 nameservers at most");
	ok(ns[0] == 0x7f000035 && ns[1] == 0x0a000002 && ns[2] == 0x0a000003,
	   "in order, IPv6 skipped");
	is(net_nameservers("nameserver", ns, 3), 0u, "a bare keyword is no nameserver");
	uint8_t ns6[3][16];
	is(net_nameservers6(resolv, ns6, 3), 1u, "IPv6 nameservers: one among them");
	ok(ns6[0][0] == 0xfe && ns6[0][1] == 0x80 && ns6[0][15] == 1, "fe80::1, IPv4 skipped");
	is(net_nameservers6("nameserver ::1\nnameserver fe80::1%eth0\nnameserver 2001:db8::53\n", ns6, 1),
	   1u, "at most max");
	is(net_nameservers6("nameserver fe80::1%eth0\n", ns6, 3), 0u, "one with a zone index is none");

	struct vm_net n = {.gateway = 0xc0000201, .dns = {0xc0000201, 0x0a000002}, .ndns = 2};
	char *text = net_resolv_conf(&n, resolv);
	ok(text && strstr(text, "nameserver 192.0.2.1\nnameserver 10.0.0.2\n") &&
	       strstr(text, "search example.com\n") && strstr(text, "options edns0\n") &&
	       !strstr(text, "127.0.0.53"),
	   "resolv.conf: the guest's nameservers, the host's search and options");
	free(text);
	n.ndns6 = 1;
	memcpy(n.dns6[0], gw1, 16);
	text = net_resolv_conf(&n, resolv);
	ok(text && strstr(text, "nameserver 10.0.0.2\nnameserver 2001:db8::1\nsearch"),
	   "resolv.conf: IPv6 nameservers after IPv4's");
	free(text);
	checksum_offload();
	tap_mode();
	tap_headers();
	return tap_done();
}
