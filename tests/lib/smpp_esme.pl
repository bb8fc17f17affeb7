#!/usr/bin/perl
# An independent ESME for the flow tests: Debian's Net::SMPP (libnet-smpp-perl), not the
# toolkit's code. It binds as a transceiver, submits the SMS it is given, answers every
# deliver_sm (receipts and SMS) with deliver_sm_resp, prints one JSON object per PDU it
# reads, and unbinds once it has what it waits for.
#
#   smpp_esme.pl --host H --port P [--system-id ID] [--password PW]
#                [--submit 'FROM TO TEXT' [--receipt]]... [--receipts N] [--sms N]
#                [--deliver-status STATUS*COUNT] [--timeout S]
#
# Exit status: 0 done, 1 the bind was refused, 3 no answer within --timeout (or the
# connection closed first).
use strict;
use warnings;
use Getopt::Long;
use JSON::PP;
use Net::SMPP;

my ($host, $port, $system_id, $password) = ('127.0.0.1', 2775, 'esme', 'secret');
my (@submit, $receipt, $want_receipts, $want_sms, $deliver_status, $timeout);
$want_receipts = 0;
$want_sms = 0;
$timeout = 10;
GetOptions(
  'host=s' => \$host, 'port=i' => \$port, 'system-id=s' => \$system_id,
  'password=s' => \$password, 'submit=s' => \@submit, 'receipt' => \$receipt,
  'receipts=i' => \$want_receipts, 'sms=i' => \$want_sms,
  'deliver-status=s' => \$deliver_status, 'timeout=i' => \$timeout,
) or exit 2;

my $json = JSON::PP->new->canonical;
$| = 1;
sub out { print $json->encode($_[0]), "\n"; }

local $SIG{ALRM} = sub { out({ event => 'timeout' }); exit 3; };
alarm $timeout;

my $smpp = Net::SMPP->new_connect($host, port => $port, system_id => $system_id,
  password => $password, async => 1)
  or do { out({ event => 'connect-failed', error => "$!" }); exit 3; };
my $bind_seq = $smpp->bind_transceiver();

# A refused deliver_sm answer for the first COUNT deliveries: STATUS*COUNT.
my ($refuse_status, $refuse_count) = (0, 0);
if (defined $deliver_status) {
  ($refuse_status, $refuse_count) = split /\*/, $deliver_status;
  $refuse_status = oct($refuse_status) if $refuse_status =~ /^0/;
  $refuse_count //= 1;
}

my %names = (
  0x80000009 => 'bind_transceiver_resp', 0x80000004 => 'submit_sm_resp',
  0x00000005 => 'deliver_sm', 0x80000006 => 'unbind_resp', 0x00000006 => 'unbind',
  0x00000015 => 'enquire_link', 0x80000015 => 'enquire_link_resp',
  0x80000000 => 'generic_nack',
);
my ($submitted, $answered, $receipts, $sms, $unbinding) = (0, 0, 0, 0, 0);

sub done
{
  return $answered == scalar(@submit) && $receipts >= $want_receipts && $sms >= $want_sms;
}

while (1) {
  my $pdu = $smpp->read_pdu();
  if (!defined $pdu) {
    out({ event => 'closed' });
    exit($unbinding ? 0 : 3);
  }
  my $name = $names{ $pdu->{cmd} } // sprintf('0x%08x', $pdu->{cmd});
  my %o = (pdu => $name, seq => $pdu->{seq}, status => $pdu->{status});
  for my $k (qw(message_id system_id source_addr destination_addr esm_class data_coding
                registered_delivery short_message receipted_message_id)) {
    $o{$k} = $pdu->{$k} if defined $pdu->{$k} && $pdu->{$k} ne '';
  }
  $o{receipted_message_id} =~ s/\0$// if defined $o{receipted_message_id}; # a C-octet string
  $o{message_state} = unpack('C', $pdu->{message_state}) if defined $pdu->{message_state};
  out(\%o);

  if ($name eq 'bind_transceiver_resp') {
    exit 1 if $pdu->{status} != 0;
    for my $line (@submit) {
      my ($from, $to, $text) = split / /, $line, 3;
      $smpp->submit_sm(source_addr_ton => 1, source_addr_npi => 1, source_addr => $from,
        dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => $to,
        short_message => $text, registered_delivery => $receipt ? 1 : 0);
      $submitted++;
    }
  } elsif ($name eq 'submit_sm_resp') {
    $answered++;
  } elsif ($name eq 'deliver_sm') {
    if ($refuse_count > 0) {
      $refuse_count--;
      $smpp->deliver_sm_resp(message_id => '', seq => $pdu->{seq}, status => $refuse_status);
      next;
    }
    $smpp->deliver_sm_resp(message_id => '', seq => $pdu->{seq});
    if (($pdu->{esm_class} // 0) & 0x04) { $receipts++; } else { $sms++; }
  } elsif ($name eq 'enquire_link') {
    $smpp->enquire_link_resp(seq => $pdu->{seq});
  } elsif ($name eq 'unbind') {
    $smpp->unbind_resp(seq => $pdu->{seq});
    exit 0;
  } elsif ($name eq 'unbind_resp') {
    exit 0;
  }
  if (!$unbinding && done()) {
    $unbinding = 1;
    $smpp->unbind();
  }
}
