#!/usr/bin/perl
# An independent SMSC for the IWF's flow tests: Debian's Net::SMPP (libnet-smpp-perl), not
# the toolkit's code. It listens, binds any ESME as a transceiver, answers submit_sm with
# message ids m1, m2..., prints one JSON line per SMS submitted, sends a delivery receipt
# (receipted_message_id and message_state TLVs and the Appendix B text, stat --stat) for
# each that asked for one, and, once bound, delivers each --inject 'FROM TO TEXT' as an SMS
# asking for a status report. It serves one connection at a time until killed.
# --hold N leaves the first N submit_sm unanswered (no submit_sm_resp, no receipt; their
# line says "held":1), as an SMSC that took the PDU and had no time to answer.
#
#   smpp_smsc.pl --host H --port P [--stat DELIVRD|UNDELIV] [--hold N]
#                [--inject 'FROM TO TEXT']...
#
# The line "listening" on stdout says it is ready.
use strict;
use warnings;
use Getopt::Long;
use JSON::PP;
use Net::SMPP;

my ($host, $port, $stat, $hold, @inject) = ('127.0.0.1', 2775, 'DELIVRD', 0);
GetOptions('host=s' => \$host, 'port=i' => \$port, 'stat=s' => \$stat, 'hold=i' => \$hold,
  'inject=s' => \@inject)
  or exit 2;
my %state = (DELIVRD => 2, EXPIRED => 3, DELETED => 4, UNDELIV => 5, REJECTD => 8);
my $json = JSON::PP->new->canonical;
$| = 1;
sub out { print $json->encode($_[0]), "\n"; }

my $listen = Net::SMPP->new_listen($host, port => $port) or die "listen: $!";
out({ event => 'listening' });
my $n = 0;
while (my $c = $listen->accept) {
  while (my $pdu = $c->read_pdu()) {
    my $cmd = $pdu->{cmd};
    if ($cmd == Net::SMPP::CMD_bind_transceiver) {
      $c->bind_transceiver_resp(seq => $pdu->{seq}, system_id => 'perl-smsc');
      out({ event => 'bound', system_id => $pdu->{system_id} });
      for my $i (@inject) {
        my ($from, $to, $text) = split / /, $i, 3;
        $c->deliver_sm(source_addr_ton => 1, source_addr_npi => 1, source_addr => $from,
          dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => $to,
          registered_delivery => 1, short_message => $text, async => 1);
      }
      @inject = ();
    } elsif ($cmd == Net::SMPP::CMD_submit_sm && $hold > 0) {
      $hold--;
      out({ event => 'submit_sm', held => 1, from => $pdu->{source_addr},
        to => $pdu->{destination_addr}, esm_class => $pdu->{esm_class},
        registered_delivery => $pdu->{registered_delivery}, text => $pdu->{short_message} });
    } elsif ($cmd == Net::SMPP::CMD_submit_sm) {
      my $id = 'm' . ++$n;
      $c->submit_sm_resp(seq => $pdu->{seq}, message_id => $id);
      out({ event => 'submit_sm', id => $id, from => $pdu->{source_addr},
        to => $pdu->{destination_addr}, esm_class => $pdu->{esm_class},
        registered_delivery => $pdu->{registered_delivery},
        data_coding => $pdu->{data_coding}, text => $pdu->{short_message} });
      if (($pdu->{registered_delivery} // 0) & 1) {
        my $text = "id:$id sub:001 dlvrd:001 submit date:2611291200 done date:2611291200 "
          . "stat:$stat err:000 text:";
        $c->deliver_sm(source_addr_ton => 1, source_addr_npi => 1,
          source_addr => $pdu->{destination_addr}, dest_addr_ton => 1, dest_addr_npi => 1,
          destination_addr => $pdu->{source_addr}, esm_class => 0x04,
          short_message => $text, receipted_message_id => "$id\0",
          message_state => pack('C', $state{$stat} // 7), async => 1);
      }
    } elsif ($cmd == Net::SMPP::CMD_enquire_link) {
      $c->enquire_link_resp(seq => $pdu->{seq});
    } elsif ($cmd == Net::SMPP::CMD_unbind) {
      $c->unbind_resp(seq => $pdu->{seq});
      out({ event => 'unbind' });
      last;
    } elsif ($cmd == Net::SMPP::CMD_deliver_sm_resp) {
      out({ event => 'deliver_sm_resp', status => $pdu->{status} });
    } else {
      $c->generic_nack(seq => $pdu->{seq}, status => 3);
    }
  }
  close $c;
}
