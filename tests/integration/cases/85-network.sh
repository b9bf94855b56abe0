# SPDX-License-Identifier: Apache-2.0
# The guest's network: passt by default (the guest copies the host's address, gateway and
# nameservers; host services on loopback are reached at the gateway; -p publishes guest
# ports), --network none for loopback only; passt ends with every run, however it ends.
# Only loopback and the test bed's own dummy link are involved (tests/testbed/init).
# Sourced by ../cases.sh: $root is a fresh copy of the test rootfs, $work this group's own.

gw=$(ip -4 route show default | awk '{print $3; exit}')
dev=$(ip -4 route show default | awk '{print $5; exit}')
addr=$(ip -4 -o addr show dev "$dev" | awk '{print $4; exit}')
cp "$build/tests/udpecho" "$root/bin/udpecho"
no_passt() { ! pgrep '^passt' > /dev/null; } # passt, or the passt.avx2 it runs
# fetched URL FILE: the host fetches URL into FILE, again until a guest's server answers (each
# attempt given 10 s: one that hangs is tried again).
fetched() { wait_until 60 sh -c "timeout 10 busybox wget -qO '$2' '$1' 2> /dev/null"; }

# A host service on loopback, fetched from the guest at the gateway's address.
mkdir -p "$work/www"
echo "served by the host" > "$work/www/index.html"
busybox httpd -f -p 127.0.0.1:18080 -h "$work/www" &
httpd=$!
check "(the host's web server is up)" wait_until 20 busybox wget -qO /dev/null http://127.0.0.1:18080/index.html
cvm --rootfs "$root" -- /bin/sh -c "ip addr show eth0 | awk '/inet /{print \$2}'; ip route | awk '/^default/{print \$3}'
	cat /sys/class/net/eth0/mtu; wget -qO- http://$gw:18080/index.html; grep -c . /etc/hosts; ls /sys/class/net
	cat /proc/sys/net/ipv4/conf/all/arp_notify" \
	> "$work/out" 2> "$work/err"; rc=$?
check "a run with the default network ends as asked (got $rc: $(head -c 300 "$work/err"))" test $rc = 0
check "eth0 has the host's address and prefix ($addr)" test "$(sed -n 1p "$work/out")" = "$addr"
check "the default route goes through the host's gateway ($gw)" test "$(sed -n 2p "$work/out")" = "$gw"
check "eth0's MTU is passt's 65520" test "$(sed -n 3p "$work/out")" = 65520
check "a host web server on loopback is fetched at the gateway's address" \
	test "$(sed -n 4p "$work/out")" = "served by the host"
check "eth0 announces itself when it comes up (arp_notify)" test "$(tail -n 1 "$work/out")" = 1
check "nothing on stderr" test ! -s "$work/err"
check "no passt is left after a normal end" no_passt
kill $httpd; wait $httpd 2> /dev/null

# DNS and names as docker gives them: the host's nameservers (one on the host's loopback is
# reached at the gateway), /etc/hosts with the container's name at its address.
expected=$(awk '$1 == "nameserver" && $2 ~ /^[0-9.]+$/ {print ($2 ~ /^127\./) ? gw : $2}' gw="$gw" /etc/resolv.conf |
	awk '!seen[$0]++' | head -3)
cvm --rootfs "$root" --hostname web-1 -- /bin/sh -c 'awk "\$1 == \"nameserver\" {print \$2}" /etc/resolv.conf
	echo --; cat /etc/hosts' > "$work/out"
check "resolv.conf lists the host's nameservers as the guest reaches them ($(echo $expected))" \
	test "$(sed '/^--$/,$d' "$work/out")" = "$expected"
check "/etc/hosts names the container at its address" grep -q "^${addr%/*}[[:space:]]web-1\$" "$work/out"
check "and localhost" grep -q '^127.0.0.1[[:space:]]localhost$' "$work/out"
check "the rootfs's own files are untouched" test -z "$(cat "$root/etc/resolv.conf")" -a \
	"$(cat "$root/etc/hosts")" = "$(printf '127.0.0.1\tlocalhost')"
