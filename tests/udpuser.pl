#!/usr/bin/perl
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# What a local user can do with UDP sockets, for tests/68-udp-clients.t; run as that user.
# Each mode prints "ready ..." once set up, then "got DATA" for every datagram its last socket
# receives, until killed:
#   take PORT PEER   bind(127.0.0.1:0) again and again until the kernel gives PORT, then send
#                    to PEER (ADDR:PORT) from it: a client that chose its port
#   rebind PEER      send to PEER (port A), disconnect (connect AF_UNSPEC), bind A explicitly
#   handoff PEER     send to PEER from socket S1 (port A), disconnect S1, bind S2 to A
#   move PEER        send to PEER (port A), disconnect, send again until the kernel gives
#                    another port B; "ready A B"
#   send PEER        send to PEER from a port the kernel gives; "ready PORT"
#   repeat PEER      the same, and again every 0.1 s
#   fill N PEER...   N sockets, each sending to every PEER; "ready"; receives nothing
use strict;
use warnings;
use Socket qw(:DEFAULT inet_aton pack_sockaddr_in unpack_sockaddr_in);
use IO::Select;

$| = 1;
my $mode = shift // die "usage: udpuser.pl MODE ARGS...\n";

sub addr {
	my ($peer) = @_;
	my ($ip, $port) = $peer =~ /^(.*):(\d+)$/ or die "bad peer $peer\n";
	return pack_sockaddr_in($port, inet_aton($ip));
}

sub udp {
	socket(my $s, AF_INET, SOCK_DGRAM, 0) or die "socket: $!\n";
	return $s;
}

sub port_of { (unpack_sockaddr_in(getsockname($_[0])))[0] }

sub disconnect { connect($_[0], pack('S x14', AF_UNSPEC)) or die "disconnect: $!\n" }

sub listen_on { # listen_on SOCKET [PEER]: prints what it gets; sends to PEER every 0.1 s
	my ($s, $peer) = @_;
	my $sel = IO::Select->new($s);
	while (1) {
		send($s, 'x', MSG_DONTWAIT, $peer) if $peer;
		next unless $sel->can_read($peer ? 0.1 : 1);
		my $buf = '';
		recv($s, $buf, 512, 0) // next;
		print "got $buf\n";
	}
}

if ($mode eq 'take') {
	my ($want, $peer) = @ARGV;
	my $s;
	for (1 .. 1_000_000) {
		$s = udp();
		bind($s, pack_sockaddr_in(0, inet_aton('127.0.0.1'))) or die "bind: $!\n";
		last if port_of($s) == $want;
		close($s);
		undef $s;
	}
	die "never got port $want\n" unless $s;
	send($s, 'x', 0, addr($peer));
	print "ready $want\n";
	listen_on($s);
} elsif ($mode eq 'rebind' || $mode eq 'handoff') {
	my ($peer) = @ARGV;
	my $s = udp();
	send($s, 'x', 0, addr($peer)) or die "send: $!\n";
	my $port = port_of($s);
	disconnect($s);
	my $bound = $mode eq 'rebind' ? $s : udp();
	bind($bound, pack_sockaddr_in($port, inet_aton('127.0.0.1'))) or die "bind $port: $!\n";
	print "ready $port\n";
	listen_on($bound);
} elsif ($mode eq 'move') {
	my ($peer) = @ARGV;
	my $s = udp();
	send($s, 'x', 0, addr($peer)) or die "send: $!\n";
	my $first = port_of($s);
	my $now = $first;
	while ($now == $first) {
		disconnect($s);
		send($s, 'x', 0, addr($peer)) or die "send: $!\n";
		$now = port_of($s);
	}
	print "ready $first $now\n";
	listen_on($s);
} elsif ($mode eq 'send' || $mode eq 'repeat') {
	my ($peer) = @ARGV;
	my $s = udp();
	send($s, 'x', 0, addr($peer)) or die "send: $!\n";
	print "ready " . port_of($s) . "\n";
	listen_on($s, $mode eq 'repeat' ? addr($peer) : undef);
} elsif ($mode eq 'fill') {
	my ($n, @peers) = @ARGV;
	my @socks;
	for (1 .. $n) {
		my $s = udp();
		send($s, 'x', MSG_DONTWAIT, addr($_)) for @peers;
		push @socks, $s;
	}
	print "ready $n\n";
	sleep 1 while 1;
} else {
	die "udpuser.pl: unknown mode $mode\n";
}
