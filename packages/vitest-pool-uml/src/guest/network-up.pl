# Configures the guest's network card with ioctls, for userlands without iproute2 (Debian's
# minbase has perl-base, not ip): renames it, sets its address, netmask and MTU, brings it up and
# adds the default route. perl network-up.pl FROM TO ADDRESS NETMASK MTU GATEWAY
use strict;
use warnings;
use Socket qw(AF_INET SOCK_DGRAM inet_aton);

my ($from, $name, $address, $netmask, $mtu, $gateway) = @ARGV;
die "usage: network-up.pl FROM TO ADDRESS NETMASK MTU GATEWAY\n" if !defined $gateway;
# From <linux/sockios.h> and <linux/if.h>.
my %ioctl = (SIOCGIFFLAGS => 0x8913, SIOCSIFFLAGS => 0x8914, SIOCSIFADDR => 0x8916,
  SIOCSIFNETMASK => 0x891c, SIOCSIFMTU => 0x8922, SIOCSIFNAME => 0x8923, SIOCADDRT => 0x890b);
my $IFF_UP = 0x1;
my $RTF_UP_GATEWAY = 0x3;

socket(my $socket, AF_INET, SOCK_DGRAM, 0) or die "socket: $!\n";
sub request { my ($what, $data) = @_; ioctl($socket, $ioctl{$what}, $data) or die "$what: $!\n"; $data }
sub ifreq { pack('a16 a16', $_[0], $_[1]) }
sub sockaddr_in4 { pack('S n a4 x8', AF_INET, 0, inet_aton($_[0]) // die "bad address $_[0]\n") }

request(SIOCSIFNAME => ifreq($from, pack('a16', $name))) if $from ne $name;
request(SIOCSIFADDR => ifreq($name, sockaddr_in4($address)));
request(SIOCSIFNETMASK => ifreq($name, sockaddr_in4($netmask)));
request(SIOCSIFMTU => ifreq($name, pack('i', $mtu)));
my $flags = unpack('x16 s', request(SIOCGIFFLAGS => ifreq($name, '')));
request(SIOCSIFFLAGS => ifreq($name, pack('s', $flags | $IFF_UP)));
# struct rtentry on x86_64 (120 bytes): rt_pad1, rt_dst, rt_gateway, rt_genmask, rt_flags, the rest zero.
request(SIOCADDRT => pack('x8 a16 a16 a16 S', sockaddr_in4('0.0.0.0'), sockaddr_in4($gateway),
  sockaddr_in4('0.0.0.0'), $RTF_UP_GATEWAY) . "\0" x 62);