cvm --rootfs "$root" --dns 2001:db8::54 --dns 192.0.2.53 -- /bin/cat /etc/resolv.conf > "$work/out"
check "--dns replaces them, IPv4 and IPv6 (got: $(echo $(grep ^nameserver "$work/out")))" \
	test "$(grep ^nameserver "$work/out" | tr '\n' ' ')" = "nameserver 192.0.2.53 nameserver 2001:db8::54 "

# A published TCP port: the host's 127.0.0.1:18081 reaches the guest's port 80. The host
# fetches until the guest's server answers; the guest ends after one request.
cvm --rootfs "$root" -p 127.0.0.1:18081:80 -- /bin/sh -c \
	'printf "HTTP/1.0 200 OK\r\nContent-Length: 20\r\n\r\nserved by the guest\n" | nc -l -p 80' \
	> /dev/null 2> "$work/err" &
pid=$!
check "(passt runs while the VM does)" wait_until 60 sh -c "pgrep '^passt' > /dev/null"
check "a published TCP port is served by the guest" \
	fetched 'http://127.0.0.1:18081/' "$work/fetched"
wait $pid; rc=$?
check "with the bytes it sent, and the run ends (got $rc)" test "$(cat "$work/fetched")" = "served by the guest" -a $rc = 0
check "no passt is left" no_passt

# A published UDP port, and UDP from the guest to a host service at the gateway.
cvm --rootfs "$root" -p 127.0.0.1:18053:53/udp -- /bin/udpecho serve 53 > /dev/null 2> "$work/err" &
pid=$!
check "a published UDP port answers from the guest" \
	wait_until 60 sh -c "'$build/tests/udpecho' send 127.0.0.1 18053 ping > '$work/out'"
wait $pid; rc=$?
check "with its bytes (got '$(cat "$work/out")', $rc)" test "$(cat "$work/out")" = echo:ping -a $rc = 0
"$build/tests/udpecho" serve 18054 &
server=$!
check "(the host's UDP service is up)" wait_until 20 sh -c 'ss -uln | grep -q ":18054 "'
cvm --rootfs "$root" -- /bin/udpecho send "$gw" 18054 hello > "$work/out"; rc=$?
check "UDP from the guest reaches a host service at the gateway (got '$(cat "$work/out")', $rc)" \
	test "$(cat "$work/out")" = echo:hello -a $rc = 0
kill $server 2> /dev/null; wait $server 2> /dev/null

# ICMP echo through passt to an address of the host's (made here, removed after).
ip addr add 192.0.2.99/32 dev lo
cvm --rootfs "$root" -- /bin/ping -c 1 -W 10 192.0.2.99 > "$work/out" 2>&1; rc=$?
check "ICMP echo to a host address is answered (got $rc: $(tail -n 1 "$work/out"))" test $rc = 0
ip addr del 192.0.2.99/32 dev lo

# IPv6, as passt offers it when the host's upstream interface has it (the test bed's dummy0
# has 2001:db8::10/64 and a default route): the guest gets the address and the route, a host
# service on [::1] is reached at the gateway, ICMPv6 echo to a host address (on lo, made
# here) is answered, and published ports are served over IPv6: one with no address (every one
# of the host's), one on [::1]. One boot: the guest serves last, one request a port, and the
# host fetches until it answers.
gw6=$(ip -6 route show default | awk '{print $3; exit}')
addr6=$(ip -6 -o addr show dev "$dev" scope global | awk '{print $4; exit}')
busybox httpd -f -p '[::1]:18086' -h "$work/www" &
httpd=$!
check "(the host's IPv6 web server is up)" wait_until 20 busybox wget -qO /dev/null 'http://[::1]:18086/index.html'
ip -6 addr add 2001:db8:99::99/128 dev lo
cvm --rootfs "$root" -p 18082:80 -p '[::1]:18083:81' -- /bin/sh -c "ip -6 -o addr show dev eth0 scope global | awk '{print \$4}'
	ip -6 route | awk '/^default/{print \$3}'; awk '\$1 == \"${addr6%/*}\" {print \$2}' /etc/hosts
	wget -qO- 'http://[$gw6]:18086/index.html'; ping -c 1 -W 10 2001:db8:99::99 > /dev/null && echo pong
	for p in 80 81; do printf 'HTTP/1.0 200 OK\r\nContent-Length: 15\r\n\r\nserved over v6\n' | nc -l -p \$p; done" \
	> "$work/out" 2> "$work/err" &
