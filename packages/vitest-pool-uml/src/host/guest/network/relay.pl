# The wall between a guest's network card and the user-mode network stack (slirp4netns).
#
# It runs in a sandbox of its own on the host (see network-helper.ts), starts slirp4netns, and
# passes Ethernet frames between the guest's UML process and slirp4netns, one SOCK_SEQPACKET
# packet per frame in both directions. Frames from the guest are checked first: only what the
# policy on the command line admits goes on; a refused TCP segment is answered at once with a
# reset (ECONNREFUSED in the guest), anything else refused with an ICMP "administratively
# prohibited" (EHOSTUNREACH), and reported on stdout. slirp4netns maps the gateway (10.0.2.2) to
# the host's loopback: only the mapped ports get there, their port rewritten on the way.
#
# Perl because Node.js has no SOCK_SEQPACKET sockets and perl-base is on every Debian host; this
# script uses nothing beyond it.
#
# perl relay.pl DIR CIDR MTU [--outbound] [--dns] [--deny CIDR]... [--map GUESTPORT:HOSTPORT]...
# stdout: "ready" once the guest may connect to DIR/uml.sock, then "refused PROTO SRC DST PORT".
use strict;
use warnings;
use Errno qw(EAGAIN EINTR EWOULDBLOCK);
use Fcntl qw(F_GETFL F_SETFD F_SETFL O_NONBLOCK);
use POSIX ();
use Socket qw(AF_UNIX SOCK_SEQPACKET pack_sockaddr_un inet_aton);

# Frames queued per direction while the other side is busy; more are read only as these drain.
my $QUEUE = 256;
# Refusals reported on stdout at most; the rest are only counted.
my $REPORTS = 100;

