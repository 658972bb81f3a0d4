# The network option, sourced by init.sh: the host connected the guest's card (vec0) to its
# user-mode stack and put its settings on the kernel's command line, which the kernel hands to
# init as environment variables:
#   vitest_uml_net=ADDRESS/PREFIX,GATEWAY,MTU,HOSTNAME  vitest_uml_dns=ADDRESS  vitest_uml_proxy=URL
# Files are bound over /etc from a tmpfs, so an image being built is left as it was.
IFS=, read -r net_address net_gateway net_mtu net_hostname <<EOF_NET
$vitest_uml_net
EOF_NET
net_ip=${net_address%/*}
net_mask=$(case ${net_address#*/} in 8) echo 255.0.0.0 ;; 16) echo 255.255.0.0 ;; *) echo 255.255.255.0 ;; esac)
if command -v perl >/dev/null; then
  perl /run/vitest-uml/agent/network-up.pl vec0 eth0 "$net_ip" "$net_mask" "$net_mtu" "$net_gateway"
else
  ip link set vec0 name eth0 && ip link set eth0 mtu "$net_mtu" up &&
    ip addr add "$net_address" dev eth0 && ip route add default via "$net_gateway"
fi || echo "vitest-uml: the network card could not be configured" > /dev/console
# The link to the host is fast but each round trip waits for the guest's 100 Hz timer: TCP needs
# larger windows than Linux's defaults to fill it (measured: 10 MB/s with them, 60+ with these).
echo 4096 1048576 16777216 > /proc/sys/net/ipv4/tcp_rmem
echo 4096 1048576 16777216 > /proc/sys/net/ipv4/tcp_wmem
echo 16777216 > /proc/sys/net/core/rmem_max
echo 16777216 > /proc/sys/net/core/wmem_max
net_files=/dev/shm/vitest-uml-network
mkdir -p "$net_files"
net_bind() {
  [ -f "$2" ] || : > "$2"
  mount --bind "$1" "$2"
}
{ [ -f /etc/hosts ] && cat /etc/hosts; echo "$net_gateway $net_hostname"; } > "$net_files/hosts"
net_bind "$net_files/hosts" /etc/hosts
if [ -n "$vitest_uml_dns" ]; then
  # single-request: slirp4netns answered the parallel A and AAAA queries of getaddrinfo only after
  # glibc's 5 s timeout (measured); one at a time, both come at once.
  printf 'nameserver %s\noptions single-request\n' "$vitest_uml_dns" > "$net_files/resolv.conf"
else
  # No DNS: names are resolved by the allow-list's proxy on the host, or not at all.
  : > "$net_files/resolv.conf"
fi
net_bind "$net_files/resolv.conf" /etc/resolv.conf
if [ -n "$vitest_uml_proxy" ]; then
  export http_proxy="$vitest_uml_proxy" https_proxy="$vitest_uml_proxy"
  export HTTP_PROXY="$vitest_uml_proxy" HTTPS_PROXY="$vitest_uml_proxy" no_proxy="localhost,127.0.0.1,$net_gateway,$net_hostname"
fi
unset -f net_bind
unset net_address net_gateway net_mtu net_hostname net_ip net_mask net_files