pid=$!
check "a published port is served by the guest over IPv6" \
	fetched 'http://[::1]:18082/' "$work/fetched"
check "and one published on [::1]" \
	fetched 'http://[::1]:18083/' "$work/fetched2"
wait $pid; rc=$?
check "an IPv6 run ends as asked (got $rc: $(head -c 300 "$work/err"))" test $rc = 0
check "eth0 has the host's IPv6 address and prefix ($addr6)" test "$(sed -n 1p "$work/out")" = "$addr6"
check "the IPv6 default route goes through the host's gateway ($gw6)" test "$(sed -n 2p "$work/out")" = "$gw6"
check "/etc/hosts names the container at its IPv6 address too" test "$(sed -n 3p "$work/out")" = clearvm
check "a host web server on [::1] is fetched at the IPv6 gateway" test "$(sed -n 4p "$work/out")" = "served by the host"
check "ICMPv6 echo to a host address is answered" test "$(sed -n 5p "$work/out")" = pong
check "the published ports' bytes over IPv6" test "$(cat "$work/fetched" "$work/fetched2")" = "$(printf 'served over v6\nserved over v6')"
ip -6 addr del 2001:db8:99::99/128 dev lo
kill $httpd; wait $httpd 2> /dev/null
# The host's IPv6 nameservers too (its resolv.conf replaced in a mount namespace of the test's
# own): ::1 is reached at the IPv6 gateway, a link-local one is left out.
printf 'nameserver 192.0.2.53\nnameserver ::1\nnameserver fe80::1\nnameserver 2001:db8::53\n' > "$work/resolv6"
unshare -m sh -c "mount --bind '$work/resolv6' /etc/resolv.conf && exec \"$build/clearvm\" --kernel \"$build/vmlinux\" \
	--initramfs \"$build/initramfs.cpio\" --timeout 120 --rootfs \"$root\" -- /bin/cat /etc/resolv.conf" > "$work/out"
check "resolv.conf lists the host's IPv6 nameservers after IPv4's (got: $(echo $(grep nameserver "$work/out")))" \
	test "$(awk '$1 == "nameserver" {print $2}' "$work/out" | tr '\n' ' ')" = "192.0.2.53 $gw6 2001:db8::53 "
# A host without an IPv6 default route: the guest gets IPv4 only (and still that).
ip -6 route del default
cvm --rootfs "$root" -- /bin/sh -c "ip -6 -o addr show dev eth0 scope global; ip addr show eth0 | awk '/inet /{print \$2}'" \
	> "$work/out" 2> "$work/err"; rc=$?
cvm --rootfs "$root" -p '[::1]:18084:80' -- /bin/true 2> "$work/err6"; rc6=$?
ip -6 route add default via "$gw6" dev "$dev"
check "without IPv6 on the host: the guest has IPv4 alone (got $rc: $(echo $(cat "$work/out" "$work/err")))" \
	test $rc = 0 -a "$(cat "$work/out")" = "$addr"
check "and a port published on an IPv6 address is 125 with one line (got $rc6: $(cat "$work/err6"))" \
	test $rc6 = 125 -a "$(wc -l < "$work/err6")" = 1