my ($dir, $network, $mtu) = splice(@ARGV, 0, 3);
die "usage: relay.pl DIR CIDR MTU [options]\n" if !defined $mtu;
my (%map, %unmap, @deny);
my ($outbound, $dns) = (0, 0);
while (@ARGV) {
  my $option = shift @ARGV;
  if ($option eq '--outbound') { $outbound = 1 }
  elsif ($option eq '--dns') { $dns = 1 }
  elsif ($option eq '--deny') { push @deny, cidr(shift @ARGV) }
  elsif ($option eq '--map') {
    my ($guest, $host) = (shift @ARGV // '') =~ /^(\d+):(\d+)$/ or die "bad --map\n";
    $map{$guest} = $host;
    $unmap{$host} = $guest;
  }
  else { die "unknown option $option\n" }
}
my $subnet = cidr($network);
# As slirp4netns numbers them: the gateway (the host) is the network address + 2, DNS + 3.
my $gateway = pack('N', $subnet->[0] + 2);
my $dns_server = pack('N', $subnet->[0] + 3);

sub cidr {
  my ($address, $bits) = ($_[0] // '') =~ m{^([\d.]+)/(\d+)$} or die "bad CIDR $_[0]\n";
  my $mask = $bits == 0 ? 0 : (0xffffffff << (32 - $bits)) & 0xffffffff;
  return [unpack('N', inet_aton($address) // die "bad CIDR $_[0]\n") & $mask, $mask];
}

sub in_cidr {
  my ($address, $range) = @_;
  return (unpack('N', $address) & $range->[1]) == $range->[0];
}

$| = 1;
$SIG{PIPE} = 'IGNORE';

# slirp4netns listens on DIR/slirp.sock and ends when the pipe it polls (--exit-fd) closes, that
# is when this process ends, however it ends.
pipe(my $exit_read, my $exit_write) or die "pipe: $!";
my $slirp_pid = fork() // die "fork: $!";
if ($slirp_pid == 0) {
  close $exit_write;
  if (fileno($exit_read) == 3) { fcntl($exit_read, F_SETFD, 0) or die "fcntl: $!" }
  else { POSIX::dup2(fileno($exit_read), 3) or die "dup2: $!" }
  POSIX::dup2(2, 1);
  exec('slirp4netns', '--target-type=bess', "--mtu=$mtu", "--cidr=$network", '--exit-fd=3', "$dir/slirp.sock")
    or die "cannot run slirp4netns: $!\n";
}
close $exit_read;

my $slirp = connect_when_listening("$dir/slirp.sock");
socket(my $listener, AF_UNIX, SOCK_SEQPACKET, 0) or die "socket: $!";
bind($listener, pack_sockaddr_un("$dir/uml.sock")) or die "bind $dir/uml.sock: $!";
listen($listener, 1) or die "listen: $!";
print "ready\n";
accept(my $guest, $listener) or die "accept: $!";
close $listener;
# Neither socket needs its name any more: nothing is left on the host file system.
unlink "$dir/uml.sock", "$dir/slirp.sock";

sub connect_when_listening {
  my ($path) = @_;
  socket(my $socket, AF_UNIX, SOCK_SEQPACKET, 0) or die "socket: $!";
  for (1 .. 500) {
    return $socket if connect($socket, pack_sockaddr_un($path));
    die "slirp4netns ended before it listened\n" if waitpid($slirp_pid, POSIX::WNOHANG()) == $slirp_pid;
    select(undef, undef, undef, 0.005);
  }
  die "slirp4netns did not listen on $path within 2.5 s\n";
}

for my $socket ($guest, $slirp) {
  fcntl($socket, F_SETFL, fcntl($socket, F_GETFL, 0) | O_NONBLOCK) or die "fcntl: $!";
}

my (@to_slirp, @to_guest);
my ($reported, $refused) = (0, 0);
while (1) {
  my ($readable, $writable) = ('', '');
  vec($readable, fileno($guest), 1) = 1 if @to_slirp < $QUEUE && @to_guest < $QUEUE;
  vec($readable, fileno($slirp), 1) = 1 if @to_guest < $QUEUE;
  vec($writable, fileno($slirp), 1) = 1 if @to_slirp;
  vec($writable, fileno($guest), 1) = 1 if @to_guest;
  if (select($readable, $writable, undef, undef) < 0) {
    next if $!{EINTR};
    die "select: $!";
  }
  if (vec($readable, fileno($guest), 1)) {
    while (@to_slirp < $QUEUE && @to_guest < $QUEUE && defined(my $frame = receive($guest))) {
      from_guest($frame);
    }
  }
  if (vec($readable, fileno($slirp), 1)) {
    while (@to_guest < $QUEUE && defined(my $frame = receive($slirp))) {
      push @to_guest, from_slirp($frame);
    }
  }
  flush($slirp, \@to_slirp);
  flush($guest, \@to_guest);
}

# One frame, or undef when none is waiting; the end of either side ends the relay.
sub receive {
  my ($socket) = @_;
  my $length = sysread($socket, my $frame, 65536);
  if (!defined $length) {
    return undef if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
    exit 0;
  }
  exit 0 if $length == 0;
  return $frame;
}

sub flush {
  my ($socket, $queue) = @_;
  while (@$queue) {
    if (!defined syswrite($socket, $queue->[0])) {
      return if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
      exit 0;
    }
    shift @$queue;
  }
}

sub from_guest {
  my ($frame) = @_;
  return if length($frame) < 14;
  my $type = unpack('n', substr($frame, 12, 2));
  # ARP is how the guest finds the gateway's address; slirp4netns answers it.
  return push(@to_slirp, $frame) if $type == 0x0806;
  # IPv6 and anything else: the guest's network is IPv4 only.
  return if $type != 0x0800 || length($frame) < 34;
  my ($version_ihl, $fragment, $protocol) = unpack('C x5 n x C', substr($frame, 14, 10));
  my $header = ($version_ihl & 0x0f) * 4;
  return if $version_ihl >> 4 != 4 || $header < 20 || length($frame) < 14 + $header;
  my $destination = substr($frame, 30, 4);
  # Ports only where the first fragment carries them.
  my $whole = ($fragment & 0x3fff) == 0;
  my $port = $whole && ($protocol == 6 || $protocol == 17) && length($frame) >= 14 + $header + 4
    ? unpack('n', substr($frame, 14 + $header + 2, 2)) : undef;
  if ($destination eq $gateway) {
    if ($protocol == 6 && defined $port && exists $map{$port}) {
      rewrite_port($frame, $header, 2, $map{$port});
      return push @to_slirp, $frame;
    }
  }
  elsif ($destination eq $dns_server) {
    return push @to_slirp, $frame if $dns && defined $port && $port == 53;
  }
  elsif (in_cidr($destination, $subnet)) {
    # Nothing else lives on the guest's network; broadcasts (DHCP) are dropped silently.
    return;
  }
  elsif ($outbound && !grep { in_cidr($destination, $_) } @deny) {
    return push @to_slirp, $frame;
  }
  refuse($frame, $header, $protocol, $port);
}

# Frames from slirp4netns: the mapped ports on the gateway turn back into the guest's.
sub from_slirp {
  my ($frame) = @_;
  return $frame if !%unmap || length($frame) < 38 || unpack('n', substr($frame, 12, 2)) != 0x0800;
  my ($version_ihl, $fragment, $protocol) = unpack('C x5 n x C', substr($frame, 14, 10));
  my $header = ($version_ihl & 0x0f) * 4;
  return $frame if $protocol != 6 || ($fragment & 0x3fff) != 0 || substr($frame, 26, 4) ne $gateway;
  return $frame if length($frame) < 14 + $header + 20;
  my $port = unpack('n', substr($frame, 14 + $header, 2));
  rewrite_port($frame, $header, 0, $unmap{$port}) if exists $unmap{$port};
  return $frame;
}

# Sets a TCP port (at offset 0: source, 2: destination) and updates the checksum (RFC 1624).
sub rewrite_port {
  my ($frame, $header, $offset, $new) = @_;
  my $tcp = 14 + $header;
  my $old = unpack('n', substr($frame, $tcp + $offset, 2));
  my $sum = (~unpack('n', substr($frame, $tcp + 16, 2)) & 0xffff) + (~$old & 0xffff) + $new;
  $sum = ($sum & 0xffff) + ($sum >> 16) while $sum >> 16;
  substr($_[0], $tcp + $offset, 2) = pack('n', $new);
  substr($_[0], $tcp + 16, 2) = pack('n', ~$sum & 0xffff);
}

sub refuse {
  my ($frame, $header, $protocol, $port) = @_;
  my $ip = substr($frame, 14, $header);
  my ($source, $destination) = (substr($ip, 12, 4), substr($ip, 16, 4));
  $refused++;
  if ($reported < $REPORTS) {
    $reported++;
    my $name = $protocol == 6 ? 'tcp' : $protocol == 17 ? 'udp' : $protocol == 1 ? 'icmp' : "ip$protocol";
    printf "refused %s %s %s %s\n", $name, dotted($source), dotted($destination), $port // '-';
  }
  my $ethernet = substr($frame, 6, 6) . substr($frame, 0, 6) . pack('n', 0x0800);
  if ($protocol == 6 && defined $port) {
    my $segment = substr($frame, 14 + $header);
    return if length($segment) < 20;
    my ($source_port, $destination_port, $seq, $ack, $offset_flags) = unpack('n n N N n', $segment);
    my $flags = $offset_flags & 0x3f;
    return if $flags & 0x04;
    my $payload = length($segment) - (($offset_flags >> 12) * 4);
    $payload = 0 if $payload < 0;
    # A reset the guest accepts: for a SYN, acknowledging it; otherwise at the sequence it expects.
    my ($reset_seq, $reset_ack, $reset_flags) = $flags & 0x10
      ? ($ack, 0, 0x04)
      : (0, ($seq + $payload + ($flags & 0x02 ? 1 : 0) + ($flags & 0x01 ? 1 : 0)) & 0xffffffff, 0x14);
    my $tcp = pack('n n N N n n n n', $destination_port, $source_port, $reset_seq, $reset_ack,
      (5 << 12) | $reset_flags, 0, 0, 0);
    substr($tcp, 16, 2) = pack('n', checksum($destination . $source . pack('n n', 6, length $tcp) . $tcp));
    push @to_guest, $ethernet . ipv4($destination, $source, 6, $tcp);
    return;
  }
  # No ICMP error about an ICMP error; otherwise the original header and 8 bytes, as RFC 792 says.
  if ($protocol == 1) {
    my $type = length($frame) > 14 + $header ? unpack('C', substr($frame, 14 + $header, 1)) : 0;
    return if $type != 0 && $type != 8 && $type != 13 && $type != 15 && $type != 17;
  }
  my $icmp = pack('C C n N', 3, 13, 0, 0) . substr($frame, 14, $header + 8);
  substr($icmp, 2, 2) = pack('n', checksum($icmp));
  push @to_guest, $ethernet . ipv4($gateway, $source, 1, $icmp);
}

sub ipv4 {
  my ($source, $destination, $protocol, $payload) = @_;
  my $header = pack('C C n n n C C n', 0x45, 0, 20 + length $payload, 0, 0x4000, 64, $protocol, 0) . $source . $destination;
  substr($header, 10, 2) = pack('n', checksum($header));
  return $header . $payload;
}

sub checksum {
  my ($data) = @_;
  $data .= "\0" if length($data) % 2;
  my $sum = 0;
  $sum += $_ for unpack('n*', $data);
  $sum = ($sum & 0xffff) + ($sum >> 16) while $sum >> 16;
  return ~$sum & 0xffff;
}

sub dotted { join '.', unpack('C4', $_[0]) }