# An IPv6-only host (its IPv4 default route deleted): passt copies the interface of the IPv6
# default route and the guest has IPv6 alone: no IPv4 address, no IPv4 nameserver; a host
# service on [::1] is reached at the IPv6 gateway and a published port is served over IPv6. A
# port published on an IPv4 address is 125 with one line.
gw4=$(ip -4 route show default | awk '{print $3; exit}')
busybox httpd -f -p '[::1]:18087' -h "$work/www" &
httpd=$!
check "(the host's IPv6 web server is up)" wait_until 20 busybox wget -qO /dev/null 'http://[::1]:18087/index.html'
ip -4 route del default
cvm --rootfs "$root" -p 18088:80 -- /bin/sh -c "ip -4 -o addr show dev eth0 | wc -l
	ip -6 -o addr show dev eth0 scope global | awk '{print \$4}'; grep -c '^nameserver [0-9.]*\$' /etc/resolv.conf
	wget -qO- 'http://[$gw6]:18087/index.html'
	printf 'HTTP/1.0 200 OK\r\nContent-Length: 9\r\n\r\nv6 alone\n' | nc -l -p 80" > "$work/out" 2> "$work/err" &
pid=$!
check "an IPv6-only host: a published port is served by the guest over IPv6" \
	fetched 'http://[::1]:18088/' "$work/fetched"
wait $pid; rc=$?
cvm --rootfs "$root" -p '127.0.0.1:18089:80' -- /bin/true 2> "$work/err4"; rc4=$?
ip -6 route del default # and no default route at all
cvm --rootfs "$root" -- /bin/true 2> "$work/err0"; rc0=$?
ip -6 route add default via "$gw6" dev "$dev"
ip -4 route add default via "$gw4" dev "$dev"
kill $httpd; wait $httpd 2> /dev/null
check "the IPv6-only run ends as asked (got $rc: $(head -c 300 "$work/err"))" test $rc = 0
check "its guest has no IPv4 address and the host's IPv6 one (got: $(echo $(sed -n 1,2p "$work/out")))" \
	test "$(sed -n 1,2p "$work/out" | tr '\n' ' ')" = "0 $addr6 "
check "no IPv4 nameserver in its resolv.conf (got $(sed -n 3p "$work/out"))" test "$(sed -n 3p "$work/out")" = 0
check "a host web server on [::1] is fetched at the IPv6 gateway" test "$(sed -n 4p "$work/out")" = "served by the host"
check "the published port's bytes" test "$(cat "$work/fetched")" = "v6 alone"
check "and a port published on an IPv4 address is 125 with one line (got $rc4: $(cat "$work/err4"))" \
	test $rc4 = 125 -a "$(wc -l < "$work/err4")" = 1
check "a host with no default route at all: 125 with one line (got $rc0: $(cat "$work/err0"))" \
	test $rc0 = 125 -a "$(wc -l < "$work/err0")" = 1

# --network none: loopback only, no passt at all.
cvm --rootfs "$root" --network none -- /bin/ls /sys/class/net > "$work/out"; rc=$?
check "--network none: the guest has lo only (got '$(echo $(cat "$work/out"))', $rc)" test "$(cat "$work/out")" = lo -a $rc = 0
cvm --rootfs "$root" --network none -p 80:80 -- /bin/true 2> "$work/err"; rc=$?
check "--publish without a network is 125 with one line (got $rc)" test $rc = 125 -a "$(wc -l < "$work/err")" = 1

# passt missing: 125 and one line saying so, before any VM.
PATH=/nonexistent cvm --rootfs "$root" -- /bin/true 2> "$work/err"; rc=$?
check "no passt installed: 125 (got $rc)" test $rc = 125
check "with one line naming passt" test "$(wc -l < "$work/err")" = 1 -a -n "$(grep passt "$work/err")"

# passt ends with the run however it ends: the workload killed, --timeout, a guest panic.
cvm --rootfs "$root" -- /bin/sh -c 'kill -KILL $$'; rc=$?
check "a workload killed by SIGKILL: 137 (got $rc)" test $rc = 137
check "and no passt is left" no_passt
cvm --rootfs "$root" --timeout 3 -- /bin/sleep 100 2> /dev/null; rc=$?
check "--timeout: 125 (got $rc)" test $rc = 125
check "and no passt is left" no_passt
mkdir -p "$work/panic/bin"
cp /bin/busybox "$work/panic/bin/busybox"
printf '#!/bin/busybox sh\nexit 3\n' > "$work/panic/init"
chmod 755 "$work/panic/init"
(cd "$work/panic" && find . | cpio -o -H newc --quiet) > "$work/panic.cpio"
"$build/clearvm" --kernel "$build/vmlinux" --initramfs "$work/panic.cpio" --timeout 120 \
	--rootfs "$root" -- /bin/true 2> /dev/null; rc=$?
check "a guest panic: 125 (got $rc)" test $rc = 125
check "and no passt is left" no_passt

# --network tap:NAME (root): an existing tap with an address on the host's side (made here,
# removed at the end); the guest takes the next address and routes through the tap's. Frames
# cross the host's kernel, which checks the checksums and cuts the 64 KiB segments the guest
# left to it (TSO): through vhost-net (--vhost-net on: it must be used) and through clearvm's
# own copy (off), the same checks each. The tap has an IPv6 address too (usable at once:
# nodad), which the guest's IPv6 follows as its IPv4 does.
make_tap() {
	ip tuntap add dev cvtap0 mode tap && ip addr add 10.99.0.1/24 dev cvtap0 &&
		ip -6 addr add 2001:db8:7::1/64 dev cvtap0 nodad && ip link set cvtap0 up
}
make_tap
head -c 4194304 /dev/urandom > "$work/www/big"
busybox httpd -f -p 10.99.0.1:18090 -h "$work/www" &
httpd=$!
busybox httpd -f -p '[2001:db8:7::1]:18093' -h "$work/www" &
httpd6=$!
check "(a host web server on the tap's address is up)" \
	wait_until 20 sh -c 'busybox wget -qO /dev/null http://10.99.0.1:18090/index.html 2> /dev/null'
# One host TCP sink for both runs: the Nth connection's bytes go to uploaded.N.
python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.99.0.1", 18091)); s.listen(1); s.settimeout(300)
for n in (1, 2):
    c, _ = s.accept()
    with open(sys.argv[1] + ".part", "wb") as f:
        for d in iter(lambda: c.recv(65536), b""): f.write(d)
    c.close()
    __import__("os").rename(sys.argv[1] + ".part", sys.argv[1] + "." + str(n))' "$work/uploaded" &
upload=$!
check "(a host TCP sink on the tap's address is up)" wait_until 60 sh -c 'ss -tln | grep -q "10.99.0.1:18091 "'
n=0
for vhost in on off; do
	n=$((n + 1))
	cvm --rootfs "$root" --network tap:cvtap0 --vhost-net $vhost -- /bin/sh -c "
		ip addr show eth0 | awk '/inet /{print \$2}'
		ip route | awk '/^default/{print \$3}'; cat /sys/class/net/eth0/mtu
		wget -qO- http://10.99.0.1:18090/index.html; ping -c 1 -W 10 10.99.0.1 > /dev/null && echo pong
		wget -qO- http://10.99.0.1:18090/big | md5sum | cut -d' ' -f1
		head -c 4194304 /dev/urandom > /upload; md5sum < /upload | cut -d' ' -f1
		nc 10.99.0.1 18091 < /upload
		ip -6 -o addr show dev eth0 scope global | awk '{print \$4}'; ip -6 route | awk '/^default/{print \$3}'
		wget -qO- 'http://[2001:db8:7::1]:18093/index.html'" > "$work/out" 2> "$work/err"; rc=$?
	wait_until 60 test -f "$work/uploaded.$n"
	v="vhost-net $vhost:"
	check "$v a run on a tap ends as asked (got $rc: $(head -c 300 "$work/err"))" test $rc = 0
	check "$v eth0 has the next address after the tap's" test "$(sed -n 1p "$work/out")" = 10.99.0.2/24
	check "$v the default route goes through the tap's address" test "$(sed -n 2p "$work/out")" = 10.99.0.1
	check "$v eth0's MTU is the tap's" test "$(sed -n 3p "$work/out")" = "$(cat /sys/class/net/cvtap0/mtu)"
	check "$v a host web server on the tap's address is fetched" test "$(sed -n 4p "$work/out")" = "served by the host"
	check "$v the tap's address answers ICMP echo" test "$(sed -n 5p "$work/out")" = pong
	check "$v 4 MiB from the host arrive intact" test "$(sed -n 6p "$work/out")" = "$(md5sum < "$work/www/big" | cut -d' ' -f1)"
	check "$v 4 MiB from the guest arrive intact" test "$(sed -n 7p "$work/out")" = "$(md5sum < "$work/uploaded.$n" | cut -d' ' -f1)"
	check "$v eth0 has the next IPv6 address after the tap's" test "$(sed -n 8p "$work/out")" = 2001:db8:7::2/64
	check "$v the IPv6 default route goes through the tap's address" test "$(sed -n 9p "$work/out")" = 2001:db8:7::1
	check "$v a host web server on the tap's IPv6 address is fetched" test "$(sed -n 10p "$work/out")" = "served by the host"
done
wait $upload
check "no passt for a tap" no_passt
kill $httpd $httpd6; wait $httpd $httpd6 2> /dev/null
cvm --rootfs "$root" --network tap:cvtap0 --ip 10.99.0.77/24 --gateway 10.99.0.1 --ip 2001:db8:7::77/64 -- /bin/sh -c \
	'for i in 1 2; do printf "HTTP/1.0 200 OK\r\nContent-Length: 20\r\n\r\nserved by the guest\n" | nc -l -p 80; done' \
	> /dev/null 2> "$work/err" &
pid=$!
check "the host reaches a guest's server at its --ip address" \
	fetched 'http://10.99.0.77/' "$work/fetched"
check "and at its IPv6 --ip address" \
	fetched 'http://[2001:db8:7::77]/' "$work/fetched6"
wait $pid; rc=$?
check "with the bytes it sent, and the run ends (got $rc)" \
	test "$(cat "$work/fetched" "$work/fetched6")" = "$(printf 'served by the guest\nserved by the guest')" -a $rc = 0
check "the tap is left as it was found" test "$(ip -4 -o addr show dev cvtap0 | awk '{print $4}')" = 10.99.0.1/24 -a \
	"$(ip -6 -o addr show dev cvtap0 scope global | awk '{print $4}')" = 2001:db8:7::1/64
# A tap with IPv6 alone: so has the guest.
ip addr del 10.99.0.1/24 dev cvtap0
cvm --rootfs "$root" --network tap:cvtap0 -- /bin/sh -c "ip -4 -o addr show dev eth0 | wc -l
	ip -6 -o addr show dev eth0 scope global | awk '{print \$4}'
	ping -c 1 -W 10 2001:db8:7::1 > /dev/null && echo pong" > "$work/out" 2> "$work/err"; rc=$?
ip -6 addr del 2001:db8:7::1/64 dev cvtap0 # and with none
cvm --rootfs "$root" --network tap:cvtap0 -- /bin/true 2> "$work/err0"; rc0=$?
ip addr add 10.99.0.1/24 dev cvtap0 && ip -6 addr add 2001:db8:7::1/64 dev cvtap0 nodad
check "a tap with IPv6 alone: the guest has no IPv4 address, the next IPv6 one, and reaches the tap's (got $rc: $(echo $(cat "$work/out" "$work/err")))" \
	test $rc = 0 -a "$(cat "$work/out" | tr '\n' ' ')" = "0 2001:db8:7::2/64 pong "
check "a tap with no address and no --ip: 125 and one line (got $rc0: $(cat "$work/err0"))" \
	test $rc0 = 125 -a "$(wc -l < "$work/err0")" = 1
cvm --rootfs "$root" --network tap:cvtap-none -- /bin/true 2> "$work/err"; rc=$?
check "a tap that does not exist: 125 and one line (got $rc)" test $rc = 125 -a "$(wc -l < "$work/err")" = 1
cvm --rootfs "$root" --network tap:"$dev" -- /bin/true 2> "$work/err"; rc=$?
check "an interface that is no tap: 125 and one line (got $rc: $(cat "$work/err"))" \
	test $rc = 125 -a "$(wc -l < "$work/err")" = 1
# Without a usable /dev/vhost-net (here /dev/null in its place, in a mount namespace of the
# test's own): --vhost-net on is refused with one line, auto goes on without it.
unshare -m sh -c "mount --bind /dev/null /dev/vhost-net && \"$build/clearvm\" --kernel \"$build/vmlinux\" \
	--initramfs \"$build/initramfs.cpio\" --timeout 120 --rootfs \"$root\" --network tap:cvtap0 \
	--vhost-net on -- /bin/true" 2> "$work/err"; rc=$?
check "--vhost-net on without vhost-net: 125 and one line (got $rc: $(cat "$work/err"))" \
	test $rc = 125 -a "$(wc -l < "$work/err")" = 1
unshare -m sh -c "mount --bind /dev/null /dev/vhost-net && \"$build/clearvm\" --kernel \"$build/vmlinux\" \
	--initramfs \"$build/initramfs.cpio\" --timeout 120 --rootfs \"$root\" --network tap:cvtap0 \
	-- /bin/sh -c 'ping -c 1 -W 10 10.99.0.1 > /dev/null && echo pong'" > "$work/out" 2> "$work/err"; rc=$?
check "--vhost-net auto without it: the run goes on, through clearvm (got $rc: $(cat "$work/err"))" \
	test $rc = 0 -a "$(cat "$work/out")" = pong
# A tap deleted under a running guest ends the run with 125, whichever path moves the frames;
# vhost-net is used where it opens (auto: its worker thread, vhost-PID, runs), and not when off.
for vhost in auto off; do
	cvm --rootfs "$root" --network tap:cvtap0 --vhost-net $vhost -- /bin/sh -c 'echo up; sleep 600' \
		> "$work/out" 2> "$work/err" &
	pid=$!
	check "vhost-net $vhost: (the guest runs)" wait_until 60 grep -q up "$work/out"
	workers=$(ps -eo comm | grep -c '^vhost-')
	if [ $vhost = auto ]; then
		check "vhost-net auto: a vhost-net worker serves the guest" test "$workers" = 1
	else
		check "vhost-net off: no vhost-net worker" test "$workers" = 0
	fi
	ip link del cvtap0
	wait $pid; rc=$?
	check "vhost-net $vhost: a tap deleted under the guest: 125 (got $rc: $(cat "$work/err"))" \
		sh -c "test $rc = 125 && grep -q 'the tap went away' '$work/err'"
	make_tap
done
ip link del cvtap0

# Many runs in a row leave no process and no socket behind (from templates only: cold boots
# make it minutes).
if [ -z "${CLEARVM_TEST_COLD:-}" ]; then
	sockets=$(wc -l < /proc/net/unix)
	fails=0
	for i in $(seq 100); do cvm --rootfs "$root" -- /bin/true || fails=$((fails + 1)); done
	check "100 runs in a row succeed (failed: $fails)" test $fails = 0
	check "and leave no passt" no_passt
	check "and no socket (unix sockets: $sockets before, $(wc -l < /proc/net/unix) after)" \
		test "$(wc -l < /proc/net/unix)" -le "$sockets"
fi
